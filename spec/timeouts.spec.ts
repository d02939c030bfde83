import { expect } from "chai";
import { ConnectionError, connect } from "cratedb-fetch";
import { clusterPerSuite, nodesSeen as seenBy } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject } from "./support/helpers.js";

describe("Timeouts and cancellation", () => {
  let cluster: ClusterHandle;
  clusterPerSuite({ nodes: 2 }, (c) => (cluster = c));

  const nodesSeen = (): Promise<number[]> => seenBy(cluster);

  it("rejects with a ConnectionError saying 'timed out' when a lone server hangs", async () => {
    const conn = connect([cluster.urls[0] as string], { timeout: 200 });
    await cluster.fault({ node: 0, fault: { kind: "hang" } });
    const started = Date.now();
    await expectReject(conn.query("SELECT 1"), ConnectionError, /timed out after 200 ms/);
    expect(Date.now() - started).to.be.within(180, 1500);
    await conn.close();
  });

  it("covers the body: a slow body times out, the node stays in the rotation and the SELECT is not re-sent", async () => {
    const conn = connect(cluster.urls, { timeout: 250 });
    await cluster.fault({ node: 0, fault: { kind: "slow-body", delayMs: 150, chunks: 4 } });
    const err = await expectReject<ConnectionError>(conn.query("SELECT 1"), ConnectionError, /timed out after 250 ms/);
    expect(err.message).to.include(cluster.urls[0]).and.not.match(/No more servers/);
    expect(err.server).to.equal(cluster.urls[0]);
    const selects = (await cluster.requests()).filter((r) => r.body.startsWith('{"stmt":"SELECT 1'));
    expect(selects.map((r) => r.node)).to.deep.equal([0]);
    expect(conn.activeServers, "a statement timeout is not a dead node").to.include(cluster.urls[0]);
    await conn.close();
  });

  it("with retryOnTimeout, a SELECT that timed out after it was sent moves to the next node (and the node stays)", async () => {
    const conn = connect(cluster.urls, { timeout: 250, retryOnTimeout: true });
    await cluster.fault({ node: 0, fault: { kind: "slow-body", delayMs: 150, chunks: 4 } });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    // The kill's sys.jobs lookup also reaches node 0: count the SELECT itself.
    const selects = (await cluster.requests()).filter((r) => r.body.startsWith('{"stmt":"SELECT 1'));
    expect(selects.map((r) => r.node)).to.deep.equal([0, 1]);
    expect(selects[0]?.body, "the retry carries a marker of its own").not.to.equal(selects[1]?.body);
    expect(conn.activeServers).to.include(cluster.urls[0]);
    await conn.close();
  });

  it("with retryOnTimeout, a write that timed out is still never re-sent", async () => {
    const conn = connect(cluster.urls, { timeout: 200, retryOnTimeout: true });
    await cluster.fault({ node: 0, fault: { kind: "delay", delayMs: 600 } });
    await expectReject(conn.query("INSERT INTO to_once_r (id) VALUES (?)", [1]), ConnectionError, /timed out.*may have been executed/);
    const statements = (await cluster.requests()).filter((r) => r.body.includes('"INSERT INTO to_once_r'));
    expect(statements.map((r) => r.node)).to.deep.equal([0]);
    await conn.close();
  });

  it("reports, and does not re-send, a write that timed out", async () => {
    const conn = connect(cluster.urls, { timeout: 200 });
    await cluster.fault({ node: 0, fault: { kind: "delay", delayMs: 600 } });
    await expectReject(conn.query("INSERT INTO to_once (id) VALUES (?)", [1]), ConnectionError, /timed out.*may have been executed/);
    // The kill of the timed-out statement (a sys.jobs lookup, see the cancellation spec) is no re-send;
    // with a fast transport (Bun's fetch) it reaches the node before this check.
    const statements = (await cluster.requests()).filter((r) => r.body.includes('"INSERT INTO to_once'));
    expect(statements.map((r) => r.node)).to.deep.equal([0]);
    await conn.close();
  });

  it("lets a per-request timeout override the connection's", async () => {
    const conn = connect([cluster.urls[0] as string], { timeout: 10_000 });
    await cluster.fault({ node: 0, fault: { kind: "hang" } });
    await expectReject(conn.query("SELECT 1", [], { timeout: 150 }), ConnectionError, /timed out after 150 ms/);
    await conn.close();
  });

  it("rejects with the signal's reason on abort and never retries", async () => {
    const conn = connect(cluster.urls);
    await cluster.fault({ node: 0, fault: { kind: "hang" } });
    const controller = new AbortController();
    const reason = new Error("user gave up");
    setTimeout(() => controller.abort(reason), 100);
    let caught: unknown;
    try {
      await conn.query("SELECT 1", [], { signal: controller.signal });
    } catch (err) {
      caught = err;
    }
    expect(caught).to.equal(reason);
    // The kill of the aborted statement (a sys.jobs lookup, see the cancellation spec) is no retry.
    const statements = (await cluster.requests()).filter((r) => r.body.includes('"SELECT 1'));
    expect(statements.map((r) => r.node)).to.deep.equal([0]);
    await conn.close();
  });

  it("rejects at once, without I/O, when the signal is already aborted", async () => {
    const conn = connect(cluster.urls);
    const controller = new AbortController();
    controller.abort("stop");
    let caught: unknown;
    await conn.query("SELECT 1", [], { signal: controller.signal }).catch((err: unknown) => (caught = err));
    expect(caught).to.equal("stop");
    expect(await nodesSeen()).to.deep.equal([]);
    await conn.close();
  });
});
