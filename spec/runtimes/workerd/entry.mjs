// The workerd test worker: mocha's browser build + chai + every spec/*.spec.ts (via the
// `workerd-specs` virtual module of spec/runtimes/workerd.mjs), run by `workerd test`, which calls
// test() once. All I/O happens inside test(): workerd forbids it at module top level.
import "mocha/mocha.js";
import "./setup.mjs";
import "workerd-specs";
import { lane } from "./lane.mjs";

/** Runs mocha, logs one line per test and a final `WORKERD_SUMMARY {json}` line. */
function collect(runner, log) {
  const r = { passed: 0, failed: 0, notApplicable: 0, tests: [] };
  runner.on("pass", (t) => {
    r.passed++;
    r.tests.push({ title: t.fullTitle(), state: "passed", ms: t.duration });
    log(`  ok   ${t.fullTitle()} (${t.duration} ms)`);
  });
  runner.on("fail", (t, err) => {
    r.failed++;
    const message = err?.stack ?? String(err);
    r.tests.push({ title: t.fullTitle(), state: "failed", error: String(err?.message ?? err) });
    log(`  FAIL ${t.fullTitle()}\n${message.replace(/^/gm, "       ")}`);
  });
  runner.on("pending", (t) => {
    r.notApplicable++;
    const reason = t.notApplicable ?? "skipped without a reason";
    r.tests.push({ title: t.fullTitle(), state: "notApplicable", reason });
    log(`  n/a  ${t.fullTitle()}`);
  });
  return new Promise((resolve) => runner.once("end", () => resolve(r)));
}

export default {
  async test(_ctrl, env) {
    globalThis.location ??= { search: "" }; // mocha's browser run() reads location.search
    globalThis.CRATEDB_FETCH_CONTROL = env.CRATEDB_FETCH_CONTROL;
    lane.env = env;
    if (env.SPEC_GREP) globalThis.mocha.grep(env.SPEC_GREP);
    const r = await collect(globalThis.mocha.run(), (line) => console.log(line));
    console.log(`WORKERD_SUMMARY ${JSON.stringify(r)}`);
    if (r.failed > 0) throw new Error(`${r.failed} spec(s) failed in workerd`); // → `workerd test` exits non-zero
  },
};
