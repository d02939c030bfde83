// In-page side of the chromium lane: runs the spec bundle under mocha's browser build and reports
// every event as one console line `__LANE__<json>` (the Node side prints them as they arrive), then
// leaves the totals in `window.__laneResults` for the Node side to collect.
/* global mocha */
const emit = (event) => console.log(`__LANE__${JSON.stringify(event)}`);
const depth = (runnable) => {
  let d = 0;
  for (let s = runnable.parent; s && !s.root; s = s.parent) d++;
  return d;
};
const describeError = (err) => {
  if (!(err instanceof Error)) return { message: String(err), stack: "" };
  let text = err.stack ?? `${err.name}: ${err.message}`;
  if (!text.includes(err.message)) text = `${err.name}: ${err.message}\n${text}`;
  for (let cause = err.cause, n = 0; cause !== undefined && n < 3; cause = cause?.cause, n++) {
    text += `\n  caused by: ${cause instanceof Error ? cause.stack ?? cause.message : String(cause)}`;
  }
  return { message: `${err.name}: ${err.message}`, stack: text };
};

mocha.setup({ ui: "bdd", timeout: 20000, reporter: function Silent() {} });
if (globalThis.SPEC_GREP) mocha.grep(globalThis.SPEC_GREP);

try {
  await import("/specs.js");
} catch (err) {
  emit({ type: "fail", title: "loading the spec bundle", fullTitle: "loading the spec bundle", depth: 0, error: describeError(err) });
  window.__laneResults = { passed: [], failed: [{ fullTitle: "loading the spec bundle", error: describeError(err) }], pending: [] };
  throw err;
}

const results = { passed: [], failed: [], pending: [] };
const started = performance.now();
const runner = mocha.run();
runner.on("suite", (suite) => {
  if (!suite.root) emit({ type: "suite", title: suite.title, depth: depth(suite) });
});
runner.on("pass", (test) => {
  results.passed.push({ fullTitle: test.fullTitle() });
  emit({ type: "pass", title: test.title, depth: depth(test), ms: test.duration, slow: test.slow() });
});
runner.on("fail", (runnable, err) => {
  const entry = { fullTitle: runnable.fullTitle(), error: describeError(err) };
  results.failed.push(entry);
  emit({ type: "fail", title: runnable.title, depth: depth(runnable), n: results.failed.length, ...entry });
});
runner.on("pending", (test) => {
  results.pending.push({ fullTitle: test.fullTitle(), reason: test.notApplicable });
  emit({ type: "pending", title: test.title, depth: depth(test) });
});
runner.on("end", () => {
  window.__laneResults = { ...results, ms: performance.now() - started };
});
