// `npm run test:soak`: builds the library and the soak spec, starts the fake CrateDB control server,
// runs spec/soak/soak.spec.ts (Node by default; `--lanes node,deno,bun` for others) and ends with
// the line `N passed, M failed`. Env: SOAK_QUERIES (20000), SOAK_IN_FLIGHT (32).
import { build } from "esbuild";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { buildLibrary } from "../../build.mjs";
import { bundleSpecs, mochaArgs, root } from "../runtimes/bundle.mjs";
import { runLane, startControl } from "../runtimes/process.mjs";
import { exitFlushed } from "../runtimes/exit.mjs";

const args = process.argv.slice(2);
const lanes = (args.includes("--lanes") ? args[args.indexOf("--lanes") + 1] : "node").split(",");
const out = join(root, "build/soak");
const ENTRY = { node: "node", deno: "deno", bun: "bun" };

function laneCommand(lane, file) {
  if (lane === "node") return [process.execPath, mochaArgs([file])];
  if (lane === "deno") return [join(root, "node_modules/.bin/deno"), ["run", "-A", ...mochaArgs([file])]];
  return [join(root, "node_modules/.bin/bun"), ["--bun", ...mochaArgs([file])]];
}

async function bundle(lane) {
  const outdir = join(out, lane);
  await bundleSpecs({ entry: ENTRY[lane], outdir, platform: lane === "node" ? "node" : "neutral", entryPoints: [join(root, "spec/soak/soak.spec.ts")] });
  return join(outdir, "soak.spec.mjs");
}



const started = Date.now();
rmSync(out, { recursive: true, force: true });
// npm test has built dist/ already when it runs the soak as its last step.
if (!process.env.SOAK_NO_BUILD) await buildLibrary({ types: false });
await build({
  entryPoints: [join(root, "spec/support/control-server.ts")],
  outfile: join(out, "control-server.mjs"),
  bundle: true, format: "esm", platform: "node", target: "es2022", external: ["node:*"], logLevel: "warning",
});
const control = await startControl(join(out, "control-server.mjs"));
let passed = 0;
let failed = 0;
try {
  for (const lane of lanes) {
    if (!(lane in ENTRY)) {
      console.log(`${lane}: unknown lane (node, deno, bun)`);
      failed++;
      continue;
    }
    console.log(`\n=== soak: ${lane} ===`);
    const r = await runLane(`soak: ${lane}`, ...laneCommand(lane, await bundle(lane)), { CRATEDB_FETCH_CONTROL: control.url, DENO_DIR: join(root, ".deno"), DENO_NO_UPDATE_CHECK: "1" });
    console.log(`${lane}: ${r.passed} passed, ${r.failed} failed, ${r.notApplicable} not applicable`);
    passed += r.passed;
    failed += r.failed;
  }
} finally {
  control.stop();
}
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`${passed} passed, ${failed} failed`);
exitFlushed(failed === 0 ? 0 : 1);
