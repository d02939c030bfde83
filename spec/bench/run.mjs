// The benchmark suite: `npm run bench` (a few minutes) or `npm run bench -- --quick` (< 60 s).
// Options: --quick, --no-build (use the existing dist/), --only a,b (scenario names: bundle-size,
// cold-import, point-c1, point-c32, small-c8, large-decode, bulk-insert, stream, decode-only, runtimes).
//
// Builds dist/ and snapshots it to build/bench/dist (so a concurrent rebuild cannot change what is
// measured mid-run), starts spec/bench/server.mjs (a separate process), runs every scenario in
// child processes (Node ones with --expose-gc; every client of a scenario in the same process,
// interleaved in short rounds, medians reported), then prints markdown tables, writes them to
// build/bench/results.md (and the raw numbers to results.json) and ends with one `bench:` line.
// Every loop is bounded by count and time; only 127.0.0.1 is used; every child is killed at the
// end, also on error or Ctrl-C.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import zlib from "node:zlib";
import { build } from "esbuild";
import { median } from "./common.mjs";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "../..");
const here = join(root, "spec/bench");
const out = join(root, "build/bench");
const snap = join(out, "dist");
const argv = process.argv.slice(2);
const quick = argv.includes("--quick");
const only = argv.includes("--only") ? new Set(argv[argv.indexOf("--only") + 1].split(",")) : undefined;
const want = (s) => only === undefined || only.has(s);
const started = performance.now();
const node = process.execPath;
const bin = (name) => join(root, "node_modules/.bin", name);

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
function run(cmd, args, { timeoutMs = 120_000, env, label = args.join(" ") } = {}) {
  return new Promise((resolve, reject) => {
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
  const child = spawn(node, [join(here, "server.mjs"), "--stdin-lifeline"], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
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
const serverP = startServer();
serverP.catch(() => {});
if (!argv.includes("--no-build")) {
  await run(node, ["build.mjs", "--no-types"], { label: "node build.mjs --no-types" });
  log("built dist/");
}
mkdirSync(snap, { recursive: true });
for (const f of ["node.js", "bun.js", "deno.js", "web.js"]) copyFileSync(join(root, "dist", f), join(snap, f));
const distHash = createHash("sha256").update(readFileSync(join(snap, "node.js"))).digest("hex").slice(0, 12);
const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
const dirty = spawnSync("git", ["status", "--porcelain", "lib"], { cwd: root, encoding: "utf8" }).stdout.trim() !== "";
await build({ entryPoints: [join(here, "decode.ts")], bundle: true, format: "esm", platform: "neutral", target: "es2022",
  outfile: join(out, "decode.mjs"), logLevel: "warning" });

const results = { quick, git, libDirty: dirty, distHash, node: process.versions.node, loadStart: load0 };

// ---------------------------------------------------------------- bundle-size

if (want("bundle-size")) {
  const r = await build({ entryPoints: [join(snap, "web.js")], bundle: true, minify: true, format: "esm", platform: "neutral",
    target: "es2022", write: false, logLevel: "warning" });
  const code = r.outputFiles[0].contents;
  // Which modules the bytes come from (from the sources; informational).
  const m = await build({ entryPoints: [join(root, "lib/entry/web.ts")], bundle: true, minify: true, format: "esm", platform: "neutral",
    target: "es2022", write: false, metafile: true, logLevel: "warning" });
  const inputs = Object.values(m.metafile.outputs)[0].inputs;
  // What an app that uses only `connect` and `query` ships (tree-shaken).
  const c = await build({ stdin: { contents: `import { connect } from ${JSON.stringify(join(snap, "web.js"))}; globalThis.q = (u, s) => connect(u).query(s);`, resolveDir: root },
    bundle: true, minify: true, format: "esm", platform: "neutral", target: "es2022", write: false, logLevel: "warning" });
  const connectOnly = c.outputFiles[0].contents;
  results.bundle = {
    connectOnly: { raw: connectOnly.byteLength, gzip: zlib.gzipSync(connectOnly).byteLength },
    raw: code.byteLength,
    gzip: zlib.gzipSync(code).byteLength,
    gzip9: zlib.gzipSync(code, { level: 9 }).byteLength,
    brotli: zlib.brotliCompressSync(code).byteLength,
    byModule: Object.entries(inputs).map(([k, v]) => [k.replace(/^.*lib\//, "lib/"), v.bytesInOutput]).sort((a, b) => b[1] - a[1]),
  };
  log(`bundle-size: ${results.bundle.gzip} B gzipped`);
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
  const cmds = [
    { name: 'node -e ""', args: ["-e", ""] },
    { name: IMPORT, args: ["--input-type=module", "-e", "await import('cratedb-fetch')"] },
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
  for (let i = 0; i < 10; i++) {
    const r = spawnSync(node, ["--input-type=module", "-e", "const t = performance.now(); await import('cratedb-fetch'); console.log(performance.now() - t)"],
      { cwd: root, encoding: "utf8", timeout: 10_000 });
    imp.push(Number(r.stdout.trim()));
  }
  const same = readFileSync(join(root, "dist/node.js")).equals(readFileSync(join(snap, "node.js")));
  const bareRuns = wall['node -e ""'];
  results.coldImport = { resolved, sameAsSnapshot: same, rounds, wall: Object.fromEntries(Object.entries(wall).map(([k, v]) => [k, median(v)])),
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
  // query() of the whole result vs stream() with two batch sizes, interleaved, one process each.
  const modes = [["query", undefined], ["stream", 1000], ["stream", 10000]];
  const reps = quick ? 1 : 3;
  const got = {};
  for (let i = 0; i < reps; i++) {
    for (const [mode, batch] of i % 2 === 0 ? modes : [...modes].reverse()) {
      const key = batch === undefined ? mode : `${mode} batchSize ${batch}`;
      const args = ["--expose-gc", join(here, "stream.mjs"), mode, url, snap, ...(batch === undefined ? [] : [String(batch)])];
      (got[key] ??= []).push(resultOf(await run(node, args, { timeoutMs: 120_000, label: `stream ${key}` }), key));
    }
  }
  results.stream = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, {
    rows: v[0].rows, rowsPerSec: median(v.map((x) => x.rowsPerSec)), rowsPerSecRange: [Math.min(...v.map((x) => x.rowsPerSec)), Math.max(...v.map((x) => x.rowsPerSec))],
    peakRssDelta: median(v.map((x) => x.peakRssDelta)), n: v.length }]));
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

// ---------------------------------------------------------------- report

const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : "–");
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? a / b : NaN);
const pct = (x) => (Number.isFinite(x) ? `±${Math.round(x * 50)}%` : "–"); // half the IQR relative to the median
const mb = (x) => (Number.isFinite(x) ? (x / 1048576).toFixed(1) : "–");
const md = [];
const table = (head, rows) => {
  md.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`), "");
};
const final = {};
const goals = [];
const goal = (what, ok, detail) => goals.push(`- ${ok === undefined ? "n/a " : ok ? "**met**" : "**MISSED**"} — ${what}: ${detail}`);

md.push(`# cratedb-fetch benchmarks${quick ? " (quick)" : ""}`, "",
  `Node ${results.node ? process.versions.node : ""}, git ${git}${dirty ? " + uncommitted lib/ changes" : ""}, dist/node.js sha256 ${distHash}; ` +
  `load average ${load0.map(f2).join("/")} at start, ${results.loadEnd.map(f2).join("/")} at end; ${results.seconds.toFixed(0)} s. ` +
  `Node clients: ${results.mode ?? "–"} (interleaved rounds, one client busy at a time). ` +
  "Medians over interleaved rounds; ± is half the interquartile range of the rounds (noise). " +
  "Ratios: cratedb-fetch / raw node:http (throughput: higher is better; time: lower is better).", "");

const N = results.node;
const RAW = "raw node:http";
const CF = "cratedb-fetch";
for (const [s, title] of [["point-c1", "point-c1: `SELECT 1`, one at a time"], ["point-c32", "point-c32: `SELECT 1`, 32 in flight"], ["small-c8", "small-c8: 10 × 5 result, 8 in flight"]]) {
  const r = N[s];
  if (!r) continue;
  md.push(`## ${title}`, "");
  const base = r[RAW].qps.median;
  const head = ["client", "queries/s", "ratio", ...(s === "point-c1" ? ["p50 ms", "p99 ms"] : []), "client CPU µs/query", "server CPU share", "noise"];
  table(head, Object.entries(r).map(([name, v]) => [name, f0(v.qps.median), f2(ratio(v.qps.median, base)),
    ...(s === "point-c1" ? [f3(v.p50), f3(v.p99)] : []), f0(v.clientUsPerOp.median), `${Math.round(v.serverShare.median * 100)}%`, pct(v.qps.riqr)]));
  final[s] = ratio(r[CF].qps.median, base);
  const need = s === "small-c8" ? 0.85 : s === "point-c1" ? 0.95 : 0.92; // issue 14 part 5: point-c1 ≥ 0.95
  goal(`${s} ≥ ${need}× raw node:http`, final[s] >= need, `${f3(final[s])}× (cratedb-fetch (fetch): ${f2(ratio(r["cratedb-fetch (fetch)"].qps.median, base))}×)`);
  goal(`${s} faster than node-crate`, r[CF].qps.median > r["node-crate"].qps.median, `${f0(r[CF].qps.median)} vs ${f0(r["node-crate"].qps.median)} q/s`);
}

if (N["large-decode"]) {
  const r = N["large-decode"].results;
  const mem = results.memory ?? {};
  md.push("## large-decode: one 100 000 × 6 result (~8 MB)", "");
  const base = r[RAW].ms.median;
  const baseU = r[`${RAW} (unsafe)`].ms.median;
  table(["client", "ms/query", "ratio", "client CPU ms", "peak RSS Δ MB", "retained heap MB", "noise"],
    Object.entries(r).map(([name, v]) => [name, f1(v.ms.median), f2(ratio(v.ms.median, name.endsWith("(unsafe)") ? baseU : base)),
      f1(v.cpuMs.median), mb(mem[name]?.peakRssDelta), mb(mem[name]?.retainedHeap), pct(v.ms.riqr)]));
  md.push("`(unsafe)`: the same table with every row an unsafe BIGINT (> 2^53) in a type-10 column; its ratio is to raw node:http on that body " +
    "(whose JSON.parse silently rounds). Memory: fresh process per client, after warm-up; peak RSS Δ = maxRSS after the query − RSS before; " +
    "retained = heap + external held by the result after a full GC.", "");
  final["large-decode"] = ratio(r[CF].ms.median, base);
  goal("large-decode ≤ 1.05× raw node:http (+JSON.parse)", final["large-decode"] <= 1.05, `${f3(final["large-decode"])}×`);
  goal("large-decode faster than node-crate", r[CF].ms.median < r["node-crate"].ms.median, `${f1(r[CF].ms.median)} vs ${f1(r["node-crate"].ms.median)} ms`);
}

if (results.decode) {
  const d = results.decode;
  md.push("## decode-only: in-process, no network", "");
  const names = [...new Set(Object.keys(d.large).map((k) => k.split("|")[0]))];
  const targets = { "no unsafe numbers (default options)": 1.15, 'every row an unsafe BIGINT, int64: "bigint"': 2.5 };
  table(["body", "MB", "TextDecoder + JSON.parse ms", "cratedb-fetch toSqlResult ms", "ratio", "target", "noise"], names.map((n) => {
    const a = d.large[`${n}|JSON.parse`];
    const b = d.large[`${n}|cratedb-fetch`];
    const rt = ratio(b.median, a.median);
    if (targets[n]) goal(`decode-only ${n} ≤ ${targets[n]}× JSON.parse`, rt <= targets[n], `${f3(rt)}×`);
    return [n, mb(d.bytes[n]), f1(a.median), f1(b.median), f2(rt), targets[n] ? `≤ ${targets[n]}×` : "–", `${pct(a.riqr)} / ${pct(b.riqr)}`];
  }));
  const sa = d.small["small|JSON.parse"].median;
  const sb = d.small["small|cratedb-fetch"].median;
  md.push(`Small body (10 × 5), per call: TextDecoder + JSON.parse ${f2(sa)} µs, toSqlResult ${f2(sb)} µs (${f2(ratio(sb, sa))}×).`, "");
}

if (N["bulk-insert"]) {
  const r = N["bulk-insert"];
  md.push("## bulk-insert: one bulk of 10 000 rows × 4 columns", "");
  const base = r[RAW].ms.median;
  table(["client", "ms/bulk", "ratio", "noise"], Object.entries(r).map(([name, v]) => [name, f1(v.ms.median), f2(ratio(v.ms.median, base)), pct(v.ms.riqr)]));
  goal("bulk-insert faster than node-crate", r[CF].ms.median < r["node-crate"].ms.median, `${f1(r[CF].ms.median)} vs ${f1(r["node-crate"].ms.median)} ms`);
}

if (results.stream) {
  const r = results.stream;
  const rows = Object.values(r)[0].rows;
  md.push(`## stream: ${rows.toLocaleString("en-US")} rows × 6 columns (~${Math.round(rows / 12_500)} MB of JSON), query() vs stream()`, "");
  const base = r.query.rowsPerSec;
  table(["how", "rows/s", "ratio to query()", "min–max rows/s", "peak RSS Δ MB"], Object.entries(r).map(([k, v]) => [
    k === "query" ? "`conn.query(stmt)`" : `\`conn.stream(stmt, [], { batchSize: ${k.split(" ").pop()} })\``,
    f0(v.rowsPerSec), f2(ratio(v.rowsPerSec, base)), v.rowsPerSecRange.map(f0).join("–"), mb(v.peakRssDelta)]));
  md.push("Fresh process per measurement, after a warm-up of the same path; every row is read and dropped. Peak RSS Δ = maxRSS after − RSS " +
    "before. A stream runs `DECLARE … NO SCROLL CURSOR WITH HOLD`, `FETCH batchSize` until a short batch, `CLOSE`, on a session of its own.", "");
}

if (results.coldImport) {
  const c = results.coldImport;
  md.push(`## cold-import: a whole \`node\` process, ${c.rounds} interleaved rounds`, "");
  table(["command", "wall ms (median)", "Δ vs node -e \"\" (median of per-round differences)", "min–max"],
    Object.entries(c.wall).map(([k, v]) => [`\`${k}\``, f1(v), f1(c.delta[k]), c.spread[k].map(f1).join("–")]));
  md.push(`\`import('cratedb-fetch')\` resolves to ${c.resolved.replace(`file://${root}/`, "")}${c.sameAsSnapshot ? "" : " (**changed during the run**)"}; ` +
    `the import itself, timed inside the process: ${f1(c.importMs)} ms.`, "");
  const d = c.delta["node --input-type=module -e \"await import('cratedb-fetch')\""];
  const e = c.delta["node --input-type=module -e \"await import('./build/bench/empty.mjs')\""];
  goal("cold-import within 10 ms of bare node", d <= 10, `+${f1(d)} ms (in-process import ${f1(c.importMs)} ms; an empty .mjs: +${f1(e)} ms)`);
}

if (results.bundle) {
  const b = results.bundle;
  md.push("## bundle-size: `dist/web.js` bundled and minified by esbuild", "");
  table(["bundle", "raw bytes", "gzip bytes (level 6)", "gzip -9", "brotli"], [["dist/web.js, minified", f0(b.raw), f0(b.gzip), f0(b.gzip9), f0(b.brotli)],
    ["an app using only `connect` + `query` (tree-shaken)", f0(b.connectOnly.raw), f0(b.connectOnly.gzip), "", ""]]);
  md.push(`Largest modules (minified bytes): ${b.byModule.slice(0, 6).map(([k, v]) => `${k} ${f0(v)}`).join(", ")}.`, "");
  final["bundle-gz"] = b.gzip;
  final["connect-gz"] = b.connectOnly.gzip;
  goal("web bundle of an app using connect + query ≤ 10 KB gzipped", b.connectOnly.gzip <= 10240, `${f0(b.connectOnly.gzip)} B (all of dist/web.js: ${f0(b.gzip)} B)`);
}

if (Object.keys(results.runtimes).length > 0 || N["point-c1"]) {
  md.push("## point-c1 / point-c32 across runtimes (ratio to the same runtime's raw fetch)", "");
  const rows = [];
  const add = (rt, p1, p32, names) => {
    const b1 = p1["raw fetch"].qps.median;
    const b32 = p32["raw fetch"].qps.median;
    for (const n of names) {
      const a = p1[n];
      const b = p32[n];
      rows.push([rt, n, f0(a.qps.median), f2(ratio(a.qps.median, b1)), f3(a.p50), f3(a.p99), f0(b.qps.median), f2(ratio(b.qps.median, b32))]);
    }
  };
  if (N["point-c1"] && N["point-c32"]) add(`Node ${process.versions.node}`, N["point-c1"], N["point-c32"], ["raw fetch", "cratedb-fetch (fetch)", "cratedb-fetch", "raw node:http"]);
  for (const [rt, r] of Object.entries(results.runtimes)) {
    if (r.error) rows.push([rt, `failed: ${r.error}`, "", "", "", "", "", ""]);
    else add(r.runtime, r["point-c1"], r["point-c32"], ["raw fetch", "cratedb-fetch", "raw node:http"]);
    if (rt === "Bun" && !r.error) {
      final["bun-c32"] = ratio(r["point-c32"]["cratedb-fetch"].qps.median, r["point-c32"]["raw fetch"].qps.median);
      goal("Bun point-c32 ≥ 0.9× Bun's raw fetch (per-Connection sockets kept)", final["bun-c32"] >= 0.9, `${f3(final["bun-c32"])}×`);
    }
  }
  table(["runtime", "client", "c1 queries/s", "c1 ratio", "p50 ms", "p99 ms", "c32 queries/s", "c32 ratio"], rows);
  md.push("cratedb-fetch is the runtime's native entry (`dist/bun.js`, `dist/deno.js`): in Bun it uses Bun's fetch with a `Bun.FetchSession` per connection, " +
    "in Deno `fetch` with its own `Deno.createHttpClient`.", "");
}

md.push("## Goals", "", ...goals, "");
const bench = `bench: point-c1 ratio=${f2(final["point-c1"])} point-c32 ratio=${f2(final["point-c32"])} large-decode ratio=${f2(final["large-decode"])} bundle-gz=${final["bundle-gz"] ?? "–"} connect-gz=${final["connect-gz"] ?? "–"}${final["bun-c32"] === undefined ? "" : ` bun-c32 ratio=${f2(final["bun-c32"])}`}`;
md.push(bench);
const text = md.join("\n");
writeFileSync(join(out, "results.md"), `${text}\n`);
writeFileSync(join(out, "results.json"), JSON.stringify(results, null, 2));
process.stdout.write(`${text}\n`); // the last line is the `bench:` line
process.exit(0);
