import { expect } from "chai";
import { InterfaceError, ProgrammingError, connect } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, notApplicable, runtime } from "./support/helpers.js";

describe("Connection#query()", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster({ nodes: 1 });
  });
  after(async () => cluster?.close());
  beforeEach(async () => cluster.resetLog());

  it("returns cols, colTypes, rows, rowcount and duration", async () => {
    const conn = connect(cluster.urls);
    const res = await conn.query("SELECT 1");
    expect(res.cols).to.deep.equal(["1"]);
    expect(res.colTypes).to.deep.equal([9]);
    expect(res.rows).to.deep.equal([[1]]);
    expect(res.rowcount).to.equal(1);
    expect(res.duration).to.be.a("number").and.at.least(0);
    await conn.close();
  });

  it("posts compact JSON to /_sql?types=true with the JSON headers", async () => {
    const conn = connect(cluster.urls);
    await conn.query("SELECT ?, ?", ["a", 2]);
    const [seen] = await cluster.requests();
    expect(seen?.method).to.equal("POST");
    expect(seen?.url).to.equal("/_sql?types=true");
    expect(seen?.body).to.equal('{"stmt":"SELECT ?, ?","args":["a",2]}');
    expect(seen?.headers["content-type"]).to.equal("application/json");
    expect(seen?.headers.accept).to.equal("application/json");
    expect(seen?.headers.authorization).to.equal(undefined);
    expect(seen?.headers["default-schema"]).to.equal(undefined);
    await conn.close();
  });

  it("leaves args out when none are given", async () => {
    const conn = connect(cluster.urls);
    await conn.query("SELECT 1");
    expect((await cluster.requests())[0]?.body).to.equal('{"stmt":"SELECT 1"}');
    await conn.close();
  });

  it("gives rows: [] for row-count statements", async () => {
    const conn = connect(cluster.urls);
    const res = await conn.query("CREATE TABLE IF NOT EXISTS q_rowcount (id INT)");
    expect(res.rows).to.deep.equal([]);
    expect(res.cols).to.deep.equal([]);
    expect(res.rowcount).to.equal(1);
    await conn.close();
  });

  it("returns plain objects with rowMode 'object', per connection or per request", async () => {
    const conn = connect(cluster.urls, { rowMode: "object" });
    const res = await conn.query<{ "$1": string; "$2": number }>("SELECT $1, $2", ["x", 5]);
    expect(res.rows).to.deep.equal([{ $1: "x", $2: 5 }]);
    const arr = await conn.query("SELECT $1, $2", ["x", 5], { rowMode: "array" });
    expect(arr.rows).to.deep.equal([["x", 5]]);
    await conn.close();
    const conn2 = connect(cluster.urls);
    expect((await conn2.query("SELECT 1", [], { rowMode: "object" })).rows).to.deep.equal([{ 1: 1 }]);
    await conn2.close();
  });

  it("keeps a column named __proto__ as an own property in object rows", async () => {
    const conn = connect(cluster.urls, { rowMode: "object" });
    await cluster.fault({ node: 0, fault: { kind: "respond", status: 200, json: { cols: ["__proto__"], col_types: [4], rows: [["x"]], rowcount: 1, duration: 1 } } });
    const res = await conn.query<Record<string, unknown>>("SELECT 1");
    const row = res.rows[0] as Record<string, unknown>;
    expect(Object.getPrototypeOf(row)).to.equal(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(row, "__proto__")?.value).to.equal("x");
    await conn.close();
  });

  it("sends Default-Schema with the schema option", async function () {
    if (runtime === "workerd") {
      return notApplicable(this, "workerd's fetch shares kept-alive sockets between Connection objects (close() cannot release them), so this " +
        "request reuses a socket whose CrateDB session an earlier spec created, and CrateDB reads Default-Schema only when a session starts");
    }
    if (runtime === "browser") {
      return notApplicable(this, "Chromium shares its kept-alive sockets between Connection objects (close() cannot release them), so this " +
        "request reuses a socket whose CrateDB session an earlier spec created, and CrateDB reads Default-Schema only when a session starts");
    }
    const conn = connect(cluster.urls, { schema: "custom" });
    const res = await conn.query("SELECT current_schema");
    expect(res.rows).to.deep.equal([["custom"]]);
    expect((await cluster.requests())[0]?.headers["default-schema"]).to.equal("custom");
    await conn.close();
  });

  it("adds error_trace=true with errorTrace, and the error carries the trace", async () => {
    const conn = connect(cluster.urls, { errorTrace: true });
    const err = await expectReject<ProgrammingError>(conn.query("SELECT * FROM nope_trace"), ProgrammingError, /RelationUnknown/);
    expect(err.errorTrace).to.be.a("string").and.not.equal("");
    expect((await cluster.requests())[0]?.url).to.equal("/_sql?types=true&error_trace=true");
    await conn.close();
  });

  it("sends extra headers", async () => {
    const conn = connect(cluster.urls, { headers: { "X-App": "spec" } });
    await conn.query("SELECT 1");
    expect((await cluster.requests())[0]?.headers["x-app"]).to.equal("spec");
    await conn.close();
  });

  it("gzips bodies of at least `compress` bytes, and only those", async () => {
    const conn = connect(cluster.urls, { compress: 200 });
    const long = "x".repeat(400);
    const res = await conn.query("SELECT ?", [long]);
    expect(res.rows).to.deep.equal([[long]]);
    await conn.query("SELECT ?", ["short"]);
    const [big, small] = await cluster.requests();
    expect(big?.headers["content-encoding"]).to.equal("gzip");
    expect(big?.wireBytes).to.be.below(big?.body.length ?? 0);
    expect(small?.headers["content-encoding"]).to.equal(undefined);
    await conn.close();
  });

  it("gzips every body with compress: true and none by default", async () => {
    const conn = connect(cluster.urls, { compress: true });
    await conn.query("SELECT 1");
    const plain = connect(cluster.urls);
    await plain.query(`SELECT '${"y".repeat(20_000)}'`).catch(() => undefined);
    const [a, b] = await cluster.requests();
    expect(a?.headers["content-encoding"]).to.equal("gzip");
    expect(b?.headers["content-encoding"]).to.equal(undefined);
    await conn.close();
    await plain.close();
  });

  it("validates the statement and arguments before any I/O", async () => {
    const conn = connect(cluster.urls);
    await expectReject(conn.query("" as string), InterfaceError, /statement/);
    await expectReject(conn.query(5 as unknown as string), InterfaceError, /statement/);
    await expectReject(conn.query("SELECT ?", "x" as unknown as unknown[]), InterfaceError, /array/);
    await expectReject(conn.query("SELECT 1", [], { timeout: -1 }), InterfaceError, /timeout/);
    await expectReject(conn.query("SELECT 1", [], { rowMode: "x" as never }), InterfaceError, /rowMode/);
    expect(await cluster.requests()).to.have.length(0);
    await conn.close();
  });
});
