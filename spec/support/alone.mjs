// `npm run test:alone -- [options]`: checks that every spec passes when run by itself with --grep, as the
// quality bar asks (no `it` may lean on rows, tables or state an earlier `it` left behind).
//
//   node spec/support/alone.mjs                                    every spec file (slow: one mocha per test)
//   node spec/support/alone.mjs --files kysely.spec.ts,drizzle.spec.ts
//   node spec/support/alone.mjs --files cursor.spec.ts --grep "closes"   only tests whose full title matches
//   options: --jobs N (default 1; each job has its own control server, so leak counts stay per test),
//            --no-build (reuse dist/ and build/alone/ from the last run, which must have built the same files),
//            --timeout S per test run (default 180)
//
// It builds once (dist/ as spec/run.mjs does, the chosen specs for the node lane into build/alone/spec), lists
// each file's tests with mocha --dry-run, then runs each test alone in the node lane: mocha with the lane's
// reporter, only the test's own spec file and `--grep '^<its full title, regex-escaped>$'`. It prints a line per
// test, the failures as a table (full output of each in build/alone/logs/), per-file counts and the closing line
// `N alone passed, M failed`. Not part of `npm test`: a tool for engineers.
import { build } from "esbuild";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildLibrary } from "../../build.mjs";
import { mochaArgs, proxyLaneOnly, root } from "../runtimes/bundle.mjs";
import { startControl } from "../runtimes/process.mjs";
import { exitFlushed } from "../runtimes/exit.mjs";

const argv = process.argv.slice(2);
const opt = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const all = readdirSync(join(root, "spec")).filter((f) => f.endsWith(".spec.ts") && !proxyLaneOnly(f));
const files = opt("--files", undefined)?.split(",").map((f) => f.trim().replace(/^spec\//, "")).filter(Boolean) ?? all;
const jobs = Math.max(1, Number(opt("--jobs", "1")));
const perTestTimeout = Number(opt("--timeout", "180")) * 1000;
const choose = opt("--grep", undefined);
const unknown = files.filter((f) => !all.includes(f));
if (unknown.length) {
  console.error(`alone: no such spec file(s) in spec/ (or proxy-lane only): ${unknown.join(", ")}`);
  process.exit(2);
}

const out = join(root, "build/alone");
const specOut = join(out, "spec");
const logs = join(out, "logs");
const built = (f) => join(specOut, f.replace(/\.ts$/, ".mjs"));

// The same build as spec/run.mjs's buildSpecs(), for the chosen files only.
if (!argv.includes("--no-build")) {
  await buildLibrary();
  rmSync(specOut, { recursive: true, force: true });
  await build({
    entryPoints: files.map((f) => join(root, "spec", f)), outdir: specOut, outExtension: { ".js": ".mjs" }, bundle: true,
    format: "esm", platform: "node", target: "es2022", external: ["cratedb-fetch", "chai", "mocha", "node:*"],
    sourcemap: "inline", logLevel: "warning",
  });
  await build({
    entryPoints: [join(root, "spec/support/control-server.ts")], outfile: join(out, "control-server.mjs"),
    bundle: true, format: "esm", platform: "node", target: "es2022", external: ["node:*"], logLevel: "warning",
  });
}
const notBuilt = [...files.filter((f) => !existsSync(built(f))), ...(existsSync(join(out, "control-server.mjs")) ? [] : ["the control server"])];
if (notBuilt.length) {
  console.error(`alone: not built in build/alone/ (run once without --no-build): ${notBuilt.join(", ")}`);
  process.exit(2);
}
rmSync(logs, { recursive: true, force: true });
mkdirSync(logs, { recursive: true });

/** Runs a command, resolving with its exit code and stdout+stderr; kills it after `timeout` ms. */
function run(command, args, env, timeout) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let text = "";
    child.stdout.on("data", (d) => (text += d));
    child.stderr.on("data", (d) => (text += d));
    const timer = setTimeout(() => {
      text += `\n[alone] killed after ${timeout / 1000} s\n`;
      try {
        process.kill(-child.pid, "SIGKILL"); // its process group: mocha and anything it started
      } catch {
        // already gone
      }
    }, timeout);
    child.once("close", (code, signal) => (clearTimeout(timer), resolve({ code: code ?? signal, text })));
  });
}

