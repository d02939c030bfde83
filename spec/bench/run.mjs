// The benchmark suite: `npm run bench` (a few minutes) or `npm run bench -- --quick` (< 60 s).
// Options: --quick, --no-build (use the existing dist/), --only a,b (scenario names: bundle-size,
// cold-import, point-c1, point-c32, small-c8, large-decode, bulk-insert, stream, decode-only, runtimes).
// Environment: BENCH_PIN=0 (no CPU pinning) or BENCH_PIN=<client cpu>,<server cpu>; BENCH_INPROCESS=1
// and BENCH_CLIENTS=a,b (node-scenarios.mjs); BENCH_HOLD_PREVIOUS=0 (worker.mjs: no client keeps its
// previous large-decode/bulk result reachable during the next measured call; by default every client does,
// as an app holding its rows does and raw node:http does by itself; a full run also measures large-decode
// with 0 and reports it beside). `node spec/bench/chart.mjs` redraws the chart from results.json.
//
// Builds dist/ and snapshots it to build/bench/snap (so a concurrent rebuild cannot change what is
// measured mid-run), starts spec/bench/server.mjs (a separate process), runs every scenario in
// child processes (Node ones with --expose-gc; each client in a process of its own, interleaved in
// many short rounds, medians and paired per-round ratios with 90 % bootstrap intervals reported, raw
// node:http run twice as an A/A pair for the noise floor), then prints markdown tables, writes them to
// build/bench/results.md (and the raw numbers to results.json), draws build/bench/bench.svg (chart.mjs;
// a full run without --only also copies it to docs/img/bench.svg) and ends with one `bench:` line.
// Where `taskset` works, the server runs on one CPU and every client process on another (pin.mjs).
// Every loop is bounded by count and time; only 127.0.0.1 is used; every child is killed at the
// end, also on error or Ctrl-C.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { bundleSizes } from "./bundle.mjs";
import { renderChart } from "./chart.mjs";
import { BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, median, pairedRatio } from "./common.mjs";
import { pinning } from "./pin.mjs";
import { report } from "./report.mjs";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "../..");
const here = join(root, "spec/bench");
const out = join(root, "build/bench");
// The snapshot is a package (package.json + dist/) under node_modules, so that bundling
// `import "cratedb-fetch"` from snapRoot goes through the real `exports` map and `sideEffects`.
const snapRoot = join(out, "snap");
const snapPkg = join(snapRoot, "node_modules/cratedb-fetch");
const snap = join(snapPkg, "dist");
const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const only = argv.includes("--only") ? new Set(argv[argv.indexOf("--only") + 1].split(",")) : undefined;
const want = (s) => only === undefined || only.has(s);
const started = performance.now();
const node = process.execPath;
const bin = (name) => join(root, "node_modules/.bin", name);
const pin = pinning();

// ---------------------------------------------------------------- child processes

const children = new Set();
function killAll() {
  for (const c of children) {
    try {
      c.kill("SIGKILL");
    } catch {}
  }
  children.clear();
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => { killAll(); process.exit(130); });
process.on("uncaughtException", (err) => { killAll(); console.error(err); process.exit(1); });
process.on("unhandledRejection", (err) => { killAll(); console.error(err); process.exit(1); });

/** Runs a child to completion (bounded by `timeoutMs`); returns stdout. Rejects on failure. */
function run(cmd0, args0, { timeoutMs = 120_000, env, label = args0.join(" ") } = {}) {
  return new Promise((resolve, reject) => {
    const [cmd, args] = pin.wrap("client", cmd0, args0);
    // BENCH_DIST: the Node clients load the snapshot's node.js (clients.mjs).
    const child = spawn(cmd, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...(env ?? process.env), BENCH_DIST: snap } });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${label}: killed after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on("error", (err) => { clearTimeout(timer); children.delete(child); reject(err); });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (code === 0) resolve(stdout);
      else reject(new Error(`${label}: exit ${code ?? signal}\n${stderr}${stdout}`));
    });
  });
}

function resultOf(stdout, label) {
  const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
  if (line === undefined) throw new Error(`${label}: no RESULT line in\n${stdout}`);
  return JSON.parse(line.slice(7));
}

