import { expect } from "chai";
import { Converter, DataError, DataType, DefaultTypeConverter, connect } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject } from "./support/helpers.js";

describe("Types: int64, numeric and converters", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => cluster?.close());
  afterEach(async () => cluster.clearFaults());

  /** Makes the fake answer the next query with exactly this JSON text. */
  async function answer(body: string): Promise<void> {
    await cluster.fault({ node: 0, fault: { kind: "respond", status: 200, headers: { "content-type": "application/json; charset=UTF-8" }, body } });
  }

  const BIG = '{"cols":["id","n"],"col_types":[10,9],"rows":[[9007199254740993,1],[-9223372036854775808,2]],"rowcount":2,"duration":1}';

  it("int64 'number' (default) rejects an unsafe BIGINT with DataError naming the column and the option", async () => {
    const conn = connect(cluster.urls);
    await answer(BIG);
    await expectReject(conn.query("SELECT id, n FROM t"), DataError, /column 'id'.*int64: "bigint" or "string"/);
    await conn.close();
  });

  it("int64 'number' returns ordinary numbers for safe values", async () => {
    const conn = connect(cluster.urls);
    await answer('{"cols":["id"],"col_types":[10],"rows":[[9007199254740991],[-9007199254740991],[null]],"rowcount":3,"duration":1}');
    expect((await conn.query("SELECT id FROM t")).rows).to.deep.equal([[9007199254740991], [-9007199254740991], [null]]);
    await conn.close();
  });

  it("int64 'bigint' and 'string' are exact", async () => {
    const asBig = connect(cluster.urls, { int64: "bigint" });
    await answer(BIG);
    expect((await asBig.query("SELECT id, n FROM t")).rows).to.deep.equal([[9007199254740993n, 1], [-9223372036854775808n, 2]]);
    const asString = connect(cluster.urls, { int64: "string" });
    await answer(BIG);
    expect((await asString.query("SELECT id, n FROM t")).rows).to.deep.equal([["9007199254740993", 1], ["-9223372036854775808", 2]]);
    await asBig.close();
    await asString.close();
  });

  it("handles BIGINT arrays, nested", async () => {
    const conn = connect(cluster.urls, { int64: "bigint" });
    await answer('{"cols":["a"],"col_types":[[100,[100,10]]],"rows":[[[[1,9223372036854775807],null,[]]]],"rowcount":1,"duration":1}');
    expect((await conn.query("SELECT a")).rows).to.deep.equal([[[[1n, 9223372036854775807n], null, []]]]);
    await conn.close();
  });

  it("numeric 'string' gives NUMERIC values as their exact text", async () => {
    const conn = connect(cluster.urls, { numeric: "string" });
    await answer('{"cols":["d","x"],"col_types":[22,6],"rows":[[123456789012345678901234.567890,1.5],[1E+3,2.0]],"rowcount":2,"duration":1}');
    expect((await conn.query("SELECT d, x")).rows).to.deep.equal([["123456789012345678901234.567890", 1.5], ["1E+3", 2]]);
    await conn.close();
  });

  it("keeps JSON semantics inside OBJECT columns", async () => {
    const conn = connect(cluster.urls, { int64: "bigint" });
    await answer('{"cols":["o"],"col_types":[12],"rows":[[{"n":12345678901234567890,"s":"x"}]],"rowcount":1,"duration":1}');
    expect((await conn.query("SELECT o")).rows).to.deep.equal([[{ n: 12345678901234567000, s: "x" }]]);
    await conn.close();
  });

  it("DefaultTypeConverter turns TIMESTAMP and DATE into Date, element-wise in arrays, and NaN strings into numbers", async () => {
    const conn = connect(cluster.urls, { converter: new DefaultTypeConverter() });
    await answer('{"cols":["ts","tz","d","arr","f","u"],"col_types":[11,15,24,[100,11],6,29],' +
      '"rows":[[1658167836758,0,1461196800000,[0,null],"NaN","abc"],[null,null,null,null,"-Infinity",null]],"rowcount":2,"duration":1}');
    const { rows } = await conn.query("SELECT *");
    expect(rows[0]).to.deep.equal([new Date(1658167836758), new Date(0), new Date(1461196800000), [new Date(0), null], Number.NaN, "abc"]);
    expect(rows[1]).to.deep.equal([null, null, null, null, Number.NEGATIVE_INFINITY, null]);
    await conn.close();
  });

  it("leaves values raw without a converter, and never calls a converter with null", async () => {
    const calls: unknown[] = [];
    const conn = connect(cluster.urls, { converter: new Converter({ [DataType.TEXT]: (v) => (calls.push(v), String(v).toUpperCase()) }) });
    await answer('{"cols":["s","f"],"col_types":[4,6],"rows":[["a","NaN"],[null,1.5]],"rowcount":2,"duration":1}');
    expect((await conn.query("SELECT s")).rows).to.deep.equal([["A", "NaN"], [null, 1.5]]);
    expect(calls).to.deep.equal(["a"]);
    await conn.close();
  });
});
