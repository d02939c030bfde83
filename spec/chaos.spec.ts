// Chaos: one case per fault against a 3-node fake cluster, each asserting what the caller observes
// and what the server executed. The rules under test (API.md, Failover): a read moves on after any
// failure; a write is re-sent only when it cannot have reached a server, and otherwise rejects at
// once with a ConnectionError saying it may have been executed. Runtime-agnostic: plain imports only.
import { expect } from "chai";
import {
  ConnectionError, CrateDBError, DataError, InternalError, OperationalError, ProgrammingError, connect,
  type Connection,
} from "cratedb-fetch";
import { clusterPerSuite, nodesSeen as seenBy, startCluster } from "./support/cluster.js";
import type { ClusterHandle, Fault, SeenRequest } from "./support/cluster-api.js";
import { expectReject, keepsSockets, notApplicable, runtime, sleep } from "./support/helpers.js";

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

async function settle<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Runs `n` operations with at most `inFlight` at a time; `onDone` sees the running count of finished ones. */
async function runPool<T>(n: number, inFlight: number, op: (i: number) => Promise<T>, onDone?: (done: number) => void): Promise<Array<Outcome<T>>> {
  const results: Array<Outcome<T>> = new Array(n);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      results[i] = await settle(op(i));
      onDone?.(++done);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return results;
}

/**
 * Blocks the event loop (not just this task) for `ms`: the server's idle timer fires and its FIN
 * arrives while the client cannot process it, so the next request goes out on a socket the server
 * has already closed, the classic stale keep-alive race, made deterministic.
 */
function blockFor(ms: number): void {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    return;
  } catch {
    // Atomics.wait is not allowed here (a browser's main thread): spin instead.
  }
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
}

const UNCERTAIN = /may have been executed/;

/** The id (first argument) of every INSERT INTO `table` the server received, in arrival order. */
function insertIds(seen: SeenRequest[], table: string): unknown[] {
  const ids: unknown[] = [];
  for (const r of seen) {
    if (!r.body.includes(`INTO ${table} `)) continue;
    const body = JSON.parse(r.body) as { args?: unknown[] };
    ids.push(body.args?.[0]);
  }
  return ids;
}

/** Rows of a fake table (first column = id), or [] when the table does not exist. */
async function tableIds(cluster: ClusterHandle, table: string): Promise<unknown[]> {
  return ((await cluster.stats()).tables[`doc.${table}`] ?? []).map((row) => row[0]);
}

function count<T>(items: readonly T[], x: T): number {
  return items.filter((y) => y === x).length;
}

