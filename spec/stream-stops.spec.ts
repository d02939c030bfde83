// How a stream stops: only the consumer's own break/return ends an unfinished stream quietly; an abort or a
// close() from outside rejects the iteration, so that a cut-off result never looks complete. And whatever
// stops it, nothing is left behind: no cursor on a live session, no session on the Connection, no listener
// on the caller's signal.
import { expect } from "chai";
import { ConnectionError, ProgrammingError, connect, type Connection } from "cratedb-fetch";
import { clusterPerSuite } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, notApplicable, sleep } from "./support/helpers.js";
import { NO_SESSIONS, sessionsHere, waitFor } from "./support/sessions.js";

/** Counts the abort listeners the library keeps on one signal. */
function countedSignal(): { signal: AbortSignal; controller: AbortController; live: () => number } {
  const controller = new AbortController();
  const signal = controller.signal;
  const listeners = new Set<unknown>();
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((type: string, fn: EventListenerOrEventListenerObject, opts?: boolean | AddEventListenerOptions) => {
    if (type === "abort") listeners.add(fn);
    add(type, fn, opts);
  }) as AbortSignal["addEventListener"];
  signal.removeEventListener = ((type: string, fn: EventListenerOrEventListenerObject, opts?: boolean | EventListenerOptions) => {
    if (type === "abort") listeners.delete(fn);
    remove(type, fn, opts);
  }) as AbortSignal["removeEventListener"];
  return { signal, controller, live: () => listeners.size };
}

const sessionCount = (conn: Connection): number => (conn as unknown as { sessions: Set<unknown> }).sessions.size;

