import { expect } from "chai";
import { Converter, DefaultTypeConverter, InterfaceError, ProgrammingError, connect, type Connection } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, expectThrow, keepsSockets } from "./support/helpers.js";

describe("Cursor (PEP 249)", () => {
  let cluster: ClusterHandle;
  let conn: Connection;
  beforeEach(function () {
    keepsSockets(this, "one connection shared by the suite, closed in after()");
  });
  before(async () => {
    cluster = await startCluster();
    conn = connect(cluster.urls);
    await conn.bulk("INSERT INTO cur_t (id, name) VALUES (?, ?)", [[1, "a"], [2, "b"], [3, "c"], [4, "d"], [5, "e"]]);
  });
  after(async () => {
    await conn?.close();
    await cluster?.close();
  });
  beforeEach(async () => cluster.resetLog());

  it("has the PEP 249 defaults before any execute", () => {
    const cur = conn.cursor();
    expect(cur.arraysize).to.equal(1);
    expect(cur.rowcount).to.equal(-1);
    expect(cur.duration).to.equal(-1);
    expect(cur.description).to.equal(null);
    expectThrow(() => cur.fetchone(), ProgrammingError, /No result available/);
    expectThrow(() => cur.fetchall(), ProgrammingError, /No result available/);
  });

  it("fetches with fetchone, fetchmany (arraysize, n, 0 = all) and fetchall", async () => {
    const cur = conn.cursor();
    await cur.execute("SELECT id, name FROM cur_t");
    expect(cur.rowcount).to.equal(5);
    expect(cur.duration).to.be.at.least(0);
    expect(cur.fetchone()).to.deep.equal([1, "a"]);
    expect(cur.fetchmany()).to.deep.equal([[2, "b"]]);
    cur.arraysize = 2;
    expect(cur.fetchmany()).to.deep.equal([[3, "c"], [4, "d"]]);
    expect(cur.fetchmany(0)).to.deep.equal([[5, "e"]]);
    expect(cur.fetchone()).to.equal(null);
    expect(cur.fetchall()).to.deep.equal([]);
    expect(cur.fetchmany(3)).to.deep.equal([]);
  });

  it("iterates over the rows left", async () => {
    const cur = conn.cursor();
    await cur.execute("SELECT id FROM cur_t");
    cur.fetchone();
    expect([...cur].map((r) => r[0])).to.deep.equal([2, 3, 4, 5]);
  });

  it("describes columns with their types as 7-tuples", async () => {
    const cur = conn.cursor();
    await cur.execute("SELECT id, name FROM cur_t");
    expect(cur.description).to.deep.equal([["id", 9, null, null, null, null, null], ["name", 4, null, null, null, null, null]]);
  });

  it("rewrites %(name)s placeholders to $N, sending each referenced value once", async () => {
    const cur = conn.cursor();
    await cur.execute("SELECT %(x)s, %(y)s, %(x)s", { y: "why", x: 42, unused: "never sent" });
    expect(cur.fetchall()).to.deep.equal([[42, "why", 42]]);
    expect((await cluster.requests())[0]?.body).to.equal('{"stmt":"SELECT $1, $2, $1","args":[42,"why"]}');
    await expectReject(cur.execute("SELECT %(z)s", { x: 1 }), ProgrammingError, /Named parameter 'z' not found/);
  });

  it("passes ? and $N parameters through unchanged", async () => {
    const cur = conn.cursor();
    await cur.execute("SELECT ?, $1", ["v"]);
    expect((await cluster.requests())[0]?.body).to.equal('{"stmt":"SELECT ?, $1","args":["v"]}');
  });

  it("executemany sends one bulk request and reports the summed rowcount", async () => {
    const cur = conn.cursor();
    const items = await cur.executemany("INSERT INTO cur_m (id, v) VALUES (%(id)s, %(v)s)", [{ id: 1, v: "x" }, { id: 2, v: "y", extra: 1 }]);
    expect(items).to.deep.equal([{ rowcount: 1 }, { rowcount: 1 }]);
    expect(cur.rowcount).to.equal(2);
    expect(cur.duration).to.be.at.least(0);
    expect(cur.fetchall()).to.deep.equal([]);
    expect((await cluster.requests())[0]?.body).to.equal('{"stmt":"INSERT INTO cur_m (id, v) VALUES ($1, $2)","bulk_args":[[1,"x"],[2,"y"]]}');
    await expectReject(cur.executemany("INSERT INTO cur_m (id) VALUES (%(id)s)", [{ id: 3 }, [4]] as never), ProgrammingError, /must be objects/);
    await expectReject(cur.executemany("INSERT INTO cur_m (id) VALUES (%(id)s)", [{ id: 3 }, { other: 4 }]), ProgrammingError, /'id' not found/);
  });

  it("execute with bulk parameters behaves as executemany; both kinds of parameters is an InterfaceError", async () => {
    const cur = conn.cursor();
    await cur.execute("INSERT INTO cur_b (id) VALUES (?)", undefined, [[1], [2], [3]]);
    expect(cur.rowcount).to.equal(3);
    expect(cur.fetchall()).to.deep.equal([]);
    await expectReject(cur.execute("INSERT INTO cur_b (id) VALUES (?)", [1], [[2]]), InterfaceError, /not both/);
  });

  it("gives an empty result for row-count statements", async () => {
    const cur = conn.cursor();
    await cur.execute("CREATE TABLE IF NOT EXISTS cur_c (id INT)");
    expect(cur.rowcount).to.equal(1);
    expect(cur.fetchall()).to.deep.equal([]);
    expect(cur.description).to.deep.equal([]);
  });

  it("after close: -1 sentinels, null description, and 'Cursor closed' errors", async () => {
    const cur = conn.cursor();
    await cur.execute("SELECT id FROM cur_t");
    cur.close();
    expect(cur.closed).to.equal(true);
    expect(cur.rowcount).to.equal(-1);
    expect(cur.duration).to.equal(-1);
    expect(cur.description).to.equal(null);
    expectThrow(() => cur.fetchone(), ProgrammingError, /^Cursor closed$/);
    expectThrow(() => cur.fetchmany(), ProgrammingError, /^Cursor closed$/);
    expectThrow(() => cur.fetchall(), ProgrammingError, /^Cursor closed$/);
    await expectReject(cur.execute("SELECT 1"), ProgrammingError, /^Cursor closed$/);
    await expectReject(cur.executemany("SELECT 1", []), ProgrammingError, /^Cursor closed$/);
  });

  it("converts values with the connection's converter, or the cursor's own", async () => {
    const ts = 1658167836758;
    const reply = { kind: "respond" as const, status: 200, json: { cols: ["t", "b"], col_types: [11, 3], rows: [[ts, true]], rowcount: 1, duration: 1 } };
    const withConv = connect(cluster.urls, { converter: new DefaultTypeConverter() });
    await cluster.fault({ node: 0, fault: reply, times: 3 });
    const c1 = withConv.cursor();
    await c1.execute("SELECT t");
    expect(c1.fetchone()).to.deep.equal([new Date(ts), true]);
    const c2 = withConv.cursor({ converter: new Converter().set(3, (v) => (v ? "yes" : "no")) });
    await c2.execute("SELECT t");
    expect(c2.fetchone()).to.deep.equal([ts, "yes"]);
    const c3 = withConv.cursor({ converter: null });
    await c3.execute("SELECT t");
    expect(c3.fetchone()).to.deep.equal([ts, true]);
    await withConv.close();
  });

  it("throws 'Connection closed' from execute once the connection is closed", async () => {
    const other = connect(cluster.urls);
    const cur = other.cursor();
    await other.close();
    await expectReject(cur.execute("SELECT 1"), ProgrammingError, /^Connection closed$/);
    expectThrow(() => other.cursor(), ProgrammingError, /^Connection closed$/);
  });
});
