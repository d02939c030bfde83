// The `sql` tagged template: $n parameters on the wire, fragments, identifiers, options, and real SQL on PGlite.
import { expect } from "chai";
import { InterfaceError, ProgrammingError, SqlFragment, connect, sql, type Connection } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, expectThrow, keepsSockets } from "./support/helpers.js";
import { startSqlServer, type SqlServerHandle } from "./support/sql-server.js";

describe("sql tagged template: statements and parameters on the wire", () => {
  beforeEach(function () {
    keepsSockets(this, "one connection shared by the suite, closed in after()");
  });
  let cluster: ClusterHandle;
  let conn: Connection;
  before(async () => {
    cluster = await startCluster({ nodes: 1 });
    conn = connect(cluster.urls);
  });
  after(async () => {
    await conn?.close();
    await cluster?.close();
  });
  beforeEach(async () => cluster.resetLog());

  it("sends values as $1…$n with an args array, never as text", async () => {
    const name = "x'); DROP TABLE t; --";
    const res = await conn.sql`SELECT ${name}, ${5}`;
    expect(res.rows).to.deep.equal([[name, 5]]);
    const [seen] = await cluster.requests();
    expect(JSON.parse(seen?.body ?? "")).to.deep.equal({ stmt: "SELECT $1, $2", args: [name, 5] });
  });

  it("inlines nested fragments and renumbers their parameters", async () => {
    const cond = conn.sql`AND b = ${2} AND c = ${sql`${3}`}`;
    const q = conn.sql`SELECT ${1} WHERE a = ${"a"} ${cond} ${sql.unsafe("-- end")}`;
    expect(q.toStatement()).to.deep.equal({ stmt: "SELECT $1 WHERE a = $2 AND b = $3 AND c = $4 -- end", args: [1, "a", 2, 3] });
    expect(await cluster.requests()).to.have.length(0); // building runs nothing
    await q;
    const [seen] = await cluster.requests();
    expect(JSON.parse(seen?.body ?? "")).to.deep.equal({ stmt: "SELECT $1 WHERE a = $2 AND b = $3 AND c = $4 -- end", args: [1, "a", 2, 3] });
  });

  it("runs a query once however often it is awaited", async () => {
    const q = conn.sql`SELECT ${1}`;
    const [a, b] = await Promise.all([q, q.then((r) => r.rows)]);
    expect(a.rows).to.deep.equal(b);
    expect(await cluster.requests()).to.have.length(1);
  });

  it("quotes identifiers: inner quotes doubled, a dot inside a part kept, parts joined with '.'", () => {
    expect(sql.id("my table").toStatement().stmt).to.equal('"my table"');
    expect(sql.id('we"ird').toStatement().stmt).to.equal('"we""ird"');
    expect(sql.id("a.b").toStatement().stmt).to.equal('"a.b"');
    expect(conn.sql.id("doc", "t").toStatement().stmt).to.equal('"doc"."t"');
    expectThrow(() => sql.id(""), InterfaceError, /non-empty/);
  });

  it("joins values and fragments with a separator", () => {
    const q = sql`SELECT * FROM t WHERE id IN (${sql.join([1, 2, 3])}) AND ${sql.join([sql`a = ${4}`, sql`b = ${5}`], " AND ")}`;
    expect(q.toStatement()).to.deep.equal({ stmt: "SELECT * FROM t WHERE id IN ($1, $2, $3) AND a = $4 AND b = $5", args: [1, 2, 3, 4, 5] });
    expect(sql.join([]).toStatement()).to.deep.equal({ stmt: "", args: [] });
  });

  it("passes arrays, objects, bigint and Date values as single parameters", async () => {
    const when = new Date(Date.UTC(2024, 0, 2));
    await conn.sql`SELECT ${[1, 2]}, ${{ k: "v" }}, ${2n ** 60n}, ${when}`.catch(() => undefined); // decoding the echo needs int64
    const [seen] = await cluster.requests();
    expect(seen?.body).to.equal(`{"stmt":"SELECT $1, $2, $3, $4","args":[[1,2],{"k":"v"},${2n ** 60n},${when.getTime()}]}`);
  });

  it("rejects a plain call with a helpful InterfaceError", () => {
    const plain = conn.sql as unknown as (s: string) => unknown;
    expectThrow(() => plain("SELECT 1"), InterfaceError, /tagged template.*query\(stmt, args\)/);
    expectThrow(() => (sql as unknown as (s: string) => unknown)("SELECT 1"), InterfaceError, /tagged template/);
  });

  it("the standalone sql builds fragments that do not run", () => {
    const f = sql`SELECT ${1}`;
    expect(f).to.be.instanceOf(SqlFragment);
    expect("then" in f).to.equal(false);
  });

  it("takes request options through sql.with()", async () => {
    const objects = await conn.sql.with({ rowMode: "object" })<{ $1: number }>`SELECT ${7}`;
    expect(objects.rows).to.deep.equal([{ $1: 7 }]);
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expectReject(conn.sql.with({ signal: controller.signal })`SELECT ${1}`, Error, /stop/);
  });

  it("rejects after close() with ProgrammingError", async () => {
    const c = connect(cluster.urls);
    await c.close();
    await expectReject(c.sql`SELECT 1`, ProgrammingError, /Connection closed/);
  });
});

