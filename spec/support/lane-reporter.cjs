// Mocha reporter for one lane: mocha's spec output, then one machine-readable LANE_RESULT line.
// Specs a runtime cannot run call notApplicable(), which marks the test pending with a reason:
// those are listed and counted apart, never as passed.
const Mocha = require("mocha");

class LaneReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const na = [];
    const failures = [];
    runner.on("fail", (test, err) => failures.push(failureLine(test.fullTitle(), err)));
    runner.on("pending", (test) => na.push(`${test.fullTitle()}: ${test.notApplicable ?? "skipped without a reason"}`));
    runner.once("end", () => {
      const s = runner.stats ?? {};
      for (const line of na) console.log(`  not applicable: ${line}`);
      console.log(`LANE_RESULT ${JSON.stringify({ passed: s.passes ?? 0, failed: s.failures ?? 0, notApplicable: s.pending ?? 0, failures })}`);
    });
  }
}
/** One line naming a failed test and the first line of its error, for the summary at the end of `npm test`. */
function failureLine(title, err) {
  const lines = String(err?.message ?? err).split("\n");
  // fast-check: the seed (FUZZ_SEED=… replays it) and the counterexample matter more than the first line.
  const extra = lines.filter((l) => /^\{ seed: |^Counterexample: /.test(l)).map((l) => l.slice(0, 300));
  return [`${title}: ${lines[0].slice(0, 300)}`, ...extra].join("\n    ");
}
module.exports = LaneReporter;
module.exports.failureLine = failureLine;
