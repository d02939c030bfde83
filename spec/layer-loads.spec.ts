// The layers a call loads on first use (dist/chunks/*: cancellation, tracing, cursor parameters, streams, blobs,
// server info, node discovery, a session's socket module, the exact number parser) are part of the call: while a
// chunk is slow to load, the call's timeout and signal hold and nothing is sent; a chunk that cannot be loaded is
// a typed error. For real: each call runs in a Node process of its own whose module hooks hold that chunk back
// (10 s) or fail it, as a browser meets a chunk that is slow to fetch or cannot be fetched.
import { expect } from "chai";
import type * as ChildProcess from "node:child_process";
import { clusterPerSuite } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { notApplicable, runtime } from "./support/helpers.js";

interface Settled {
  settled: "resolved" | "rejected";
  name?: string;
  message?: string;
  cause?: string;
  ms: number;
}

const proc = (globalThis as { process?: NodeJS.Process }).process as NodeJS.Process;
/** What a deadline may overrun by on a loaded 2-core machine. */
const MARGIN = 700;

function runChild(scenario: string, url: string, prefix: string, mode: "slow" | "late" | "fail"): Promise<Settled> {
  const { execFile } = proc.getBuiltinModule("node:child_process") as typeof ChildProcess;
  return new Promise((resolve, reject) => {
    execFile(proc.execPath, [`${proc.cwd()}/spec/support/layers/child.mjs`, scenario, url, prefix, mode], { timeout: 20_000 }, (err, stdout, stderr) => {
      const line = stdout.trim().split("\n").pop() ?? "";
      try {
        resolve(JSON.parse(line) as Settled);
      } catch {
        reject(new Error(`child ${scenario}: ${err?.message ?? ""} ${stdout} ${stderr}`));
      }
    });
  });
}

describe("Layers loaded on first use hold the call's deadline and signal, and fail typed (Node module hooks)", function () {
  this.timeout(30_000);
  let cluster: ClusterHandle;
  clusterPerSuite({ nodes: 1 }, (c) => (cluster = c));
  beforeEach(function () {
    if (runtime !== "node") notApplicable(this, "slowing one chunk down needs Node's module hooks; the mechanism (Lazy.within) is specified in every lane by deadlines.spec.ts");
  });

  const timedOut = (what: string) => (s: Settled): void => {
    expect([s.name, s.message]).to.deep.equal(["ConnectionError", `Request timed out after 300 ms while ${what}: it was not sent`]);
  };
  // [call, chunk held back, what the error names]
  const slow: Array<[string, string, (s: Settled) => void]> = [
    ["query, timeout", "cancel", timedOut("cratedb-fetch's cancellation module was loading")],
    ["query with onQuery, timeout", "trace", timedOut("cratedb-fetch's tracing module was loading")],
    ["cursor execute, connection timeout", "params", timedOut("cratedb-fetch's cursor parameters module was loading")],
    ["stream, timeout", "stream-run", timedOut("cratedb-fetch's stream module was loading")],
    ["blob exists, connection timeout", "blob-ops", timedOut("cratedb-fetch's blob module was loading")],
    ["serverInfo, timeout", "server-info", timedOut("cratedb-fetch's server info module was loading")],
    ["discover, timeout", "discover", timedOut("node discovery was loading")],
    ["session query, timeout", "node-socket", (s) => {
      expect(s.name).to.equal("ConnectionError");
      expect(s.message).to.match(/^Request to http:\/\/127\.0\.0\.1:\d+ timed out after 300 ms while cratedb-fetch's session socket module was loading: it was not sent$/);
    }],
  ];
  for (const [call, prefix, check] of slow) {
    it(`${call}: ${prefix} chunk held back → rejects at the timeout, nothing sent`, async () => {
      await cluster.resetLog();
      const s = await runChild(call, cluster.urls[0] as string, prefix, "slow");
      check(s);
      expect(s.ms).to.be.at.least(290).and.below(300 + MARGIN);
      expect(await cluster.requests(), "nothing reached the server").to.deep.equal([]);
    });
  }

  it("query, signal: cancel chunk held back → rejects with the signal's reason when it aborts, nothing sent", async () => {
    await cluster.resetLog();
    const s = await runChild("query, signal", cluster.urls[0] as string, "cancel", "slow");
    expect([s.settled, s.message]).to.deep.equal(["rejected", "user left"]);
    expect(s.ms).to.be.below(100 + MARGIN);
    expect(await cluster.requests()).to.deep.equal([]);
  });

  it("query, timeout: cancel chunk arrives after 200 ms → the first attempt has only the ~100 ms left of its 300", async () => {
    await cluster.resetLog();
    // The server answers after 200 ms: in time for a fresh 300 ms after the load, not within 300 ms of the call.
    await cluster.fault({ node: 0, fault: { kind: "delay", delayMs: 200 }, stmt: "SELECT 1" });
    const s = await runChild("query, timeout", cluster.urls[0] as string, "cancel", "late");
    expect([s.settled, s.name]).to.deep.equal(["rejected", "ConnectionError"]);
    expect(s.message).to.match(/timed out after 300 ms after it was sent/);
    expect(s.ms).to.be.at.least(290).and.below(300 + MARGIN);
    expect((await cluster.requests()).length, "sent once the chunk was there").to.equal(1);
  });

  // The other layers that hold their call's start: a blob call and serverInfo().
  const lateToo: Array<[string, string, string]> = [
    ["blob exists, connection timeout", "blob-ops", "/_blobs"],
    ["serverInfo, timeout", "server-info", "/"],
  ];
  for (const [call, prefix, path] of lateToo) {
    it(`${call}: ${prefix} chunk arrives after 200 ms → the first attempt has only what is left of its 300 ms`, async () => {
      await cluster.resetLog();
      await cluster.fault({ node: 0, fault: { kind: "delay", delayMs: 200 }, path });
      const s = await runChild(call, cluster.urls[0] as string, prefix, "late");
      expect([s.settled, s.name]).to.deep.equal(["rejected", "ConnectionError"]);
      expect(s.message).to.match(/timed out after 300 ms/);
      expect(s.ms).to.be.at.least(290).and.below(300 + MARGIN);
    });
  }

  const failing: Array<[string, string, string]> = [
    ["query, timeout", "cancel", "cancellation"],
    ["cursor execute, connection timeout", "params", "cursor parameters"],
    ["blob exists, connection timeout", "blob-ops", "blob"],
  ];
  for (const [call, prefix, what] of failing) {
    it(`${call}: ${prefix} chunk cannot be loaded → InterfaceError naming it, nothing sent`, async () => {
      await cluster.resetLog();
      const s = await runChild(call, cluster.urls[0] as string, prefix, "fail");
      expect(s.name).to.equal("InterfaceError");
      expect(s.message).to.match(new RegExp(`^Could not load cratedb-fetch's ${what} module \\(.*Failed to fetch dynamically imported module: ${prefix}-\\w+\\.js.*\\): the request was not sent$`));
      expect(await cluster.requests()).to.deep.equal([]);
    });
  }

  it("an answer that needs the exact number parser, which cannot be loaded → InterfaceError saying the statement ran", async () => {
    const s = await runChild("query with numeric: \"string\"", cluster.urls[0] as string, "json-exact", "fail");
    expect(s.name).to.equal("InterfaceError");
    expect(s.message).to.match(/^Could not load cratedb-fetch's exact number module \(.*\): the statement ran, its answer was not decoded$/);
  });
});