describe("sql tagged template: real SQL (embedded PGlite server)", function () {
  let server: SqlServerHandle;
  let conn: Connection;
  const table = `sqltag_${Math.random().toString(36).slice(2, 8)}`;
  before(async function () {
    this.timeout(120_000);
    server = await startSqlServer();
    conn = connect(server.url, { username: "crate" });
  });
  after(async () => {
    await conn?.close();
    await server?.close();
  });

  it("creates, inserts, selects and updates with typed rows", async () => {
    const t = conn.sql.id(table);
    await conn.sql`DROP TABLE IF EXISTS ${t}`;
    await conn.sql`CREATE TABLE ${t} (id INT PRIMARY KEY, name TEXT, tags ARRAY(TEXT))`;
    const ins = await conn.sql`INSERT INTO ${t} (id, name, tags) VALUES (${1}, ${"one"}, ${["a", "b"]}), (${2}, ${"two"}, ${[]})`;
    expect(ins.rowcount).to.equal(2);
    await conn.sql`REFRESH TABLE ${t}`;
    const sel = await conn.sql<[number, string, string[]]>`SELECT id, name, tags FROM ${t} WHERE id = ${1}`;
    expect(sel.rows).to.deep.equal([[1, "one", ["a", "b"]]]);
    const upd = await conn.sql`UPDATE ${t} SET name = ${"uno"} WHERE id IN (${sql.join([1, 3])})`;
    expect(upd.rowcount).to.equal(1);
    const filter = sql`AND name = ${"uno"}`;
    const objs = await conn.sql.with({ rowMode: "object" })<{ id: number }>`SELECT id FROM ${t} WHERE id > ${0} ${filter}`;
    expect(objs.rows).to.deep.equal([{ id: 1 }]);
  });

  it("keeps hostile text a value", async () => {
    await conn.sql`CREATE TABLE IF NOT EXISTS ${conn.sql.id(table)} (id INT PRIMARY KEY, name TEXT, tags ARRAY(TEXT))`;
    const evil = `x'); DROP TABLE ${table}; --`;
    const res = await conn.sql`SELECT count(*) FROM ${conn.sql.id(table)} WHERE name = ${evil}`;
    expect(res.rows).to.deep.equal([[0]]);
  });

  it("rejects with the mapped error class for a bad statement", async () => {
    await expectReject(conn.sql`SELECT * FROM ${conn.sql.id("no_such_table_x")}`, ProgrammingError, /no_such_table_x/);
  });
});
