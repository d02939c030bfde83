// Options are resolved in layers: the core's own, a runtime's TLS/socket layer, the full entry's feature
// layer. A gap between them would accept an option and then ignore it. This table checks the whole class:
// every option of ConnectOptions, on the full and the lite entry, given a value no option takes, is refused
// with a typed error before any I/O; and the layers of the full entry cover exactly the layer options.
import { expect } from "chai";
import * as full from "cratedb-fetch";
import * as lite from "cratedb-fetch/lite";
import { featureOptions } from "../lib/resolve-features.js";
import { LAYER_OPTIONS, OPTION_NAMES } from "../lib/resolve.js";
import { tlsOptions } from "../lib/resolve-tls.js";

// The options a feature of the full entry resolves, with a value that asks for that feature.
const ASKS_FOR_A_FEATURE: Record<string, unknown> = { killOnAbort: true, compress: true, discover: true, onQuery: () => undefined };

describe("Option layers", () => {
  it("cover every layer option exactly once in the full entry (TLS/socket layer + feature layer)", () => {
    const covered = [...tlsOptions.keys, ...featureOptions.keys];
    expect([...covered].sort()).to.deep.equal([...LAYER_OPTIONS].sort());
    expect(new Set(covered).size, "no option in two layers").to.equal(covered.length);
    expect(OPTION_NAMES.length).to.be.above(30);
  });

  for (const [entry, connect] of [["cratedb-fetch", full.connect], ["cratedb-fetch/lite", lite.connect]] as const) {
    it(`refuse a value no option takes, for every option, with a typed error before any I/O (${entry})`, () => {
      const accepted: string[] = [];
      for (const name of OPTION_NAMES) {
        for (const bad of [Symbol("bad"), 12345n]) {
          try {
            // Port 9 (discard): nothing may be sent anywhere, and connect() does no I/O.
            const conn = connect("http://127.0.0.1:9", { [name]: bad });
            accepted.push(`${name}: ${typeof bad}`);
            void conn.close();
          } catch (err) {
            const typed = err instanceof full.InterfaceError || err instanceof full.NotSupportedError ||
              err instanceof lite.InterfaceError || err instanceof lite.NotSupportedError;
            expect(typed, `${name}: ${String(err)}`).to.equal(true);
            expect(String((err as Error).message), name).to.include(name === "servers" ? "servers" : `'${name}`);
          }
        }
      }
      expect(accepted, "options that took a value no option takes").to.deep.equal([]);
    });
  }

  it("make the lite entry refuse, by name, every option that asks for a layer of the full entry", () => {
    for (const [name, value] of Object.entries(ASKS_FOR_A_FEATURE)) {
      expect(() => lite.connect("http://127.0.0.1:9", { [name]: value }), name).to.throw(lite.NotSupportedError, new RegExp(`'${name}'.*full entry`));
    }
    // The values that ask for nothing are accepted.
    for (const [name, value] of Object.entries({ killOnAbort: false, compress: false, discover: false })) {
      void lite.connect("http://127.0.0.1:9", { [name]: value }).close();
    }
  });
});
