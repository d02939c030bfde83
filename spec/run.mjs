// `npm test`: builds the library and the specs, type-checks, starts the fake CrateDB control
// server, runs every lane and ends with the line `N passed, M failed` that CI reads.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { buildLibrary } from "../build.mjs";
import { runLane, startControl } from "./runtimes/process.mjs";
import { exitFlushed } from "./runtimes/exit.mjs";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const laneArg = args.includes("--lanes") ? args[args.indexOf("--lanes") + 1] : undefined;
const grep = args.includes("--grep") ? args[args.indexOf("--grep") + 1] : undefined;
// `proxy`: the failover, chaos and blob specs in Node through real nginx and HAProxy (spec/runtimes/proxy.mjs).
// `docs`: every code block of README.md and docs/*.md against the embedded test server (spec/docs/run-blocks.mjs).
// `lowest-peers`: the Kysely and Drizzle specs in Node against the lowest kysely/drizzle-orm the peer ranges allow.
const LANES = ["node", "deno", "bun", "workerd", "chromium", "proxy", "lowest-peers", "docs"];
const laneScript = (lane) => join(root, lane === "docs" ? "spec/docs/run-blocks.mjs" : `spec/runtimes/${lane}.mjs`);
// The soak (20 000 queries against a 3-node cluster losing a node twice) runs last, on Node.
const DEFAULT_LANES = [...LANES, "soak"];
const lanes = laneArg ? laneArg.split(",") : DEFAULT_LANES;

const specFiles = readdirSync(join(root, "spec")).filter((f) => f.endsWith(".spec.ts")).map((f) => join(root, "spec", f));

async function buildSpecs() {
  rmSync(join(root, "build/spec"), { recursive: true, force: true });
  await build({
    entryPoints: specFiles,
    outdir: join(root, "build/spec"),
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform: "node",
    target: "es2022",
    external: ["cratedb-fetch", "chai", "mocha", "node:*"],
    sourcemap: "inline",
    logLevel: "warning",
  });
  await build({
    entryPoints: [join(root, "spec/support/control-server.ts")],
    outfile: join(root, "build/support/control-server.mjs"),
    bundle: true, format: "esm", platform: "node", target: "es2022", external: ["node:*"], logLevel: "warning",
  });
}

function typecheck() {
  const tsc = join(root, "node_modules/.bin/tsc");
  try {
    execFileSync(tsc, ["-p", join(root, "tsconfig.json"), "--noEmit"], { stdio: "inherit" });
    execFileSync(tsc, ["-p", join(root, "spec/tsconfig.json")], { stdio: "inherit" });
    return { passed: 1, failed: 0, notApplicable: 0 };
  } catch {
    return { passed: 0, failed: 1, notApplicable: 0 };
  }
}



const started = Date.now();
await buildLibrary();
await buildSpecs();
const results = [["typecheck", typecheck()]];
const control = await startControl(join(root, "build/support/control-server.mjs"));
try {
  const env = { CRATEDB_FETCH_CONTROL: control.url };
  for (const lane of lanes) {
    console.log(`\n=== ${lane} ===`);
    if (lane === "soak") results.push(["soak", await runLane("soak", process.execPath, [join(root, "spec/soak/run.mjs"), "--lanes", "node"], { SOAK_NO_BUILD: "1" })]);
    else if (LANES.includes(lane)) results.push([lane, await runLane(lane, process.execPath, [laneScript(lane)], { ...env, ...(grep ? { SPEC_GREP: grep } : {}) })]);
    else results.push([lane, { passed: 0, failed: 1, notApplicable: 0, failures: ["unknown lane"] }]), console.log(`${lane}: unknown lane`);
  }
} finally {
  control.stop();
}
console.log("");
let passed = 0;
let failed = 0;
for (const [name, r] of results) {
  console.log(`${name}: ${r.passed} passed, ${r.failed} failed, ${r.notApplicable} not applicable`);
  for (const [part, p] of Object.entries(r.parts ?? {})) console.log(`  ${name}/${part}: ${p.passed} passed, ${p.failed} failed, ${p.notApplicable} not applicable`);
  passed += r.passed;
  failed += r.failed;
}
// Failures are listed again here, next to the closing line, so a log that keeps only its tail names them.
const failures = results.flatMap(([name, r]) => (r.failures ?? []).map((f) => `${name}: ${f}`));
if (failures.length) console.log(`failing:\n${failures.map((f) => `  ${f}`).join("\n")}`);
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`${passed} passed, ${failed} failed`);
exitFlushed(failed === 0 ? 0 : 1);
