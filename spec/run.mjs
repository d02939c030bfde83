// `npm test`: builds the library and the specs, type-checks, starts the fake CrateDB control
// server, runs every lane and ends with the line `N passed, M failed` that CI reads.
import { build } from "esbuild";
import { spawn, execFileSync } from "node:child_process";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { buildLibrary } from "../build.mjs";

const root = new URL("..", import.meta.url).pathname;
const args = process.argv.slice(2);
const laneArg = args.includes("--lanes") ? args[args.indexOf("--lanes") + 1] : undefined;
const grep = args.includes("--grep") ? args[args.indexOf("--grep") + 1] : undefined;
const LANES = ["node", "deno", "bun", "workerd", "chromium"];
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

function startControl() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "build/support/control-server.mjs")], { stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: child.stdout });
    lines.on("line", (line) => {
      const m = /^CONTROL_URL=(\S+)/.exec(line);
      if (m) resolve({ url: m[1], stop: () => child.kill("SIGTERM") });
    });
    child.once("exit", (code) => reject(new Error(`control server exited (${code})`)));
  });
}

function runLane(name, command, argv, env) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
    let result;
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^LANE_RESULT (.*)$/.exec(line);
      const total = /^(\d+) passed, (\d+) failed$/.exec(line);
      if (m) result = JSON.parse(m[1]);
      else if (total) result = { passed: Number(total[1]), failed: Number(total[2]), notApplicable: 0 };
      else console.log(line);
    });
    child.once("close", (code) => {
      if (!result) {
        console.log(`${name}: the lane ended (exit ${code}) without a result`);
        result = { passed: 0, failed: 1, notApplicable: 0 };
      } else if (code !== 0 && result.failed === 0) {
        result.failed = 1;
      }
      resolve(result);
    });
  });
}

const started = Date.now();
await buildLibrary();
await buildSpecs();
const results = [["typecheck", typecheck()]];
const control = await startControl();
try {
  const env = { CRATEDB_FETCH_CONTROL: control.url };
  for (const lane of lanes) {
    console.log(`\n=== ${lane} ===`);
    if (lane === "soak") results.push(["soak", await runLane("soak", process.execPath, [join(root, "spec/soak/run.mjs"), "--lanes", "node"], { SOAK_NO_BUILD: "1" })]);
    else if (LANES.includes(lane)) results.push([lane, await runLane(lane, process.execPath, [join(root, "spec/runtimes", `${lane}.mjs`)], { ...env, ...(grep ? { SPEC_GREP: grep } : {}) })]);
    else results.push([lane, { passed: 0, failed: 1, notApplicable: 0 }]), console.log(`${lane}: unknown lane`);
  }
} finally {
  control.stop();
}
console.log("");
let passed = 0;
let failed = 0;
for (const [name, r] of results) {
  console.log(`${name}: ${r.passed} passed, ${r.failed} failed, ${r.notApplicable} not applicable`);
  passed += r.passed;
  failed += r.failed;
}
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
