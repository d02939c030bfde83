import { expect } from "chai";
import { ConnectionError, connect } from "cratedb-fetch";
import { clusterPerSuite, nodesSeen as seenBy } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, notApplicable, notApplicableBehindProxy, runtime, sleep } from "./support/helpers.js";

describe("Failover across a 3-node cluster", () => {
  let cluster: ClusterHandle;
  let urls: string[];
  clusterPerSuite({ nodes: 3 }, (c) => ((cluster = c), (urls = c.urls)), { restartNodes: true });

  const nodesSeen = (): Promise<number[]> => seenBy(cluster);

  it("rotates round robin, one step per attempt", async () => {
    const conn = connect(urls);
    for (let i = 0; i < 6; i++) await conn.query("SELECT 1");
    expect(await nodesSeen()).to.deep.equal([0, 1, 2, 0, 1, 2]);
    await conn.query("SELECT 1");
    expect(conn.activeServers).to.deep.equal([urls[1], urls[2], urls[0]]);
    await conn.close();
  });

  it("takes a refused node out, logs it, and restores it after retryInterval at the end of the rotation", async function () {
    const warnings: string[] = [];
    const conn = connect(urls, { retryInterval: 300, logger: { warn: (m) => warnings.push(m) } });
    await cluster.stopNode(1);
    await conn.query("SELECT 1"); // node 0
    await conn.query("SELECT 1"); // node 1 refused → node 2
    expect(conn.activeServers).to.deep.equal([urls[0], urls[2]]);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.match(new RegExp(`^server removed: ${urls[1]}`));
    await conn.query("SELECT 1"); // node 0, still without node 1
    expect(await nodesSeen()).to.deep.equal([0, 2, 0]);
    await cluster.startNode(1);
    await sleep(350);
    expect(conn.activeServers).to.deep.equal([urls[2], urls[0], urls[1]]);
    expect(warnings[1]).to.equal(`server restored: ${urls[1]}`);
    await conn.close();
  });

  it("fails over on 503 and on a proxy's HTML 502 page", async () => {
    const conn = connect(urls);
    await cluster.fault({ node: 0, fault: { kind: "status", status: 503, code: 5030 } });
    await cluster.fault({ node: 1, fault: { kind: "html", status: 502 } });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    expect(await nodesSeen()).to.deep.equal([0, 1, 2]);
    expect(conn.activeServers).to.deep.equal([urls[2]]);
    await conn.close();
  });

  it("does not fail over on other HTTP errors", async () => {
    const conn = connect(urls);
    await cluster.fault({ node: 0, fault: { kind: "status", status: 500, code: 5000 } });
    await expectReject(conn.query("SELECT 1"), Error, /code 5000|5000|Exception/);
    expect(await nodesSeen()).to.deep.equal([0]);
    await conn.close();
  });

  it("rejects with ConnectionError once every node failed (backoffFactor 0)", async () => {
    const conn = connect(urls);
    for (let i = 0; i < 3; i++) await cluster.fault({ node: i, fault: { kind: "status", status: 503 } });
    const err = await expectReject<ConnectionError>(conn.query("SELECT 1"), ConnectionError, /^No more servers available, exception from last server: .*503/);
    expect(err.server).to.equal(urls[2]);
    expect(await nodesSeen()).to.deep.equal([0, 1, 2]);
    await conn.close();
  });

  it("tries the node that failed longest ago when none is active", async () => {
    const conn = connect(urls);
    for (let i = 0; i < 3; i++) await cluster.fault({ node: i, fault: { kind: "status", status: 503 } });
    await expectReject(conn.query("SELECT 1"), ConnectionError);
    expect(conn.activeServers).to.deep.equal([]);
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    expect((await nodesSeen()).slice(3)).to.deep.equal([0]);
    await conn.close();
  });

  it("counts every attempt after the first against maxRetries", async () => {
    const conn = connect(urls, { maxRetries: 1 });
    for (let i = 0; i < 3; i++) await cluster.fault({ node: i, fault: { kind: "status", status: 503 } });
    await expectReject(conn.query("SELECT 1"), ConnectionError, /No more servers available/);
    expect(await nodesSeen()).to.deep.equal([0, 1]);
    await conn.close();
  });

  it("waits 0, f, 2f between retries with backoffFactor f", async () => {
    const conn = connect([urls[0] as string], { backoffFactor: 60, maxRetries: 3 });
    await cluster.fault({ node: 0, fault: { kind: "status", status: 503 }, times: 4 });
    const started = Date.now();
    await expectReject(conn.query("SELECT 1"), ConnectionError);
    const elapsed = Date.now() - started;
    expect(await nodesSeen()).to.deep.equal([0, 0, 0, 0]);
    expect(elapsed).to.be.at.least(0 + 60 + 120 - 5);
    expect(elapsed).to.be.below(2000);
    await conn.close();
  });

  it("an abort during the backoff between retries rejects at once with its reason, and nothing more is sent", async () => {
    const conn = connect([urls[0] as string], { backoffFactor: 5000, maxRetries: 3 });
    // Attempt 1, then attempt 2 at once (the first retry waits 0), then a 5 s backoff: the abort lands in it.
    await cluster.fault({ node: 0, fault: { kind: "status", status: 503 }, times: 2 });
    const ac = new AbortController();
    const reason = new Error("user gave up");
    const pending = conn.query("SELECT 1", [], { signal: ac.signal }).then(() => undefined, (e: unknown) => e);
    await sleep(300);
    const started = Date.now();
    ac.abort(reason);
    expect(await pending).to.equal(reason);
    expect(Date.now() - started).to.be.below(500);
    await sleep(200);
    expect(await nodesSeen(), "no attempt after the abort").to.deep.equal([0, 0]);
    await conn.close();
  });

  it("re-sends a SELECT to the next node after a reset mid-response", async () => {
    const conn = connect(urls);
    await cluster.fault({ node: 0, fault: { kind: "reset-after-headers" } });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    expect(await nodesSeen()).to.deep.equal([0, 1]);
    await conn.close();
  });

  it("re-sends a SELECT after a truncated body", async () => {
    const conn = connect(urls);
    await cluster.fault({ node: 0, fault: { kind: "truncated-body" } });
    expect((await conn.query("SELECT ?", ["x".repeat(100)])).rows).to.deep.equal([["x".repeat(100)]]);
    expect(await nodesSeen()).to.deep.equal([0, 1]);
    await conn.close();
  });

  it("never re-sends an INSERT after a reset mid-response: the server counts exactly one", async () => {
    const conn = connect(urls);
    await cluster.fault({ node: 0, fault: { kind: "reset-after-headers" } });
    const err = await expectReject<ConnectionError>(conn.query("INSERT INTO fo_once (id) VALUES (?)", [1]), ConnectionError, /may have been executed/);
    expect(err.server).to.equal(urls[0]);
    expect(await nodesSeen()).to.deep.equal([0]);
    expect((await cluster.stats()).tables["doc.fo_once"]).to.deep.equal([[1]]);
    await conn.close();
  });

  it("never re-sends an INSERT after a reset before the response headers", async () => {
    const conn = connect(urls);
    await cluster.fault({ node: 0, fault: { kind: "reset-before-headers" } });
    await expectReject(conn.query("INSERT INTO fo_twice (id) VALUES (?)", [1]), ConnectionError, /may have been executed/);
    expect(await nodesSeen()).to.deep.equal([0]);
    await conn.close();
  });

  it("fails an INSERT over to the next node when the first refused the connection", async function () {
    if (runtime === "workerd") return notApplicable(this, 'workerd reports a refused connection as "Network connection lost.", the same error as a connection lost after the request was sent, so the client cannot know that the INSERT was not delivered and must not re-send it');
    if (runtime === "browser") return notApplicable(this, 'Chromium reports a refused connection as "TypeError: Failed to fetch", the same error as a CORS rejection or a connection lost after the request was sent, so the client cannot know that the INSERT was not delivered and must not re-send it');
    notApplicableBehindProxy(this, { nginx: "nginx answers 502 Bad Gateway when the node refuses the connection, the same status as for a request lost after it reached the node, so the client cannot know that the INSERT was not delivered and must not re-send it (HAProxy answers 503 there, which fails the INSERT over)" });
    const conn = connect(urls);
    await cluster.stopNode(0);
    expect((await conn.query("INSERT INTO fo_refused (id) VALUES (?)", [7])).rowcount).to.equal(1);
    expect(await nodesSeen()).to.deep.equal([1]);
    expect((await cluster.stats()).tables["doc.fo_refused"]).to.deep.equal([[7]]);
    await conn.close();
  });

  it("does not fail over a request pinned to one server", async function () {
    notApplicableBehindProxy(this, "the proxy accepts the connection for a stopped node and answers it (nginx 502, HAProxy 503), so the pinned request rejects with \"answered 50x\", not with the \"not available\" of a refused connection");
    const conn = connect(urls);
    await cluster.stopNode(1);
    const err = await expectReject<ConnectionError>(conn.serverInfo(urls[1]), ConnectionError, /not available/);
    expect(err.server).to.equal(urls[1]);
    await cluster.fault({ node: 2, fault: { kind: "status", status: 503 }, path: "/" });
    await expectReject(conn.serverInfo(urls[2]), ConnectionError, /503/);
    expect(await nodesSeen()).to.deep.equal([2]);
    await conn.close();
  });

  it("rejects with ConnectionError when no server is reachable at all", async () => {
    const conn = connect(["http://127.0.0.1:1", "http://127.0.0.1:2"]);
    // workerd says only "Network connection lost." for a refused connection (the OS error goes to its stderr).
    // Chromium says only "Failed to fetch" (ports 1 and 2 are even on its blocked-port list, ERR_UNSAFE_PORT in the console).
    const reason = runtime === "workerd" ? "Network connection lost" : runtime === "browser" ? "Failed to fetch" : "(ECONNREFUSED|refused)";
    const err = await expectReject<ConnectionError>(conn.query("SELECT 1"), ConnectionError,
      new RegExp(`No more servers available, exception from last server: http://127\\.0\\.0\\.1:2: .*${reason}`, "i"));
    expect(err.cause).to.be.instanceOf(ConnectionError);
    await conn.close();
  });
});
