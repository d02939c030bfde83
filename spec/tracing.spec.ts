// Tracing: the onQuery option (every runtime) and the `cratedb-fetch:query` TracingChannel (Node, Deno, Bun).
import { expect } from "chai";
import { InterfaceError, ProgrammingError, connect, type QueryEvent, type QueryTraceContext } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, expectThrow, notApplicable, runtime } from "./support/helpers.js";

const SECRET = "s3cr3t-pw";

describe("Tracing: onQuery and the cratedb-fetch:query TracingChannel", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster({ nodes: 2, auth: { users: { alice: SECRET } } });
  });
  after(async () => cluster?.close());
  afterEach(async () => cluster.clearFaults());
  const open = (onQuery: (e: QueryEvent) => void) => connect(cluster.urls, { username: "alice", password: SECRET, onQuery });

  it("onQuery gets statement, server, durations, rowcount and attempt after a query and a bulk", async () => {
    const events: QueryEvent[] = [];
    const conn = open((e) => events.push(e));
    await conn.query("SELECT ?", [1]);
    await conn.bulk("CREATE TABLE IF NOT EXISTS tr_t (id INT)", []).catch(() => undefined);
    await conn.close();
    const [e] = events;
    expect(e?.statement).to.equal("SELECT ?");
    expect(e?.server).to.be.oneOf(cluster.urls);
    expect(e?.durationMs).to.be.a("number").and.at.least(0);
    expect(e?.serverDurationMs).to.be.a("number");
    expect(e?.rowcount).to.equal(1);
    expect(e?.error).to.equal(undefined);
    expect(e?.attempt).to.equal(1);
    expect(events).to.have.length(2);
  });

  it("onQuery also hears cursors and sessions (and so streams' DECLARE/FETCH/CLOSE)", async function () {
    const events: QueryEvent[] = [];
    const conn = open((e) => events.push(e));
    const cur = conn.cursor();
    await cur.execute("SELECT %(n)s", { n: 1 });
    await cur.executemany("SELECT ?", [[1], [2]]).catch(() => undefined);
    expect(events.map((e) => e.statement)).to.deep.equal(["SELECT $1", "SELECT ?"]);
    if (runtime !== "browser") {
      await conn.withSession((s) => s.query("SELECT 'in a session'"));
      expect(events[2]?.statement).to.equal("SELECT 'in a session'");
      expect(events[2]?.server).to.be.oneOf(cluster.urls);
      for await (const row of conn.stream("SELECT 1")) void row;
      expect(events.slice(3).map((e) => e.statement.replace(/cratedb_fetch_\w+/, "c"))).to.deep.equal([
        "DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT 1", "FETCH 1000 FROM c", "CLOSE c"]);
    }
    await conn.close();
  });

  it("onQuery counts attempts across a failover and reports errors", async () => {
    const events: QueryEvent[] = [];
    // backoffFactor > 0: the request goes on after every server failed once (1 ms, 2 ms later).
    const conn = connect(cluster.urls, { username: "alice", password: SECRET, backoffFactor: 1, onQuery: (e) => events.push(e) });
    const bad = { kind: "respond", status: 400, json: { error: { code: 4000, message: "SQLParseException[bad]" } } } as const;
    for (const node of [0, 1]) await cluster.fault({ node, fault: { kind: "status", status: 503 }, times: 1 });
    for (const node of [0, 1]) await cluster.fault({ node, fault: bad, times: 1 });
    await expectReject(conn.query("SELEC 1"), ProgrammingError);
    await conn.close();
    expect(events).to.have.length(1);
    expect(events[0]?.error).to.be.instanceOf(ProgrammingError);
    expect(events[0]?.attempt).to.equal(3);
    expect(events[0]?.rowcount).to.equal(undefined);
  });

  it("a throwing onQuery listener does not break the query", async () => {
    const conn = open(() => {
      throw new Error("listener broke");
    });
    const res = await conn.query("SELECT 1");
    expect(res.rows).to.deep.equal([[1]]);
    await conn.close();
  });

  it("events carry no password, no Authorization and no arguments", async () => {
    const events: QueryEvent[] = [];
    const conn = connect(cluster.urls.map((u) => u.replace("://", `://alice:${SECRET}@`)), { onQuery: (e) => events.push(e) });
    await conn.query("SELECT ?", ["arg-value-xyz"]);
    await conn.close();
    const text = JSON.stringify(events);
    expect(text).to.not.include(SECRET);
    expect(text).to.not.include(btoa(`alice:${SECRET}`));
    expect(text).to.not.include("arg-value-xyz");
  });

  it("rejects an onQuery that is not a function", () => {
    expectThrow(() => connect(cluster.urls, { onQuery: "log" as never }), InterfaceError, /onQuery.*function/);
  });

  it("publishes start/asyncEnd/error on the TracingChannel with statement, argsCount, server, schema, bulkSize", async function () {
    type TC = { subscribe(h: Record<string, (ctx: object) => void>): void; unsubscribe(h: Record<string, (ctx: object) => void>): void };
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const dc = proc?.getBuiltinModule?.("node:diagnostics_channel") as { tracingChannel?: (n: string) => TC } | undefined;
    if (typeof dc?.tracingChannel !== "function") notApplicable(this, "no process.getBuiltinModule('node:diagnostics_channel') TracingChannel here");
    const seen: Array<[string, QueryTraceContext]> = [];
    const record = (name: string) => (ctx: object): void => void seen.push([name, { ...(ctx as QueryTraceContext) }]);
    const handlers = { start: record("start"), end: record("end"), asyncStart: record("asyncStart"), asyncEnd: record("asyncEnd"), error: record("error") };
    const ch = (dc as { tracingChannel: (n: string) => TC }).tracingChannel("cratedb-fetch:query");
    ch.subscribe(handlers);
    try {
      const conn = connect(cluster.urls, { username: "alice", password: SECRET, schema: "doc" });
      await conn.query("SELECT ?, ?", [1, 2]);
      await conn.bulk("SELECT ?", [[1], [2], [3]]).catch(() => undefined);
      await cluster.fault({ node: 0, fault: { kind: "respond", status: 400, json: { error: { code: 4000, message: "bad" } } }, times: 2 });
      await cluster.fault({ node: 1, fault: { kind: "respond", status: 400, json: { error: { code: 4000, message: "bad" } } }, times: 2 });
      await expectReject(conn.query("SELEC 1"), ProgrammingError);
      await conn.close();
    } finally {
      ch.unsubscribe(handlers);
    }
    const start = seen.find(([n]) => n === "start")?.[1];
    expect(start).to.include({ statement: "SELECT ?, ?", argsCount: 2, schema: "doc", server: undefined, bulkSize: undefined });
    const end = seen.find(([n]) => n === "asyncEnd")?.[1];
    expect(end?.server).to.be.oneOf(cluster.urls);
    expect((end?.result as { rows: unknown[] }).rows).to.deep.equal([[1, 2]]);
    expect(seen.some(([n, c]) => n === "start" && c.bulkSize === 3 && c.argsCount === 0)).to.equal(true);
    const err = seen.find(([n, c]) => n === "error" && c.statement === "SELEC 1")?.[1];
    expect(err?.statement).to.equal("SELEC 1");
    expect(err?.error).to.be.instanceOf(ProgrammingError);
    expect(JSON.stringify(seen.map(([n, c]) => [n, c.statement, c.server]))).to.not.include(SECRET);
    expect(runtime).to.be.oneOf(["node", "deno", "bun"]);
  });
});