describe("Stream stops: abort and close() reject, break is quiet, nothing is left behind", () => {
  let cluster: ClusterHandle;
  let urls: string[];
  clusterPerSuite({ nodes: 1 }, (c) => {
    cluster = c;
    urls = c.urls;
  });

  beforeEach(function () {
    if (!sessionsHere) notApplicable(this, NO_SESSIONS);
  });

  const openCursors = async (): Promise<number> => (await cluster.cursors()).open;

  it("an abort between batches rejects the next pull with the signal's reason", async () => {
    const conn = connect(urls);
    const ac = new AbortController();
    const rows: unknown[] = [];
    const reason = new Error("stop between batches");
    await expectReject(async () => {
      for await (const row of conn.stream("SELECT * FROM generate_series(1, 5000)", [], { batchSize: 100, signal: ac.signal })) {
        rows.push(row);
        if (rows.length === 150) {
          ac.abort(reason);
          await sleep(50); // no FETCH in flight now: the next batch is already in memory
        }
      }
    }, Error, /stop between batches/);
    expect(rows.length).to.be.below(5000);
    await waitFor(async () => (await openCursors()) === 0);
    await conn.close();
  });

  it("an abort after stream() and before the first pull rejects the first pull, with nothing sent", async () => {
    const conn = connect(urls);
    await cluster.resetLog();
    const ac = new AbortController();
    const stream = conn.stream("SELECT * FROM generate_series(1, 10)", [], { signal: ac.signal });
    ac.abort(new Error("changed my mind"));
    await expectReject(async () => {
      for await (const _row of stream) expect.fail("no row expected");
    }, Error, /changed my mind/);
    expect(await cluster.requests()).to.deep.equal([]);
    await conn.close();
  });

  it("close() from outside rejects the iteration with a ProgrammingError and closes the cursor; break stays quiet", async () => {
    const conn = connect(urls);
    const stream = conn.stream("SELECT * FROM generate_series(1, 5000)", [], { batchSize: 100 });
    let seen = 0;
    await expectReject(async () => {
      for await (const _row of stream) {
        if (++seen === 120) await stream.close();
      }
    }, ProgrammingError, /closed/);
    expect(await openCursors()).to.equal(0);
    let quiet = 0;
    for await (const _row of conn.stream("SELECT * FROM generate_series(1, 5000)", [], { batchSize: 100 })) {
      if (++quiet === 120) break;
    }
    expect(quiet).to.equal(120);
    await waitFor(async () => (await openCursors()) === 0);
    await conn.close();
  });

  for (const phase of ["DECLARE", "FETCH"]) {
    it(`session.stream() closed while its ${phase} is in flight sends CLOSE afterwards: no cursor stays open on the live session`, async () => {
      const conn = connect(urls);
      const session = conn.session();
      await session.query("SELECT 1");
      await cluster.fault({ node: 0, fault: { kind: "delay", delayMs: 300 }, stmt: phase === "DECLARE" ? "DECLARE" : "FETCH" });
      const stream = session.stream("SELECT * FROM generate_series(1, 1000)", [], { batchSize: 10 });
      const it = stream.batches();
      const first = it.next();
      await sleep(100); // the statement is on the server now
      await stream.close();
      await expectReject(first, ProgrammingError, /closed/);
      expect(session.closed, "the session is alive").to.equal(false);
      expect(await openCursors()).to.equal(0);
      expect((await session.query("SELECT 2")).rows).to.deep.equal([[2]]);
      await conn.close();
    });
  }

  it("a failed FETCH and failing CLOSEs on a live session: CLOSE is retried, then reported; closing the session ends the cursor", async () => {
    const warnings: string[] = [];
    const conn = connect(urls, { logger: { warn: (m) => warnings.push(m) } });
    const session = conn.session();
    await session.query("SELECT 1");
    const stream = session.stream("SELECT * FROM generate_series(1, 1000)", [], { batchSize: 10 });
    const it = stream.batches();
    expect((await it.next()).value).to.have.length(10);
    await sleep(50); // the prefetch of batch 2 is done
    await cluster.fault({ node: 0, fault: { kind: "status", status: 503 }, stmt: "FETCH" });
    await cluster.fault({ node: 0, fault: { kind: "status", status: 503 }, stmt: "CLOSE", times: 2 });
    await it.next(); // the prefetched batch
    await expectReject(it.next(), ConnectionError, /503/);
    await waitFor(async () => (await openCursors()) === 0);
    expect(warnings, "a CLOSE that worked on its third try is not reported").to.deep.equal([]);

    const again = session.stream("SELECT * FROM generate_series(1, 1000)", [], { batchSize: 10 });
    const it2 = again.batches();
    await it2.next();
    await sleep(50);
    await cluster.fault({ node: 0, fault: { kind: "status", status: 503 }, stmt: "FETCH" });
    await cluster.fault({ node: 0, fault: { kind: "status", status: 503 }, stmt: "CLOSE", times: 3 });
    await it2.next();
    await expectReject(it2.next(), ConnectionError, /503/);
    expect(warnings.join("\n")).to.match(/CLOSE cratedb_fetch_\w+ failed 3 times/);
    expect(await openCursors(), "the cursor stays while the session lives").to.equal(1);
    await session.close();
    await waitFor(async () => (await openCursors()) === 0);
    await conn.close();
  });

  it("conn.stream() holds no session when it is rejected or never iterated", async () => {
    const conn = connect(urls);
    for (let i = 0; i < 50; i++) {
      expect(() => conn.stream("INSERT INTO t VALUES (1)")).to.throw(ProgrammingError);
      conn.stream("SELECT 1");
    }
    expect(sessionCount(conn)).to.equal(0);
    for await (const _row of conn.stream("SELECT 1")) expect(sessionCount(conn)).to.equal(1);
    expect(sessionCount(conn), "released when the stream ended").to.equal(0);
    await conn.close();
  });

  it("2000 streams, queries and sessions on one long-lived signal leave no listener on it", async function () {
    this.timeout(60_000);
    const conn = connect(urls, { timeout: 10_000 });
    const { signal, live } = countedSignal();
    for (let i = 0; i < 2000; i++) {
      if (i % 4 === 0) for await (const _row of conn.stream("SELECT ?", [i], { signal })) break;
      else if (i % 4 === 1) for await (const _row of conn.stream("SELECT ?", [i], { signal }));
      else if (i % 4 === 2) await conn.query("SELECT ?", [i], { signal });
      else await conn.withSession((s) => s.query("SELECT ?", [i], { signal }));
    }
    expect(live()).to.equal(0);
    await conn.close();
  });
});