function startServer() {
  const child = spawn(...pin.wrap("server", node, [join(here, "server.mjs"), "--stdin-lifeline"]), { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  children.add(child);
  child.on("exit", () => children.delete(child));
  return new Promise((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => reject(new Error("bench server did not start within 60 s")), 60_000);
    child.stdout.on("data", (d) => {
      buf += d;
      const m = /BENCH_URL=(http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    });
    child.on("exit", (code) => reject(new Error(`bench server exited (${code})`)));
  });
}

const log = (msg) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);

// ---------------------------------------------------------------- build, snapshot, server

mkdirSync(out, { recursive: true });
const load0 = loadavg();
log(`${quick ? "quick" : "full"} run; load average ${load0.map((l) => l.toFixed(2)).join(" ")}`);
log(pin.note);
const serverP = startServer();
serverP.catch(() => {});
if (!argv.includes("--no-build")) {
  await run(node, ["build.mjs", "--no-types"], { label: "node build.mjs --no-types" });
  log("built dist/");
}
rmSync(snapRoot, { recursive: true, force: true });
mkdirSync(snapPkg, { recursive: true });
cpSync(join(root, "dist"), snap, { recursive: true, filter: (src) => !src.endsWith(".map") });
cpSync(join(root, "package.json"), join(snapPkg, "package.json"));
// dist/node.js and the chunks it may load (ESM dist is split): every .js of the snapshot, in name order.
const distHash = (() => {
  const h = createHash("sha256");
  const files = (dir, rel = "") => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name), `${rel}${e.name}/`) : e.name.endsWith(".js") ? [`${rel}${e.name}`] : []);
  for (const f of files(snap).sort()) h.update(f).update(readFileSync(join(snap, f)));
  return h.digest("hex").slice(0, 12);
})();
const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
const dirty = spawnSync("git", ["status", "--porcelain", "lib"], { cwd: root, encoding: "utf8" }).stdout.trim() !== "";
await build({ entryPoints: [join(here, "decode.ts")], bundle: true, format: "esm", platform: "neutral", target: "es2022",
  outfile: join(out, "decode.mjs"), logLevel: "warning" });

const results = { quick, git, bootstrap: { seed: BOOTSTRAP_SEED, resamples: BOOTSTRAP_RESAMPLES, level: 0.9 }, libDirty: dirty, distHash, nodeVersion: process.versions.node, loadStart: load0, pinning: pin.note };

// ---------------------------------------------------------------- bundle-size