describe("Chaos: faults against a 3-node cluster", function () {
  let cluster: ClusterHandle;
  let urls: string[];
  clusterPerSuite({ nodes: 3 }, (c) => ((cluster = c), (urls = c.urls)), { restartNodes: true });

  const nodesSeen = (): Promise<number[]> => seenBy(cluster);
  /** The node the connection's next attempt goes to. */
  const nextNode = (conn: Connection): number => urls.indexOf(conn.activeServers[0] as string);
  /** A connection with a kept-alive socket to every node, so faults hit reused sockets. */
  async function warmed(options: Parameters<typeof connect>[1] = {}): Promise<Connection> {
    const conn = connect(urls, options);
    for (let i = 0; i < 3; i++) await conn.query("SELECT 1");
    await cluster.resetLog();
    return conn;
  }

  /**
   * One fault on the next node, then a read: it must come back from the following node, correctly.
   * Then the same fault for a write: ConnectionError "may have been executed", sent exactly once.
   * Returns the ids the server stored for the write (so each case can say whether the fault executes).
   */
  async function readThenWrite(fault: Fault, table: string, options: Parameters<typeof connect>[1] = {}): Promise<{ stored: unknown[]; error: ConnectionError }> {
    const conn = await warmed(options);
    const n = nextNode(conn);
    await cluster.fault({ node: n, fault });
    expect((await conn.query("SELECT ?", ["still here"])).rows).to.deep.equal([["still here"]]);
    const reads = await nodesSeen();
    expect(reads, "the read was sent twice, first to the faulty node").to.have.length(2);
    expect(reads[0]).to.equal(n);
    // Deno's fetch and Chromium re-send a request themselves, once, to the same node when a reused
    // kept-alive connection breaks before the response head; harmless for a read (writes avoid reused
    // connections on Deno). Elsewhere the client moves to the next node.
    const runtimeResends = (runtime === "deno" || runtime === "browser") && fault.kind === "reset-before-headers";
    if (!runtimeResends) expect(reads[1], "the read moved to the next node").to.equal((n + 1) % 3);

    await cluster.resetLog();
    const w = nextNode(conn);
    await cluster.fault({ node: w, fault });
    const outcome = await settle(conn.query(`INSERT INTO ${table} (id) VALUES (?)`, [1]));
    await sleep(100); // a runtime that re-sends in the background would show it by now
    expect(insertIds(await cluster.requests(), table), "the write reached the servers exactly once (never re-sent)").to.deep.equal([1]);
    const error = await expectReject<ConnectionError>(outcome.ok ? Promise.resolve(outcome.value) : Promise.reject(outcome.error), ConnectionError, UNCERTAIN);
    expect(error.server).to.equal(urls[w]);
    await conn.close();
    return { stored: await tableIds(cluster, table), error };
  }

  it("reset before the response headers: a read moves on, a write is reported uncertain and never re-sent", async function () {
    if (runtime === "browser") {
      return notApplicable(this, "Chromium's network stack re-sends any request, a POST included, when a reused kept-alive connection " +
        "breaks before the response head, and page JS cannot ask for a fresh connection: the library cannot prevent this re-send in browsers");
    }
    const { stored } = await readThenWrite({ kind: "reset-before-headers" }, "chaos_rb");
    expect(stored, "reset-before-headers does not execute").to.deep.equal([]);
  });

  it("reset before the response headers with a pool size set (node:http inside Deno): a write is never re-sent", async function () {
    if (runtime === "browser" || runtime === "workerd") return notApplicable(this, "fetch here has no pool options");
    const { stored } = await readThenWrite({ kind: "reset-before-headers" }, "chaos_rb_pool", { poolSize: 8 });
    expect(stored).to.deep.equal([]);
  });

  it("reset after the response headers: a read moves on, a write is reported uncertain and stored once", async () => {
    const { stored } = await readThenWrite({ kind: "reset-after-headers" }, "chaos_ra");
    expect(stored).to.deep.equal([1]);
  });

  it("truncated body: a read moves on, a write is reported uncertain and stored once", async () => {
    const { stored } = await readThenWrite({ kind: "truncated-body" }, "chaos_tb");
    expect(stored).to.deep.equal([1]);
  });

  it("slow body past the timeout: with retryOnTimeout a read moves on, a write times out uncertain and is stored once", async () => {
    const { stored, error } = await readThenWrite({ kind: "slow-body", delayMs: 150, chunks: 4 }, "chaos_sb", { timeout: 250, retryOnTimeout: true });
    expect(error.message).to.match(/timed out after 250 ms/);
    expect(stored).to.deep.equal([1]);
  });

  it("slow body within the timeout: reads and writes wait for the last byte and succeed once", async () => {
    const conn = await warmed({ timeout: 2000 });
    const n = nextNode(conn);
    const long = "x".repeat(4000);
    await cluster.fault({ node: n, fault: { kind: "slow-body", delayMs: 80, chunks: 4 } });
    await cluster.fault({ node: (n + 1) % 3, fault: { kind: "slow-body", delayMs: 80, chunks: 4 } });
    expect((await conn.query("SELECT ?", [long])).rows).to.deep.equal([[long]]);
    expect((await conn.query("INSERT INTO chaos_sw (id) VALUES (?)", [1])).rowcount).to.equal(1);
    expect(await nodesSeen()).to.deep.equal([n, (n + 1) % 3]);
    expect(await tableIds(cluster, "chaos_sw")).to.deep.equal([1]);
    await conn.close();
  });

  it("a node that accepts and never answers: a read times out (moving on only with retryOnTimeout), the node stays, the write is reported uncertain", async () => {
    const strict = await warmed({ timeout: 300 });
    const s = nextNode(strict);
    await cluster.fault({ node: s, fault: { kind: "hang" } });
    const timedOut = await expectReject<ConnectionError>(strict.query("SELECT ?", ["answered"]), ConnectionError, /timed out after 300 ms/);
    expect(timedOut.message).not.to.match(/No more servers/);
    expect(await nodesSeen()).to.deep.equal([s]);
    expect(strict.activeServers, "a statement timeout is not a dead node").to.include(urls[s]);
    await strict.close();

    await cluster.resetLog();
    const conn = await warmed({ timeout: 300, retryOnTimeout: true });
    const n = nextNode(conn);
    await cluster.fault({ node: n, fault: { kind: "hang" } });
    const started = Date.now();
    expect((await conn.query("SELECT ?", ["answered"])).rows).to.deep.equal([["answered"]]);
    expect(Date.now() - started).to.be.within(250, 2000);
    expect(await nodesSeen()).to.deep.equal([n, (n + 1) % 3]);
    expect(conn.activeServers, "a statement timeout is not a dead node").to.include(urls[n]);

    await cluster.resetLog();
    const w = nextNode(conn);
    await cluster.fault({ node: w, fault: { kind: "hang" } });
    const err = await expectReject<ConnectionError>(conn.query("INSERT INTO chaos_hang (id) VALUES (?)", [1]), ConnectionError,
      /timed out after 300 ms.*may have been executed/);
    expect(err.server).to.equal(urls[w]);
    await sleep(100); // a runtime that re-sends the aborted request in the background would show it by now
    expect(insertIds(await cluster.requests(), "chaos_hang")).to.deep.equal([1]);
    expect(await tableIds(cluster, "chaos_hang")).to.deep.equal([]);
    await conn.close();
  });

  it("a node stopped mid-load and restarted: every read succeeds, every write succeeds or is reported uncertain, none runs twice", async () => {
    const warnings: string[] = [];
    const conn = connect(urls, { retryInterval: 300, logger: { warn: (m) => warnings.push(m) } });
    const N = 300;
    let stopped: Promise<void> | undefined;
    let restarted: Promise<void> | undefined;
    const results = await runPool(N, 32, (i) => (i % 3 === 0
      ? conn.query("INSERT INTO chaos_load (id) VALUES (?)", [i])
      : conn.query("SELECT ?, ?", [i, `r${i}`])), (done) => {
      if (done === 60) stopped = cluster.stopNode(1);
      if (done === 200) restarted = (async () => {
        await stopped;
        await cluster.startNode(1);
      })();
    });
    await stopped;
    await restarted;
    const seen = await cluster.requests();
    const stored = await tableIds(cluster, "chaos_load");
    const sent = insertIds(seen, "chaos_load");
    const uncertain: number[] = [];
    for (let i = 0; i < N; i++) {
      const r = results[i] as Outcome<{ rows: unknown[][]; rowcount: number }>;
      if (i % 3 !== 0) {
        expect(r.ok, `read ${i} failed: ${r.ok ? "" : String(r.error)}`).to.equal(true);
        if (r.ok) expect(r.value.rows).to.deep.equal([[i, `r${i}`]]);
        continue;
      }
      expect(count(sent, i), `write ${i} reached the servers at most once`).to.be.at.most(1);
      expect(count(stored, i), `write ${i} stored at most once`).to.be.at.most(1);
      if (r.ok) {
        expect(count(stored, i), `write ${i} succeeded, so it is stored`).to.equal(1);
      } else {
        expect(r.error, String(r.error)).to.be.instanceOf(ConnectionError);
        expect((r.error as Error).message).to.match(UNCERTAIN);
        uncertain.push(i);
      }
    }
    expect(warnings.some((w) => w.startsWith(`server removed: ${urls[1]}`)), "the client noticed the outage").to.equal(true);
    expect(seen.some((r) => r.node === 1), "node 1 served part of the load before it stopped").to.equal(true);
    // After retryInterval the restarted node is back in the rotation and serves again.
    await sleep(350);
    await cluster.resetLog();
    for (let i = 0; i < 6; i++) await conn.query("SELECT 1");
    expect(await nodesSeen()).to.include(1);
    expect(warnings).to.include(`server restored: ${urls[1]}`);
    await conn.close();
  });

  it("a 503 storm on every node: with backoff, reads and writes wait it out and each write runs exactly once", async () => {
    const conn = connect(urls, { backoffFactor: 40, maxRetries: 10 });
    for (let n = 0; n < 3; n++) await cluster.fault({ node: n, fault: { kind: "status", status: 503, code: 5030 }, times: 1000 });
    const started = Date.now();
    const pending = [
      ...Array.from({ length: 6 }, (_v, i) => settle(conn.query("SELECT ?", [i]))),
      ...Array.from({ length: 4 }, (_v, i) => settle(conn.query("INSERT INTO chaos_storm (id) VALUES (?)", [i]))),
    ];
    await sleep(400);
    await cluster.clearFaults(); // the storm is over
    const results = await Promise.all(pending);
    for (const r of results) expect(r.ok, r.ok ? "" : String(r.error)).to.equal(true);
    expect(Date.now() - started).to.be.below(3000);
    const seen = await cluster.requests();
    expect(seen.filter((r) => r.status === 503).length, "the storm was seen").to.be.at.least(10);
    const executed = seen.filter((r) => r.status === 200 && r.body.includes("INTO chaos_storm"));
    expect(executed.length, "each write executed exactly once").to.equal(4);
    expect((await tableIds(cluster, "chaos_storm")).sort()).to.deep.equal([0, 1, 2, 3]);
    await conn.close();
  });

  it("a 503 storm without backoff fails fast with a ConnectionError naming the 503, and the next request after it succeeds", async () => {
    const conn = connect(urls);
    for (let n = 0; n < 3; n++) await cluster.fault({ node: n, fault: { kind: "status", status: 503, code: 5030 }, times: 3 });
    const err = await expectReject<ConnectionError>(conn.query("SELECT 1"), ConnectionError, /^No more servers available, exception from last server: .*503/);
    expect(err).to.be.instanceOf(OperationalError);
    expect(err.status).to.equal(503);
    expect(urls).to.include(err.server);
    expect(await nodesSeen()).to.have.members([0, 1, 2]);
    const w = await expectReject<ConnectionError>(conn.query("INSERT INTO chaos_storm0 (id) VALUES (1)"), ConnectionError, /No more servers available/);
    expect(w.status).to.equal(503);
    expect(await tableIds(cluster, "chaos_storm0")).to.deep.equal([]);
    await cluster.clearFaults();
    expect(conn.activeServers).to.deep.equal([]);
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    expect((await conn.query("INSERT INTO chaos_storm0 (id) VALUES (1)")).rowcount).to.equal(1);
    await conn.close();
  });

  it("HTML error pages from a proxy: 502/504 fail reads over and reject writes as uncertain, all-502 gives ConnectionError, other pages a typed error", async () => {
    const conn = await warmed();
    const n = nextNode(conn);
    await cluster.fault({ node: n, fault: { kind: "html", status: 502 } });
    await cluster.fault({ node: (n + 1) % 3, fault: { kind: "html", status: 504 } });
    expect((await conn.query("SELECT ?", ["behind a proxy"])).rows).to.deep.equal([["behind a proxy"]]);
    expect(await nodesSeen()).to.deep.equal([n, (n + 1) % 3, (n + 2) % 3]);
    expect(conn.activeServers).to.deep.equal([urls[(n + 2) % 3]]);
    await conn.close();

    const w = connect(urls);
    await cluster.resetLog();
    await cluster.fault({ node: 0, fault: { kind: "html", status: 504 } });
    const uncertain = await expectReject<ConnectionError>(w.query("INSERT INTO chaos_html (id) VALUES (?)", [1]), ConnectionError, /504.*may have been executed/);
    expect(uncertain.status).to.equal(504);
    expect(uncertain.server).to.equal(urls[0]);
    expect((await cluster.requests()).map((r) => [r.node, r.status]), "a write is never re-sent after a gateway status").to.deep.equal([[0, 504]]);
    await cluster.fault({ node: 1, fault: { kind: "html", status: 502 } });
    await expectReject(w.query("INSERT INTO chaos_html (id) VALUES (?)", [2]), ConnectionError, /502.*may have been executed/);
    expect((await cluster.requests()).map((r) => [r.node, r.status])).to.deep.equal([[0, 504], [1, 502]]);
    expect(await tableIds(cluster, "chaos_html")).to.deep.equal([]);
    await cluster.resetLog();
    const next = nextNode(w);
    await cluster.fault({ node: next, fault: { kind: "status", status: 503, code: 5030 } });
    expect((await w.query("INSERT INTO chaos_html (id) VALUES (?)", [3])).rowcount, "CrateDB's own 503 still fails a write over").to.equal(1);
    expect((await cluster.requests()).map((r) => r.status)).to.deep.equal([503, 200]);
    expect(await tableIds(cluster, "chaos_html")).to.deep.equal([3]);
    await w.close();

    const all = connect(urls);
    for (let i = 0; i < 3; i++) await cluster.fault({ node: i, fault: { kind: "html", status: 502 } });
    const err = await expectReject<ConnectionError>(all.query("SELECT 1"), ConnectionError, /No more servers available.*502/);
    expect(err.status).to.equal(502);
    expect(err.message).not.to.match(/<[a-z]/i);
    await all.close();

    const other = connect([urls[0] as string]);
    await cluster.fault({ node: 0, fault: { kind: "html", status: 500 } });
    const internal = await expectReject<InternalError>(other.query("SELECT 1"), InternalError, /500.*nginx/);
    expect(internal.status).to.equal(500);
    expect(internal.server).to.equal(urls[0]);
    expect(internal.message, "a short excerpt, without markup").not.to.match(/<[a-z]|<\//i);
    expect(internal.message.length).to.be.below(300);
    await cluster.fault({ node: 0, fault: { kind: "html", status: 504 }, path: "/" });
    await expectReject(other.serverInfo(urls[0]), ConnectionError, /504/);
    await other.close();
  });

  it("a server closing idle keep-alive sockets: reads after idle periods never see a stale-socket error", async () => {
    const idle = await startCluster({ nodes: 3, idleTimeout: 1000 });
    try {
      const conn = connect(idle.urls);
      const burst = async (tag: string): Promise<void> => {
        const results = await Promise.all(Array.from({ length: 24 }, (_v, i) => settle(conn.query("SELECT ?", [`${tag}${i}`]))));
        results.forEach((r, i) => {
          expect(r.ok, `${tag} read ${i}: ${r.ok ? "" : String(r.error)}`).to.equal(true);
          if (r.ok) expect(r.value.rows).to.deep.equal([[`${tag}${i}`]]);
        });
      };
      await burst("warm");
      const opened = async (): Promise<number> => (await idle.stats()).nodes.reduce((s, n) => s + n.connectionsOpened, 0);
      const afterWarm = await opened();
      await sleep(1300); // the server closes every socket; the client sees the FINs
      await burst("quiet");
      const afterQuiet = await opened();
      expect(afterQuiet, "the server did close the idle sockets").to.be.above(afterWarm);
      blockFor(1150); // the server closes every socket while the client cannot notice
      await burst("raced");
      expect(await opened(), "the server did close the idle sockets").to.be.above(afterQuiet);
      await conn.close();
    } finally {
      await idle.close();
    }
  });

  it("a server closing idle keep-alive sockets: a write after an idle period succeeds or is reported uncertain, never re-sent", async () => {
    const idle = await startCluster({ nodes: 3, idleTimeout: 1000 });
    try {
      const conn = connect(idle.urls);
      for (let i = 0; i < 3; i++) await conn.query("SELECT 1");
      await sleep(1300);
      // The client has seen the server close its sockets: nothing is uncertain, every write succeeds.
      for (let id = 1; id <= 3; id++) expect((await conn.query("INSERT INTO chaos_idle (id) VALUES (?)", [id])).rowcount).to.equal(1);

      for (let i = 0; i < 3; i++) await conn.query("SELECT 1");
      blockFor(1150);
      // Sent on sockets the server closed a moment ago: each write may be lost in the race.
      const results = await Promise.all([4, 5, 6].map((id) => settle(conn.query("INSERT INTO chaos_idle (id) VALUES (?)", [id]))));
      const sent = insertIds(await idle.requests(), "chaos_idle");
      const stored = ((await idle.stats()).tables["doc.chaos_idle"] ?? []).map((row) => row[0]);
      results.forEach((r, k) => {
        const id = k + 4;
        expect(count(sent, id), `write ${id} was sent at most once`).to.be.at.most(1);
        if (r.ok) {
          expect(count(stored, id)).to.equal(1);
        } else {
          expect(r.error, String(r.error)).to.be.instanceOf(ConnectionError);
          expect((r.error as Error).message).to.match(UNCERTAIN);
          expect(count(stored, id)).to.be.at.most(1);
        }
      });
      expect(stored.filter((id) => (id as number) <= 3)).to.deep.equal([1, 2, 3]);
      // And reads right after are fine.
      expect((await conn.query("SELECT ?", ["after"])).rows).to.deep.equal([["after"]]);
      await conn.close();
    } finally {
      await idle.close();
    }
  });

  describe("responses that are not JSON or have the wrong shape", () => {
    let conn: Connection;
    beforeEach(function () {
      conn = connect([urls[0] as string]);
      keepsSockets(this, "the test's connection is closed in afterEach");
    });
    afterEach(async () => conn.close());

    const respond = (body: string, extra: Partial<{ status: number; headers: Record<string, string> }> = {}): Fault =>
      ({ kind: "respond", status: extra.status ?? 200, headers: extra.headers ?? { "content-type": "application/json; charset=UTF-8" }, body });

    const cases: Array<[string, Fault, abstract new (...a: never[]) => Error, RegExp, number]> = [
      ["an HTML page with status 200", respond("<html><body>hello</body></html>", { headers: { "content-type": "text/html" } }), ProgrammingError, /not JSON.*hello/, 200],
      ["an empty body", respond(""), ProgrammingError, /not JSON/, 200],
      ["JSON cut short", respond('{"cols":["a"],"col_types":[9],"rows":[[1]'), ProgrammingError, /not JSON/, 200],
      ["a JSON array", respond("[1,2]"), ProgrammingError, /expected a JSON object/, 200],
      ["a JSON string", respond('"ok"'), ProgrammingError, /expected a JSON object/, 200],
      ["an object without cols or rows", respond("{}"), ProgrammingError, /no 'cols' or 'rows'/, 200],
      ["rows that are not arrays", respond('{"cols":["a"],"rows":[1]}'), ProgrammingError, /a row is not an array/, 200],
      ["an error envelope whose error is a string", respond('{"error":"plain words"}', { status: 400 }), ProgrammingError, /plain words/, 400],
      ["an error envelope without a message", respond('{"error":{}}', { status: 500 }), InternalError, /HTTP 500/, 500],
      ["a plain-text 500", respond("boom", { status: 500, headers: { "content-type": "text/plain" } }), InternalError, /HTTP 500.*boom/, 500],
      ["a plain-text 401", respond("who are you", { status: 401, headers: { "content-type": "text/plain" } }), OperationalError, /HTTP 401.*who are you/, 401],
    ];
    for (const [what, fault, cls, re, status] of cases) {
      it(`${what} → ${cls.name}`, async () => {
        await cluster.fault({ node: 0, fault });
        const err = await expectReject<CrateDBError>(conn.query("SELECT 1"), cls, re);
        expect(err).to.be.instanceOf(CrateDBError);
        expect(err.status).to.equal(status);
        expect(err.server).to.equal(urls[0]);
      });
    }

    it("a BIGINT column holding a fraction or an exponent: DataError with int64 'bigint', a typed error or the value otherwise", async () => {
      for (const int64 of ["number", "bigint", "string"] as const) {
        for (const literal of ["1.5", "1e21", "12345678901234567890.5"]) {
          const c = connect([urls[0] as string], { int64 });
          await cluster.fault({ node: 0, fault: respond(`{"cols":["b"],"col_types":[10],"rows":[[${literal}]],"rowcount":1}`) });
          const r = await settle(c.query("SELECT b"));
          if (int64 === "bigint" || !r.ok) {
            expect(r.ok ? r.value : r.error, `int64 ${int64}, ${literal}`).to.be.instanceOf(DataError);
          }
          await c.close();
        }
      }
    });

    it("a bulk response without results → ProgrammingError", async () => {
      await cluster.fault({ node: 0, fault: respond('{"cols":[],"duration":1}') });
      await expectReject(conn.bulk("INSERT INTO chaos_shape (id) VALUES (?)", [[1]]), ProgrammingError, /no 'results'/);
    });

    it("serverInfo on a non-JSON page → ProgrammingError", async () => {
      await cluster.fault({ node: 0, fault: respond("<html>proxy</html>", { headers: { "content-type": "text/html" } }), path: "/" });
      await expectReject(conn.serverInfo(), ProgrammingError, /not JSON/);
    });

    it("a body that claims gzip but is not: a read moves on, a write is reported uncertain", async () => {
      const three = connect(urls);
      await cluster.fault({ node: 0, fault: respond('{"cols":[],"rows":[[]]}', { headers: { "content-type": "application/json", "content-encoding": "gzip" } }) });
      expect((await three.query("SELECT ?", ["ok"])).rows).to.deep.equal([["ok"]]);
      await cluster.resetLog();
      const w = nextNode(three);
      await cluster.fault({ node: w, fault: respond('{"cols":[],"rows":[[]]}', { headers: { "content-type": "application/json", "content-encoding": "gzip" } }) });
      const err = await expectReject<ConnectionError>(three.query("INSERT INTO chaos_gz (id) VALUES (1)"), ConnectionError, UNCERTAIN);
      expect(err.server).to.equal(urls[w]);
      expect(await nodesSeen()).to.deep.equal([w]);
      await three.close();
    });
  });
});
