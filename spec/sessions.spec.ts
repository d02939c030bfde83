import { expect } from "chai";
import { ConnectionError, NotSupportedError, ProgrammingError, Session, connect } from "cratedb-fetch";
import { clusterPerSuite, nodesSeen, startCluster, withCluster } from "./support/cluster.js";
import type { ClusterCerts, ClusterHandle } from "./support/cluster-api.js";
import { expectReject, expectThrow, notApplicable, runtime } from "./support/helpers.js";
import { NO_SESSIONS, sessionsHere, waitFor } from "./support/sessions.js";


describe("Sessions: requests pinned to one connection on one node", () => {
  let cluster: ClusterHandle;
  let urls: string[];
  clusterPerSuite({ nodes: 3 }, (c) => {
    cluster = c;
    urls = c.urls;
  }, { restartNodes: true });

  beforeEach(function () {
    if (!sessionsHere && !/refuse/.test(this.currentTest?.title ?? "")) notApplicable(this, NO_SESSIONS);
  });

  const connectionsOf = async (node: number): Promise<number[]> =>
    [...new Set((await cluster.requests(node)).map((r) => r.connection))];

  it("SET search_path in a session is seen by its next query and by no other session or Connection", async () => {
    const conn = connect(urls);
    const other = connect(urls);
    const a = conn.session();
    const b = conn.session();
    expect(a).to.be.instanceOf(Session);
    await a.query("SET search_path TO in_session_a");
    expect((await a.query("SELECT current_schema")).rows).to.deep.equal([["in_session_a"]]);
    expect((await b.query("SELECT current_schema")).rows).to.deep.equal([["doc"]]);
    for (let i = 0; i < 4; i++) expect((await conn.query("SELECT current_schema")).rows).to.deep.equal([["doc"]]);
    expect((await other.query("SELECT current_schema")).rows).to.deep.equal([["doc"]]);
    expect((await a.query("SELECT current_schema")).rows, "still pinned after other traffic").to.deep.equal([["in_session_a"]]);
    expect((await a.sql`SELECT current_schema, ${"tagged"}`).rows, "the sql tag of a session").to.deep.equal([["in_session_a", "tagged"]]);
    await conn.close();
    await other.close();
  });

  it("sends every request of a session on one socket to one node, chosen by the pool", async () => {
    const conn = connect(urls);
    await cluster.resetLog();
    await conn.withSession(async (s) => {
      for (let i = 0; i < 6; i++) expect((await s.query("SELECT ?", [i])).rows).to.deep.equal([[i]]);
      expect(s.server).to.equal(urls[0]);
    });
    expect(await nodesSeen(cluster)).to.deep.equal([0, 0, 0, 0, 0, 0]);
    expect(await connectionsOf(0)).to.have.length(1);
    await conn.close();
  });

  it("fails over while no request reached a node, then stays on the node it found", async () => {
    const conn = connect(urls);
    await cluster.stopNode(0);
    const s = conn.session();
    expect((await s.query("SELECT 1")).rows).to.deep.equal([[1]]);
    expect(s.server).to.equal(urls[1]);
    await cluster.startNode(0);
    for (let i = 0; i < 3; i++) await s.query("SELECT 2");
    expect((await cluster.requests()).every((r) => r.node === 1)).to.equal(true);
    await conn.close();
  });

  for (const status of [503, 509]) {
    it(`a ${status} on a session's first request fails it over to the next node (new socket); once bound, a ${status} is an error and the session stays`, async () => {
      const conn = connect(urls);
      await cluster.resetLog();
      await cluster.fault({ node: 0, fault: { kind: "status", status } });
      const s = conn.session();
      expect((await s.query("SELECT 'first'")).rows).to.deep.equal([["first"]]);
      expect(s.server).to.equal(urls[1]);
      await cluster.fault({ node: 1, fault: { kind: "status", status } });
      await expectReject(s.query("SELECT 'bound'"), ConnectionError, new RegExp(String(status)));
      expect(s.server).to.equal(urls[1]);
      expect((await s.query("SELECT 'still'")).rows).to.deep.equal([["still"]]);
      expect(await nodesSeen(cluster)).to.deep.equal([0, 1, 1, 1]);
      expect(await connectionsOf(1), "one socket on the node it bound to").to.have.length(1);
      await conn.close();
    });
  }

  it("a broken session socket is a ConnectionError saying the session is lost, never a silent reconnect", async () => {
    const conn = connect(urls);
    const s = conn.session();
    await s.query("SET search_path TO lost_schema");
    const node = urls.indexOf(s.server as string);
    await cluster.stopNode(node);
    await cluster.startNode(node);
    const err = await expectReject<ConnectionError>(s.query("SELECT current_schema"), ConnectionError, /session .*is lost/);
    expect(err.server).to.equal(s.server);
    expect(s.closed).to.equal(true);
    await expectReject(s.query("SELECT 1"), ConnectionError, /session .*is lost/);
    expect((await conn.query("SELECT current_schema")).rows, "the Connection itself carries on").to.deep.equal([["doc"]]);
    await conn.close();
  });

  it("a write whose session breaks mid-request is never re-sent", async () => {
    const conn = connect(urls);
    await cluster.resetLog();
    const s = conn.session();
    await s.query("CREATE TABLE IF NOT EXISTS session_w (id INT)");
    const node = urls.indexOf(s.server as string);
    await cluster.fault({ node, fault: { kind: "reset-after-headers" }, stmt: "INSERT INTO session_w" });
    await expectReject(s.query("INSERT INTO session_w (id) VALUES (1)"), ConnectionError, /session .*is lost/);
    expect((await cluster.requests()).filter((r) => r.body.includes("INSERT INTO session_w"))).to.have.length(1);
    await conn.close();
  });

  // A cluster of its own: no fetch of earlier specs keeps a platform-owned socket open there (workerd does).
  it("close() releases the session's socket; calls after close() throw ProgrammingError", async () => {
    await withCluster({}, async (own) => {
      const openNow = async (): Promise<number | undefined> => (await own.stats()).nodes[0]?.connectionsOpen;
      const conn = connect(own.urls);
      const s = conn.session();
      await s.query("SELECT 1");
      expect(await openNow()).to.equal(1);
      await s.close();
      await s.close();
      await expectReject(s.query("SELECT 1"), ProgrammingError, /Session closed/);
      await waitFor(async () => (await openNow()) === 0);
      const t = conn.session();
      await t.query("SELECT 1");
      expect(await openNow()).to.equal(1);
      await conn.close();
      await expectReject(t.query("SELECT 1"), ProgrammingError, /Connection closed/);
      expectThrow(() => conn.session(), ProgrammingError, /Connection closed/);
      await waitFor(async () => (await openNow()) === 0);
    });
  });

  it("withSession() closes the session when the function throws", async () => {
    await withCluster({}, async (own) => {
      const conn = connect(own.urls);
      let kept: Session | undefined;
      await expectReject(conn.withSession(async (s) => {
        kept = s;
        await s.query("SELECT 1");
        throw new Error("boom");
      }), Error, /boom/);
      expect(kept?.closed).to.equal(true);
      await waitFor(async () => (await own.stats()).nodes[0]?.connectionsOpen === 0);
      await conn.close();
    });
  });

  it("queues concurrent requests of a session on its one socket, in order", async () => {
    const conn = connect(urls);
    await cluster.resetLog();
    const s = conn.session();
    await s.query("SET search_path TO queued");
    const results = await Promise.all(Array.from({ length: 8 }, (_v, i) => s.query("SELECT ?, current_schema", [i])));
    expect(results.map((r) => r.rows[0])).to.deep.equal(Array.from({ length: 8 }, (_v, i) => [i, "queued"]));
    const seen = await cluster.requests();
    expect(new Set(seen.map((r) => `${r.node}/${r.connection}`)).size).to.equal(1);
    expect(seen.slice(1).map((r) => (JSON.parse(r.body) as { args: number[] }).args[0])).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    await conn.close();
  });

  it("a request that times out while queued is not sent, and the session carries on", async () => {
    const conn = connect(urls);
    const s = conn.session();
    await s.query("SET search_path TO still_here");
    const node = urls.indexOf(s.server as string);
    await cluster.fault({ node, fault: { kind: "delay", delayMs: 400 }, stmt: "SELECT 'slow'" });
    const slow = s.query("SELECT 'slow'");
    await expectReject(s.query("SELECT 'queued'", [], { timeout: 100 }), ConnectionError, /timed out/);
    expect((await slow).rows).to.deep.equal([["slow"]]);
    expect((await s.query("SELECT current_schema")).rows).to.deep.equal([["still_here"]]);
    expect((await cluster.requests()).some((r) => r.body.includes("queued"))).to.equal(false);
    await conn.close();
  });

  it("BEGIN and a cursor declared by hand live in the session (WITHOUT HOLD inside BEGIN, gone after COMMIT)", async () => {
    const conn = connect(urls);
    await conn.withSession(async (s) => {
      await s.query("BEGIN");
      await s.query("DECLARE by_hand NO SCROLL CURSOR WITHOUT HOLD FOR SELECT * FROM generate_series(1, 5)");
      expect((await s.query("FETCH 2 FROM by_hand")).rows).to.deep.equal([[1], [2]]);
      expect((await s.query("FETCH 2 FROM by_hand")).rows).to.deep.equal([[3], [4]]);
      await expectReject(conn.query("FETCH 1 FROM by_hand"), ProgrammingError, /No cursor named/);
      await s.query("COMMIT");
      await expectReject(s.query("FETCH 1 FROM by_hand"), ProgrammingError, /No cursor named/);
      expect((await cluster.cursors()).open).to.equal(0);
    });
    await conn.close();
  });

  it("runs bulk requests and PEP 249 cursors in the session", async () => {
    const conn = connect(urls);
    await conn.withSession(async (s) => {
      await s.query("CREATE TABLE IF NOT EXISTS session_bulk (id INT)");
      expect((await s.bulk("INSERT INTO session_bulk (id) VALUES (?)", [[1], [2]])).rowcount).to.equal(2);
      await s.query("REFRESH TABLE session_bulk");
      const cur = s.cursor();
      await cur.execute("SELECT id FROM session_bulk ORDER BY id");
      const seen: unknown[] = [];
      for await (const row of cur) seen.push(row);
      expect(seen).to.deep.equal([[1], [2]]);
    });
    await conn.close();
  });

  it("refuses sessions where the platform cannot pin a connection, naming the reason", async function () {
    if (sessionsHere) {
      const conn = connect(urls, { fetch: (u, i) => fetch(u, i) });
      expectThrow(() => conn.session(), NotSupportedError, /custom 'fetch'/);
      expectThrow(() => conn.stream("SELECT 1"), NotSupportedError, /custom 'fetch'/);
      await conn.close();
      return;
    }
    const conn = connect(urls);
    expectThrow(() => conn.session(), NotSupportedError, /browser/);
    expectThrow(() => conn.stream("SELECT 1"), NotSupportedError, /browser/);
    await conn.close();
  });
});