if (want("bundle-size")) {
  results.bundle = await bundleSizes(root, snapRoot);
  log(`bundle-size: ${results.bundle.rows.map((r) => `${r.name.replace(/`/g, "")} ${r.gzip ?? r.na}`).join("; ")}`);
}

// ---------------------------------------------------------------- cold-import (before the server is busy)

const { url } = await serverP;
log(`server at ${url}`);

if (want("cold-import")) {
  // The timed commands print nothing (writing to stdout costs a few ms of its own); how long the import
  // takes inside the process is measured by separate runs after the timed rounds.
  const IMPORT = "node --input-type=module -e \"await import('cratedb-fetch')\"";
  // What Node's ESM loader costs for any file: importing an empty module (the floor under IMPORT).
  const empty = join(out, "empty.mjs");
  writeFileSync(empty, "");
  const EMPTY = "node --input-type=module -e \"await import('./build/bench/empty.mjs')\"";
  // The lite entry once the lead adds it: by its export when mapped, else by file.
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const liteSpec = pkg.exports?.["./lite"] !== undefined ? "cratedb-fetch/lite" : "./dist/lite.js";
  const LITE = `node --input-type=module -e "await import('${liteSpec}')"`;
  const cmds = [
    { name: 'node -e ""', args: ["-e", ""] },
    { name: IMPORT, args: ["--input-type=module", "-e", "await import('cratedb-fetch')"] },
    ...(existsSync(join(root, "dist/lite.js")) ? [{ name: LITE, lite: true, args: ["--input-type=module", "-e", `await import('${liteSpec}')`] }] : []),
    { name: EMPTY, args: ["--input-type=module", "-e", "await import('./build/bench/empty.mjs')"] },
    ...(quick ? [] : [
      { name: 'node --input-type=module -e ""', args: ["--input-type=module", "-e", ""] },
      { name: "node -e \"require('node-crate')\"", args: ["-e", "require('node-crate')"] },
    ]),
  ];
  const resolved = spawnSync(node, ["--input-type=module", "-e", "console.log(import.meta.resolve('cratedb-fetch'))"], { cwd: root, encoding: "utf8" }).stdout.trim();
  const wall = Object.fromEntries(cmds.map((c) => [c.name, []]));
  const imp = [];
  // Every round runs each command once, next to each other: Δ is the median over rounds of each command's
  // time minus the bare `node` time of the same round, which cancels the drift of a busy machine.
  const rounds = quick ? 10 : 25;
  for (let i = -1; i < rounds; i++) {
    for (const c of (i & 1) ? cmds : [...cmds].reverse()) {
      const t = performance.now();
      const r = spawnSync(node, c.args, { cwd: root, encoding: "utf8", timeout: 10_000 });
      const ms = performance.now() - t;
      if (r.status !== 0) throw new Error(`${c.name} failed (${r.status ?? r.signal})`);
      if (i < 0) continue;
      wall[c.name].push(ms);
    }
  }
  for (let i = 0; i < (quick ? 5 : 10); i++) {
    const r = spawnSync(node, ["--input-type=module", "-e", "const t = performance.now(); await import('cratedb-fetch'); console.log(performance.now() - t)"],
      { cwd: root, encoding: "utf8", timeout: 10_000 });
    imp.push(Number(r.stdout.trim()));
  }
  const same = readFileSync(join(root, "dist/node.js")).equals(readFileSync(join(snap, "node.js")));
  const bareRuns = wall['node -e ""'];
  results.coldImport = { resolved, sameAsSnapshot: same, rounds, full: IMPORT, lite: cmds.some((c) => c.lite) ? LITE : undefined, empty: EMPTY, wall: Object.fromEntries(Object.entries(wall).map(([k, v]) => [k, median(v)])),
    delta: Object.fromEntries(Object.entries(wall).map(([k, v]) => [k, median(v.map((ms, j) => ms - bareRuns[j]))])),
    spread: Object.fromEntries(Object.entries(wall).map(([k, v]) => [k, [Math.min(...v), Math.max(...v)]])), importMs: median(imp) };
  log("cold-import done");
}

// ---------------------------------------------------------------- network scenarios (Node)

results.node = {};
for (const s of ["point-c1", "point-c32", "small-c8", "large-decode", "bulk-insert"]) {
  if (!want(s)) continue;
  const stdout = await run(node, ["--expose-gc", join(here, "node-scenarios.mjs"), s, url, ...(quick ? ["--quick"] : [])],
    { timeoutMs: quick ? 30_000 : 240_000, label: s });
  const r = resultOf(stdout, s);
  results.node[s] = r.data;
  results.mode = r.mode;
  log(`${s} done`);
}
if (want("large-decode") && !quick && process.env.BENCH_HOLD_PREVIOUS !== "0") {
  // The same scenario with no client holding its previous result: how much of each client's time is the
  // heap size V8 picks (reported beside, not a target).
  const stdout = await run(node, ["--expose-gc", join(here, "node-scenarios.mjs"), "large-decode", url],
    { timeoutMs: 240_000, label: "large-decode (nothing held)", env: { ...process.env, BENCH_HOLD_PREVIOUS: "0" } });
  results.node["large-decode, nothing held"] = resultOf(stdout, "large-decode").data;
  log("large-decode (nothing held) done");
}

if (want("large-decode")) {
  const probes = [
    ["raw node:http", "safe"], ["raw fetch", "safe"], ["cratedb-fetch", "safe"], ["cratedb-fetch (fetch)", "safe"], ["node-crate", "safe"],
    ["raw node:http", "unsafe"], ['cratedb-fetch int64:"bigint"', "unsafe"],
  ];
  const reps = quick ? 1 : 3;
  const mem = {};
  // Memory is not a timing: with --quick two probes run at once.
  const jobs = [];
  for (let i = 0; i < reps; i++) jobs.push(...probes);
  const probe = async ([name, kind]) => {
    const stdout = await run(node, ["--expose-gc", join(here, "mem.mjs"), name, url, kind, root], { timeoutMs: 30_000, label: `mem ${name}` });
    const key = kind === "unsafe" ? `${name} (unsafe)` : name;
    (mem[key] ??= []).push(resultOf(stdout, key));
  };
  const lanes = quick ? 2 : 1;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (jobs.length > 0) await probe(jobs.shift());
  }));
  results.memory = Object.fromEntries(Object.entries(mem).map(([k, v]) => [k, {
    peakRssDelta: median(v.map((x) => x.peakRssDelta)), retainedHeap: median(v.map((x) => x.retainedHeap)) }]));
  log("memory probes done");
}

// ---------------------------------------------------------------- stream (fresh process per measurement)

if (want("stream")) {
  // query() of the whole result vs stream() at the default batchSize and at 10 000, interleaved, one
  // process each; the ratio to query() is paired by repetition (the three ran next to each other).
  const modes = [["query", undefined], ["stream", undefined], ["stream", 10000]];
  const reps = quick ? 1 : 5;
  const got = {};
  for (let i = 0; i < reps; i++) {
    for (const [mode, batch] of i % 2 === 0 ? modes : [...modes].reverse()) {
      const key = batch === undefined ? mode : `${mode} batchSize ${batch}`;
      const args = ["--expose-gc", join(here, "stream.mjs"), mode, url, snap, ...(batch === undefined ? [] : [String(batch)])];
      (got[key] ??= []).push(resultOf(await run(node, args, { timeoutMs: 120_000, label: `stream ${key}` }), key));
    }
  }
  // RSS over time for the chart: the first repetition, thinned to at most 300 points.
  const thin = (xs) => xs.filter((_, j) => j % Math.ceil(xs.length / 300) === 0 || j === xs.length - 1);
  results.stream = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, {
    rows: v[0].rows, batchSize: v[0].batchSize, rowsPerSec: median(v.map((x) => x.rowsPerSec)),
    rowsPerSecRange: [Math.min(...v.map((x) => x.rowsPerSec)), Math.max(...v.map((x) => x.rowsPerSec))],
    vsQuery: pairedRatio(v.map((x) => x.rowsPerSec), got.query.map((x) => x.rowsPerSec)),
    cpuMs: median(v.map((x) => x.cpuMs)), cpuVsQuery: pairedRatio(v.map((x) => x.cpuMs), got.query.map((x) => x.cpuMs)),
    peakRssDelta: median(v.map((x) => x.peakRssDelta)), rss: thin(v[0].rss), n: v.length }]));
  log("stream done");
}

// ---------------------------------------------------------------- decode-only (in-process, no network)

if (want("decode-only")) {
  const stdout = await run(node, ["--expose-gc", join(here, "decode.mjs"), join(out, "decode.mjs"), ...(quick ? ["--quick"] : [])],
    { timeoutMs: quick ? 30_000 : 180_000, label: "decode-only" });
  results.decode = resultOf(stdout, "decode-only");
  log("decode-only done");
}

// ---------------------------------------------------------------- Bun and Deno

results.runtimes = {};
if (want("runtimes")) {
  const q = quick ? ["--quick"] : [];
  const env = { ...process.env, DENO_DIR: join(root, ".deno"), DENO_NO_UPDATE_CHECK: "1" };
  for (const [rt, cmd, args] of [
    ["Bun", bin("bun"), [join(here, "runtime.mjs"), url, join(snap, "bun.js"), ...q]],
    ["Deno", bin("deno"), ["run", "-A", join(here, "runtime.mjs"), url, join(snap, "deno.js"), ...q]],
  ]) {
    try {
      results.runtimes[rt] = resultOf(await run(cmd, args, { timeoutMs: quick ? 30_000 : 120_000, env, label: rt }), rt);
      log(`${rt} done`);
    } catch (err) {
      results.runtimes[rt] = { error: String(err.message).split("\n")[0] };
      log(`${rt} failed: ${results.runtimes[rt].error}`);
    }
  }
}

results.loadEnd = loadavg();
results.seconds = (performance.now() - started) / 1000;
killAll();

// ---------------------------------------------------------------- report and chart

const { text, aa } = report(results, { root });
writeFileSync(join(out, "results.md"), `${text}\n`);
writeFileSync(join(out, "results.json"), JSON.stringify(results, null, 2));
const svg = renderChart(results);
writeFileSync(join(out, "bench.svg"), svg);
// Only a full run of every scenario may replace the picture the docs show.
const docsSvg = join(root, "docs/img/bench.svg");
if (!quick && only === undefined) {
  mkdirSync(join(root, "docs/img"), { recursive: true });
  writeFileSync(docsSvg, svg);
}
log(`chart: build/bench/bench.svg${!quick && only === undefined ? " and docs/img/bench.svg" : " (docs/img/bench.svg only on a full run)"}`);
if (aa) log(aa);
process.stdout.write(`${text}\n`); // the last line is the `bench:` line
process.exit(0);
