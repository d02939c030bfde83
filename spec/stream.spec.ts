import { expect } from "chai";
import { ConnectionError, InterfaceError, ProgrammingError, RowStream, connect } from "cratedb-fetch";
import { clusterPerSuite } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, expectThrow, notApplicable, runtime, sleep } from "./support/helpers.js";
import { NO_SESSIONS, sessionsHere, waitForKill } from "./support/sessions.js";

/** Resident memory where the runtime tells it (Node, Bun, Deno). */
function rss(): number | undefined {
  const g = globalThis as { process?: { memoryUsage?: () => { rss: number } }; Deno?: { memoryUsage?: () => { rss: number } } };
  return g.Deno?.memoryUsage?.().rss ?? g.process?.memoryUsage?.().rss;
}

/** Pulls batches until one pull rejects (at most 5): a prefetched batch may come first. */
async function untilRejected(it: AsyncIterator<unknown>): Promise<unknown> {
  for (let i = 0; i < 5; i++) {
    const r = await it.next();
    if (r.done === true) return r;
  }
  return "no rejection after 5 pulls";
}

describe("stream(): results larger than memory through a server-side cursor", () => {
  let cluster: ClusterHandle;
  let urls: string[];
  clusterPerSuite({ nodes: 2 }, (c) => {
    cluster = c;
    urls = c.urls;
  }, { restartNodes: true });

  beforeEach(function () {
    if (!sessionsHere) notApplicable(this, NO_SESSIONS);
  });

  /**
   * Waits until no cursor is open and no socket is left on any node. In workerd, fetch's sockets belong to
   * the platform, which keeps them alive after conn.close(): sockets that carried only the kill's requests
   * (sys.jobs lookup, KILL) are allowed there.
   */
  async function nothingLeftOpen(): Promise<void> {
    const until = Date.now() + 3000;
    for (;;) {
      const [cursors, stats, seen] = await Promise.all([cluster.cursors(), cluster.stats(), cluster.requests()]);
      let allowed = 0;
      if (runtime === "workerd") {
        const byConn = new Map<string, boolean>();
        for (const r of seen) {
          const key = `${r.node}/${r.connection}`;
          byConn.set(key, (byConn.get(key) ?? true) && /sys\.jobs|"KILL/.test(r.body));
        }
        allowed = [...byConn.values()].filter(Boolean).length;
      }
      const sockets = stats.nodes.reduce((n, s) => n + s.connectionsOpen, 0);
      if (cursors.open === 0 && sockets <= allowed) return;
      if (Date.now() > until) expect({ cursorsOpen: cursors.open, socketsOpen: sockets - allowed }).to.deep.equal({ cursorsOpen: 0, socketsOpen: 0 });
      await sleep(25);
    }
  }

  it("streams 1 000 000 rows, every row checked, with little memory growth", async function () {
    const heavy = runtime === "node" || runtime === "deno" || runtime === "bun";
    const total = heavy ? 1_000_000 : 50_000;
    this.timeout(120_000);
    const conn = connect(urls);
    const before = rss();
    let peak = before ?? 0;
    let expected = 1;
    // A full collection now and then (where the runtime offers one) measures what the stream retains, not how
    // lazily the garbage collector returns memory (Deno under load let RSS drift to 60 MB without one).
    const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
    const collect = g.gc ?? (g.Bun ? () => g.Bun?.gc(true) : undefined);
    let batches = 0;
    const stream = conn.stream<[number, number]>(`SELECT generate_series, generate_series * 2 FROM generate_series(1, ${total})`);
    for await (const batch of stream.batches()) {
      for (const [n, twice] of batch) {
        if (n !== expected || twice !== 2 * n) expect([n, twice]).to.deep.equal([expected, 2 * expected]);
        expected++;
      }
      if (++batches % 100 === 0) collect?.();
      peak = Math.max(peak, rss() ?? 0);
    }
    expect(expected - 1).to.equal(total);
    expect(stream.rowcount).to.equal(total);
    expect(stream.cols).to.have.length(2);
    expect(stream.cols[0]).to.equal("generate_series");
    if (before !== undefined) {
      const growthMb = (peak - before) / 2 ** 20;
      console.log(`      ${total} rows streamed; RSS growth ${growthMb.toFixed(1)} MB`);
      expect(growthMb).to.be.below(50);
    }
    await nothingLeftOpen();
    await conn.close();
  });

  it("row by row, with rowMode, int64 and column types per batch; the cursor is closed at the end", async () => {
    const conn = connect(urls, { int64: "bigint" });
    const rows: unknown[] = [];
    const stream = conn.stream("SELECT * FROM generate_series(1, 7)", undefined, { batchSize: 3, rowMode: "object" });
    for await (const row of stream) rows.push(row);
    expect(rows).to.deep.equal([1n, 2n, 3n, 4n, 5n, 6n, 7n].map((v) => ({ generate_series: v })));
    expect(stream.colTypes).to.deep.equal([10]);
    const sent = (await cluster.requests()).map((r) => (JSON.parse(r.body) as { stmt: string }).stmt);
    expect(sent[0]).to.match(/^DECLARE cratedb_fetch_[0-9a-f]{32} NO SCROLL CURSOR WITH HOLD FOR SELECT \* FROM generate_series\(1, 7\)$/);
    expect(sent.slice(1, 4).map((s) => s.replace(/cratedb_fetch_\w+/, "c"))).to.deep.equal(["FETCH 3 FROM c", "FETCH 3 FROM c", "FETCH 3 FROM c"]);
    expect(sent[4]).to.match(/^CLOSE cratedb_fetch_/);
    expect(new Set((await cluster.requests()).map((r) => `${r.node}/${r.connection}`)).size, "one socket").to.equal(1);
    const c = await cluster.cursors();
    expect(c.open).to.equal(0);
    await nothingLeftOpen();
    await conn.close();
  });

  it("break after the first batch leaves 0 open cursors and 0 open sockets", async () => {
    const conn = connect(urls);
    let seen = 0;
    for await (const row of conn.stream("SELECT * FROM generate_series(1, 100000)", [], { batchSize: 100 })) {
      seen++;
      if (seen === 100) break;
      void row;
    }
    expect(seen).to.equal(100);
    expect((await cluster.cursors()).declared).to.be.greaterThan(0);
    await nothingLeftOpen();
    await conn.close();
  });

  it("a throw in the loop leaves 0 open cursors and 0 open sockets", async () => {
    const conn = connect(urls);
    await expectReject((async () => {
      for await (const batch of conn.stream("SELECT * FROM generate_series(1, 100000)", [], { batchSize: 100 }).batches()) {
        if (batch.length > 0) throw new Error("consumer failed");
      }
    })(), Error, /consumer failed/);
    await nothingLeftOpen();
    await conn.close();
  });

  it("an abort mid-stream rejects with the reason, kills the FETCH on the server and leaves nothing open", async () => {
    const conn = connect(urls);
    const ac = new AbortController();
    const stream = conn.stream("SELECT * FROM generate_series(1, 100000)", [], { batchSize: 100, signal: ac.signal });
    const it = stream.batches();
    expect((await it.next()).value).to.have.length(100);
    const node = (await cluster.requests())[0]?.node ?? 0;
    await cluster.fault({ node, fault: { kind: "job", ms: 10_000 }, stmt: "FETCH" });
    const started = Date.now();
    setTimeout(() => ac.abort(new Error("user gave up")), 100);
    // The batch after the first may already be prefetched: the FETCH that hangs is the one after it.
    await expectReject(untilRejected(it), Error, /user gave up/);
    expect(Date.now() - started).to.be.below(1000);
    const fetchJob = await waitForKill(cluster, "FETCH");
    expect(fetchJob.stmt).to.match(/^FETCH 100 FROM cratedb_fetch_\w+\n\/\* cratedb-fetch:[0-9a-f-]{36} \*\/$/);
    expect((await cluster.cursors()).open).to.equal(0);
    // The kill went through the pool (a fresh request): its keep-alive socket goes with conn.close().
    await conn.close();
    await nothingLeftOpen();
  });

  it("a node killed mid-stream is a ConnectionError naming the lost session, and nothing is left open", async () => {
    const conn = connect(urls);
    const it = conn.stream("SELECT * FROM generate_series(1, 100000)", [], { batchSize: 100 }).batches();
    await it.next();
    const node = (await cluster.requests())[0]?.node ?? 0;
    await cluster.stopNode(node);
    await expectReject(untilRejected(it), ConnectionError, /session .*is lost/);
    await cluster.startNode(node);
    await nothingLeftOpen();
    await conn.close();
  });

  it("runs on a session: sees its settings, leaves it usable, closes its cursor", async () => {
    const conn = connect(urls);
    await conn.withSession(async (s) => {
      await s.query("CREATE TABLE IF NOT EXISTS stream_s.t (id INT)");
      await s.query("INSERT INTO stream_s.t (id) VALUES (1), (2), (3)");
      await s.query("REFRESH TABLE stream_s.t");
      await s.query("SET search_path TO stream_s");
      const ids: unknown[] = [];
      for await (const [id] of s.stream<[number]>("SELECT id FROM t ORDER BY id", [], { batchSize: 2 })) ids.push(id);
      expect(ids).to.deep.equal([1, 2, 3]);
      expect((await cluster.cursors()).open).to.equal(0);
      expect((await s.query("SELECT current_schema")).rows).to.deep.equal([["stream_s"]]);
    });
    await nothingLeftOpen();
    await conn.close();
  });

  it("close() before or during iteration; conn.close() closes open streams", async () => {
    const conn = connect(urls);
    const idle = conn.stream("SELECT 1");
    await idle.close();
    const none: unknown[] = [];
    await expectReject(async () => {
      for await (const row of idle) none.push(row);
    }, ProgrammingError, /closed/);
    expect(none).to.deep.equal([]);
    const open = conn.stream("SELECT * FROM generate_series(1, 1000)", [], { batchSize: 10 });
    const it = open.batches();
    await it.next();
    expect((await cluster.cursors()).open).to.equal(1);
    await conn.close();
    await nothingLeftOpen();
  });

  it("rejects what DECLARE cannot run, before any I/O", async () => {
    const conn = connect(urls);
    await cluster.resetLog();
    expectThrow(() => conn.stream("WITH x AS (SELECT 1) SELECT * FROM x"), ProgrammingError, /WITH/);
    expectThrow(() => conn.stream("  /* c */ with x AS (SELECT 1) SELECT * FROM x"), ProgrammingError, /WITH/);
    expectThrow(() => conn.stream("INSERT INTO t VALUES (1)"), ProgrammingError, /SELECT or VALUES/);
    expectThrow(() => conn.stream("SELECT 1", [], { batchSize: 0 }), InterfaceError, /batchSize/);
    expectThrow(() => conn.stream("SELECT 1", [], { batchSize: 1.5 }), InterfaceError, /batchSize/);
    expectThrow(() => conn.stream(""), InterfaceError, /non-empty/);
    const once = conn.stream("SELECT 1");
    expect(once).to.be.instanceOf(RowStream);
    for await (const row of once) void row;
    await expectReject(async () => {
      for await (const row of once) void row;
    }, ProgrammingError, /only once/);
    const sent = (await cluster.requests()).map((r) => (JSON.parse(r.body) as { stmt: string }).stmt.split(" ")[0]);
    expect(sent, "only the stream that was iterated").to.deep.equal(["DECLARE", "FETCH", "CLOSE"]);
    await conn.close();
  });
});

