// Mocha reporter for one lane: mocha's spec output, then one machine-readable LANE_RESULT line.
// Specs a runtime cannot run call notApplicable(), which marks the test pending with a reason:
// those are listed and counted apart, never as passed.
const Mocha = require("mocha");

class LaneReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const na = [];
    runner.on("pending", (test) => na.push(`${test.fullTitle()}: ${test.notApplicable ?? "skipped without a reason"}`));
    runner.once("end", () => {
      const s = runner.stats ?? {};
      for (const line of na) console.log(`  not applicable: ${line}`);
      console.log(`LANE_RESULT ${JSON.stringify({ passed: s.passes ?? 0, failed: s.failures ?? 0, notApplicable: s.pending ?? 0 })}`);
    });
  }
}
module.exports = LaneReporter;
