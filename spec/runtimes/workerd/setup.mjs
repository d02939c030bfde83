// Imported right after mocha's browser build and before the specs: bdd globals, no output of
// mocha's own (the test handler collects the results), the same timeout as the other lanes.
globalThis.mocha.setup({ ui: "bdd", reporter: function Silent() {}, timeout: 20000 });
