// Real SQL through the client: against the embedded server (CrateDB's HTTP protocol, SQL executed by PostgreSQL
// in PGlite; spec/support/pglite/, a test double) or, when CRATEDB_URL is set (Node, Bun, Deno), against that CrateDB.
import { expect } from "chai";
import { DataError, DefaultTypeConverter, IntegrityError, ProgrammingError, connect, type Connection } from "cratedb-fetch";
import { expectReject, notApplicable, runtime, keepsSockets } from "./support/helpers.js";
import { envVar, startSqlServer, type SqlServerHandle } from "./support/sql-server.js";

const realUrl = envVar("CRATEDB_URL") || undefined;
const suffix = Math.random().toString(36).slice(2, 8);
const table = `itest_${suffix}`;
const schema = `itest_schema_${suffix}`;
const BIG = 2n ** 53n + 1n; // 9007199254740993: not a JS number
const CREATE_TABLE = `CREATE TABLE ${table} (id INT PRIMARY KEY, name TEXT, big BIGINT, score DOUBLE, ok BOOLEAN,
    ts TIMESTAMP WITH TIME ZONE, tags ARRAY(TEXT), attrs OBJECT(DYNAMIC))
  CLUSTERED INTO 1 SHARDS WITH (number_of_replicas = 0)`;