/** Every test of a built spec file, in order: full title, and whether it is skipped (it.skip/xit). */
async function listTests(file) {
  const report = join(out, "list", `${file}.json`);
  const r = await run(process.execPath, [join(root, "node_modules/mocha/bin/mocha.js"), "--dry-run", "--reporter", "json",
    "--reporter-option", `output=${report}`, built(file)], {}, 120_000);
  let json;
  try {
    json = JSON.parse(readFileSync(report, "utf8"));
  } catch {
    throw new Error(`alone: could not list the tests of ${file} (exit ${r.code}):\n${r.text}`);
  }
  const pending = new Set(json.pending.map((t) => t.fullTitle));
  return json.tests.map((t) => ({ file, title: t.fullTitle, skipped: pending.has(t.fullTitle) }));
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/** One test alone, against the job's own control server; its counts come from the lane reporter's LANE_RESULT line. */
async function runAlone(test, control, index) {
  const started = Date.now();
  const args = ["--expose-gc", ...mochaArgs([built(test.file)], ["--grep", `^${escapeRe(test.title)}$`])];
  const r = await run(process.execPath, args, { CRATEDB_FETCH_CONTROL: control.url }, perTestTimeout);
  const seconds = (Date.now() - started) / 1000;
  const m = /^LANE_RESULT (.*)$/m.exec(r.text);
  const result = m ? JSON.parse(m[1]) : undefined;
  let verdict = "passed";
  let why = "";
  const ran = result ? result.passed + result.failed + result.notApplicable : 0;
  if (!result) (verdict = "failed"), (why = `no result (exit ${r.code})`);
  else if (result.failed > 0) (verdict = "failed"), (why = (result.failures?.[0] ?? "").replace(`${test.title}: `, "").split("\n")[0]);
  else if (ran === 0) (verdict = "failed"), (why = "the grep matched no test (title not escaped right?)");
  else if (r.code !== 0) (verdict = "failed"), (why = `exit ${r.code} after reporting no failure`);
  else if (ran > 1) why = `the grep matched ${ran} tests: their full titles are not unique`;
  else if (result.notApplicable > 0) verdict = "n/a";
  if (verdict === "failed") writeFileSync(join(logs, `${String(index).padStart(4, "0")}.log`), `${test.file}\n${test.title}\n\n${r.text}`);
  return { ...test, verdict, why, seconds, log: verdict === "failed" ? `build/alone/logs/${String(index).padStart(4, "0")}.log` : "" };
}

const started = Date.now();
mkdirSync(join(out, "list"), { recursive: true });
let tests = [];
for (const f of files) tests.push(...(await listTests(f)));
const skipped = tests.filter((t) => t.skipped).length;
tests = tests.filter((t) => !t.skipped && (choose === undefined || new RegExp(choose).test(t.title)));
console.log(`alone: ${tests.length} test(s) in ${files.length} file(s)${skipped ? ` (${skipped} it.skip left out)` : ""}, ${jobs} job(s)`);

const controls = await Promise.all(Array.from({ length: jobs }, () => startControl(join(out, "control-server.mjs"))));
const results = [];
try {
  let next = 0;
  await Promise.all(controls.map(async (control) => {
    while (next < tests.length) {
      const i = next++;
      const r = await runAlone(tests[i], control, i);
      results[i] = r;
      const mark = r.verdict === "failed" ? "✗" : r.verdict === "n/a" ? "-" : "✔";
      console.log(`  ${mark} [${i + 1}/${tests.length}] ${r.file}: ${r.title} (${r.seconds.toFixed(1)} s)${r.why ? ` — ${r.why}` : ""}`);
    }
  }));
} finally {
  for (const c of controls) c.stop();
}

const failed = results.filter((r) => r.verdict === "failed");
if (failed.length) {
  console.log("\nfailing alone:");
  const rows = [["file", "test", "error", "log"], ...failed.map((r) => [r.file, r.title, r.why.slice(0, 160), r.log])];
  const width = [0, 1].map((c) => Math.min(70, Math.max(...rows.map((row) => row[c].length))));
  for (const row of rows) console.log(`  ${row[0].padEnd(width[0])} | ${row[1].slice(0, 70).padEnd(width[1])} | ${row[2]} | ${row[3]}`);
}
console.log("\nper file:");
for (const f of files) {
  const mine = results.filter((r) => r.file === f);
  if (mine.length === 0) continue;
  const bad = mine.filter((r) => r.verdict === "failed").length;
  const na = mine.filter((r) => r.verdict === "n/a").length;
  console.log(`  ${f}: ${mine.length - bad} alone passed${na ? ` (${na} not applicable on node)` : ""}, ${bad} failed`);
}
console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
console.log(`${results.length - failed.length} alone passed, ${failed.length} failed`);
exitFlushed(failed.length === 0 ? 0 : 1);