describe("Sessions over TLS: the session socket takes the connection's TLS options", () => {
  let tls: ClusterHandle | undefined;
  let mtls: ClusterHandle | undefined;
  const socketsWithTlsOptions = runtime === "node" || runtime === "deno" || runtime === "bun";
  before(async function () {
    if (!socketsWithTlsOptions) return;
    tls = await startCluster({ tls: true });
    mtls = await startCluster({ tls: true, clientCert: "required" });
  });
  after(async () => {
    await tls?.close();
    await mtls?.close();
  });
  beforeEach(function () {
    if (!socketsWithTlsOptions) {
      notApplicable(this, runtime === "browser" ? NO_SESSIONS : "TLS options are not supported here (NotSupportedError at connect); " +
        "the lane's test CA is trusted only by a network-service binding, which cloudflare:sockets does not use");
    }
  });

  it("verifies the node with caCert, refuses it without, and skips verification with verifySslCert: false", async () => {
    const c = tls as ClusterHandle;
    const certs = c.certs as ClusterCerts;
    const ok = connect(c.urls, { caCert: certs.ca });
    await ok.withSession(async (s) => {
      await s.query("SET search_path TO over_tls");
      expect((await s.query("SELECT current_schema")).rows).to.deep.equal([["over_tls"]]);
    });
    await ok.close();
    const untrusted = connect(c.urls);
    await expectReject(untrusted.withSession((s) => s.query("SELECT 1")), ConnectionError, /certificate|self[- ]signed|issuer/i);
    await untrusted.close();
    const unverified = connect(c.urls, { verifySslCert: false });
    expect((await unverified.withSession((s) => s.query("SELECT 2"))).rows).to.deep.equal([[2]]);
    await unverified.close();
  });

  it("presents the client certificate", async () => {
    const c = mtls as ClusterHandle;
    const certs = c.certs as ClusterCerts;
    const conn = connect(c.urls, { caCert: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey });
    for await (const row of conn.stream("SELECT * FROM generate_series(1, 3)", [], { batchSize: 2 })) expect(row).to.have.length(1);
    expect((await c.cursors()).open).to.equal(0);
    await conn.close();
  });
});