describe(`Integration: real SQL (${realUrl ? "CRATEDB_URL" : "embedded PGlite server"})`, function () {
  let server: SqlServerHandle | undefined;
  let url: string;
  let conn: Connection;
  beforeEach(function () {
    keepsSockets(this, "one connection shared by the suite, closed in after()");
  });
  const connections: Connection[] = [];
  const open = (opts: Parameters<typeof connect>[1] = {}): Connection => {
    const c = connect(url, { username: envVar("CRATEDB_USER") ?? "crate", ...(envVar("CRATEDB_PASSWORD") ? { password: envVar("CRATEDB_PASSWORD") } : {}), ...opts });
    connections.push(c);
    return c;
  };

  before(async function () {
    this.timeout(120_000); // the very first PGlite start runs initdb (cached afterwards)
    if (realUrl) url = realUrl;
    else {
      server = await startSqlServer();
      url = server.url;
    }
    conn = open();
  });

  after(async function () {
    this.timeout(30_000);
    if (realUrl && conn) {
      await conn.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {});
      await conn.query(`DROP TABLE IF EXISTS ${schema}.s_t`).catch(() => {});
    }
    for (const c of connections) await c.close().catch(() => {});
    await server?.close();
  });

  /**
   * The test table made anew, holding `rows` ([id, name, score]): each test that reads or writes it starts from
   * the rows it names, not from what an earlier test left, so each passes alone (`--grep`) as in order.
   */
  async function freshTable(rows: Array<[number, string, number | null]> = []): Promise<void> {
    await conn.query(`DROP TABLE IF EXISTS ${table}`);
    await conn.query(CREATE_TABLE);
    if (rows.length === 0) return;
    await conn.query(`INSERT INTO ${table} (id, name, score) VALUES ${rows.map(() => "(?, ?, ?)").join(", ")}`, rows.flat());
    await conn.query(`REFRESH TABLE ${table}`);
  }

  it("creates a table with CrateDB column types and clauses", async () => {
    await conn.query(`DROP TABLE IF EXISTS ${table}`);
    const res = await conn.query(CREATE_TABLE);
    expect(res.cols).to.deep.equal([]);
    expect(res.rows).to.deep.equal([]);
    expect(res.rowcount).to.equal(1);
  });

  it("inserts with parameters of each type and reads them back exactly", async () => {
    await freshTable();
    const ts = new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789));
    const ins = await conn.query(`INSERT INTO ${table} (id, name, big, score, ok, ts, tags, attrs) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [1, "one", BIG, 1.5, true, ts, ["a", "b"], { k: "v", n: 1 }]);
    expect(ins.rowcount).to.equal(1);
    await conn.query(`REFRESH TABLE ${table}`);

    const exact = open({ int64: "bigint", converter: new DefaultTypeConverter() });
    const res = await exact.query(`SELECT id, name, big, score, ok, ts, tags, attrs FROM ${table} WHERE id = ?`, [1]);
    expect(res.cols).to.deep.equal(["id", "name", "big", "score", "ok", "ts", "tags", "attrs"]);
    expect(res.colTypes).to.deep.equal([9, 4, 10, 6, 3, 11, [100, 4], 12]);
    const [row] = res.rows;
    expect(row?.slice(0, 5)).to.deep.equal([1, "one", BIG, 1.5, true]);
    expect(row?.[5]).to.be.instanceOf(Date);
    expect((row?.[5] as Date).getTime()).to.equal(ts.getTime());
    expect(row?.slice(6)).to.deep.equal([["a", "b"], { k: "v", n: 1 }]);

    // the BIGINT also works as a parameter, and the default int64 decoding refuses to round it
    const byBig = await exact.query(`SELECT id FROM ${table} WHERE big = ?`, [BIG]);
    expect(byBig.rows).to.deep.equal([[1]]);
    await expectReject(conn.query(`SELECT big FROM ${table} WHERE id = 1`), DataError, /9007199254740993/);
  });

  it("bulk-inserts, and a duplicate key fails only its item (normalised into `failed`)", async () => {
    await freshTable([[1, "one", 1.5]]);
    const res = await conn.bulk(`INSERT INTO ${table} (id, name) VALUES (?, ?)`, [[2, "two"], [1, "dup"], [3, "three"]]);
    expect(res.results.map((r) => r.rowcount)).to.deep.equal([1, -2, 1]);
    expect(res.rowcount).to.equal(2);
    expect(res.failed).to.have.length(1);
    expect(res.failed[0]?.index).to.equal(1);
    expect(res.failed[0]?.code).to.equal(4091);
    expect(res.failed[0]?.message).to.match(/DuplicateKeyException/);
    await conn.query(`REFRESH TABLE ${table}`);
    const all = await conn.query(`SELECT id, name FROM ${table} ORDER BY id`);
    expect(all.rows).to.deep.equal([[1, "one"], [2, "two"], [3, "three"]]);
  });

  it("runs real SQL: aggregates, WHERE with parameters, UPDATE and DELETE row counts", async () => {
    await freshTable([[1, "one", 1.5], [2, "two", null], [3, "three", null]]);
    const agg = await conn.query(`SELECT count(*), max(id) FROM ${table} WHERE id > ?`, [1]);
    expect(agg.cols).to.deep.equal(["count(*)", "max(id)"]);
    expect(agg.colTypes).to.deep.equal([10, 9]);
    expect(agg.rows).to.deep.equal([[2, 3]]);
    const upd = await conn.query(`UPDATE ${table} SET score = ? WHERE id >= ?`, [2.25, 2]);
    expect(upd.rowcount).to.equal(2);
    const del = await conn.query(`DELETE FROM ${table} WHERE id = ?`, [3]);
    expect(del.rowcount).to.equal(1);
    const none = await conn.query(`DELETE FROM ${table} WHERE id = ?`, [99]);
    expect(none.rowcount).to.equal(0);
    await conn.query(`REFRESH TABLE ${table}`);
    const objects = await conn.query(`SELECT id, score FROM ${table} ORDER BY id`, [], { rowMode: "object" });
    expect(objects.rows).to.deep.equal([{ id: 1, score: 1.5 }, { id: 2, score: 2.25 }]);
  });

  it("decodes NUMERIC exactly with numeric: \"string\"", async () => {
    const c = open({ numeric: "string" });
    const res = await c.query("SELECT CAST('12345678901234567890.1234567891' AS NUMERIC(30, 10))");
    expect(res.colTypes).to.deep.equal([22]);
    expect(res.rows).to.deep.equal([["12345678901234567890.1234567891"]]);
  });

  it("turns a duplicate primary key into an IntegrityError (4091)", async () => {
    await freshTable([[1, "one", 1.5]]);
    const err = await expectReject<IntegrityError>(conn.query(`INSERT INTO ${table} (id, name) VALUES (?, ?)`, [1, "again"]), IntegrityError,
      /DuplicateKeyException\[A document with the same primary key exists already\]/);
    expect(err.code).to.equal(4091);
    expect(err.status).to.equal(409);
  });

  it("turns an unknown table into a ProgrammingError (4041 RelationUnknown)", async () => {
    const err = await expectReject<ProgrammingError>(conn.query(`SELECT * FROM ${table}_missing`), ProgrammingError,
      new RegExp(`RelationUnknown\\[Relation 'doc\\.${table}_missing' unknown\\]`));
    expect(err.code).to.equal(4041);
    expect(err.status).to.equal(404);
  });

  it("turns a syntax error into a ProgrammingError (4000)", async () => {
    const err = await expectReject<ProgrammingError>(conn.query("SELEC 1"), ProgrammingError);
    expect(err.code).to.equal(4000);
    expect(err.status).to.equal(400);
  });

  it("puts unqualified names into the Default-Schema of the connection", async function () {
    if (runtime === "workerd" || runtime === "browser") {
      return notApplicable(this, "the platform shares kept-alive sockets between Connection objects, and CrateDB reads Default-Schema " +
        "only when a connection's session starts, so this request may run in a session an earlier spec started");
    }
    const inSchema = open({ schema });
    expect((await inSchema.query("SELECT current_schema")).rows).to.deep.equal([[schema]]);
    await inSchema.query("CREATE TABLE s_t (id INT PRIMARY KEY)");
    await inSchema.query("INSERT INTO s_t (id) VALUES (?)", [7]);
    await inSchema.query("REFRESH TABLE s_t");
    expect((await conn.query(`SELECT id FROM ${schema}.s_t`)).rows).to.deep.equal([[7]]);
    await expectReject(conn.query("SELECT id FROM s_t"), ProgrammingError, /Relation 'doc\.s_t' unknown/);
  });
});
