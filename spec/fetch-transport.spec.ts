import { expect } from "chai";
import { ConnectionError, connect, type FetchLike } from "cratedb-fetch";
import { clusterPerSuite, nodesSeen as seenBy } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, keepsSockets, notApplicable, runtime } from "./support/helpers.js";

const OPAQUE_REDIRECT = 'page JS cannot follow a redirect itself: fetch with redirect: "manual" gives an opaque redirect (status 0, no Location header)';

/** A fetch that delegates to the runtime's own and counts calls: injection, not a stub. */
function countingFetch(): { fetch: FetchLike; calls: string[] } {
  const calls: string[] = [];
  const fetchImpl: FetchLike = (input, init) => {
    calls.push(String(input));
    return globalThis.fetch(input, init);
  };
  return { fetch: fetchImpl, calls };
}

describe("The fetch option and FetchTransport", () => {
  beforeEach(function () {
    keepsSockets(this, "requests go through a custom fetch: its keep-alive pool belongs to the runtime, not to the Connection");
  });
  let cluster: ClusterHandle;
  clusterPerSuite({ nodes: 2 }, (c) => (cluster = c));

  const nodesSeen = (): Promise<number[]> => seenBy(cluster);

  it("sends every request through the given fetch", async () => {
    const { fetch, calls } = countingFetch();
    const conn = connect(cluster.urls, { fetch, schema: "s1" });
    expect((await conn.query("SELECT current_schema")).rows).to.deep.equal([["s1"]]);
    expect(calls).to.deep.equal([`${cluster.urls[0]}/_sql?types=true`]);
    await conn.close();
  });

  it("fails over from a refused node to the next", async function () {
    if (runtime === "workerd") return notApplicable(this, 'workerd reports a refused connection as "Network connection lost.", the same error as a connection lost after the request was sent, so the client cannot know that the INSERT was not delivered and must not re-send it');
    if (runtime === "browser") return notApplicable(this, 'Chromium reports a refused connection as "TypeError: Failed to fetch", the same error as a CORS rejection or a connection lost after the request was sent, so the client cannot know that the INSERT was not delivered and must not re-send it');
    const conn = connect(cluster.urls, { fetch: countingFetch().fetch });
    await cluster.stopNode(0);
    try {
      expect((await conn.query("INSERT INTO ft_refused (id) VALUES (?)", [1])).rowcount).to.equal(1);
    } finally {
      await cluster.startNode(0);
    }
    expect(await nodesSeen()).to.deep.equal([1]);
    await conn.close();
  });

  it("re-sends a SELECT but never an INSERT after a reset mid-response", async () => {
    const conn = connect(cluster.urls, { fetch: countingFetch().fetch });
    await cluster.fault({ node: 0, fault: { kind: "reset-after-headers" } });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    expect(await nodesSeen()).to.deep.equal([0, 1]);
    // A fresh Connection: the reset took node 0 out of the first one's rotation.
    const writer = connect(cluster.urls, { fetch: countingFetch().fetch });
    await cluster.fault({ node: 0, fault: { kind: "reset-after-headers" } });
    await expectReject(writer.query("INSERT INTO ft_once (id) VALUES (?)", [1]), ConnectionError, /may have been executed/);
    await writer.close();
    expect((await cluster.stats()).tables["doc.ft_once"]).to.deep.equal([[1]]);
    await conn.close();
  });

  it("times out a slow body and honours an abort", async () => {
    const conn = connect([cluster.urls[0] as string], { fetch: countingFetch().fetch, timeout: 200 });
    await cluster.fault({ node: 0, fault: { kind: "slow-body", delayMs: 150, chunks: 4 } });
    await expectReject(conn.query("SELECT 1"), ConnectionError, /timed out/);
    // Only the statement hangs: the timed-out query's kill (a sys.jobs lookup) may still be on its way.
    await cluster.fault({ node: 0, fault: { kind: "hang" }, stmt: "SELECT 1" });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("stop")), 50);
    await expectReject(conn.query("SELECT 1", [], { signal: controller.signal, timeout: 5000 }), Error, /^stop$/);
    await conn.close();
  });

  it("follows a 307 itself, keeping the method and body", async function () {
    if (runtime === "browser") return notApplicable(this, OPAQUE_REDIRECT);
    const conn = connect([cluster.urls[0] as string], { fetch: countingFetch().fetch });
    await cluster.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 1 } });
    expect((await conn.query("SELECT ?", ["r"])).rows).to.deep.equal([["r"]]);
    expect(await nodesSeen()).to.deep.equal([0, 1]);
    await conn.close();
  });

  it("gzips request bodies with compress", async () => {
    const conn = connect(cluster.urls, { fetch: countingFetch().fetch, compress: true });
    expect((await conn.query("SELECT ?", ["zip"])).rows).to.deep.equal([["zip"]]);
    expect((await cluster.requests())[0]?.headers["content-encoding"]).to.equal("gzip");
    await conn.close();
  });
});
