import { expect } from "chai";
import { InterfaceError, connect } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject } from "./support/helpers.js";

describe("Parameters on the wire", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => cluster?.close());
  beforeEach(async () => cluster.resetLog());

  async function sentArgs(args: unknown[]): Promise<string> {
    const conn = connect(cluster.urls, { int64: "string" });
    await cluster.resetLog();
    await conn.query(`SELECT ${args.map(() => "?").join(", ")}`, args);
    await conn.close();
    const body = (await cluster.requests())[0]?.body ?? "";
    return body.slice(body.indexOf('"args":') + 7, -1);
  }

  it("sends bigint as exact integer digits, also nested", async () => {
    expect(await sentArgs([9007199254740993n, [-9223372036854775808n], { big: 12345678901234567890n }]))
      .to.equal('[9007199254740993,[-9223372036854775808],{"big":12345678901234567890}]');
  });

  it("sends integer numbers beyond 2^53 (also boxed) with their exact digits", async () => {
    // eslint-disable-next-line no-new-wrappers
    expect(await sentArgs([2 ** 60, [new Number(51884964016099130)], -(2 ** 63)]))
      .to.equal("[1152921504606846976,[51884964016099128],-9223372036854775808]");
  });

  it("sends Date as epoch milliseconds", async () => {
    expect(await sentArgs([new Date(Date.UTC(2015, 1, 28, 7, 31, 40)), [new Date(0)]])).to.equal("[1425108700000,[0]]");
  });

  it("sends NaN and ±Infinity as null", async () => {
    expect(await sentArgs([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])).to.equal("[null,null,null]");
  });

  it("sends strings, booleans, null, objects and arrays as JSON", async () => {
    expect(await sentArgs(["a\"b", true, null, { k: [1, 2.5] }])).to.equal('["a\\"b",true,null,{"k":[1,2.5]}]');
  });

  it("echoes a bigint beyond 2^53 back exactly through the fake server", async () => {
    const conn = connect(cluster.urls, { int64: "bigint" });
    const res = await conn.query("SELECT ?", [9007199254740993n]);
    expect(res.rows).to.deep.equal([[9007199254740993n]]);
    await conn.close();
  });

  const unsupported: Array<[string, unknown]> = [
    ["Uint8Array", new Uint8Array([1])], ["ArrayBuffer", new ArrayBuffer(1)], ["Map", new Map()], ["Set", new Set()],
    ["function", () => 1], ["symbol", Symbol("s")], ["invalid Date", new Date(Number.NaN)],
  ];
  for (const [what, value] of unsupported) {
    it(`rejects a ${what} with InterfaceError before any I/O`, async () => {
      const conn = connect(cluster.urls);
      await expectReject(conn.query("SELECT ?", [value]), InterfaceError);
      await expectReject(conn.query("SELECT ?", [{ nested: [value] }]), InterfaceError);
      expect(await cluster.requests()).to.have.length(0);
      await conn.close();
    });
  }

  it("rejects cyclic structures with InterfaceError before any I/O", async () => {
    const conn = connect(cluster.urls);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expectReject(conn.query("SELECT ?", [cyclic]), InterfaceError, /JSON/);
    expect(await cluster.requests()).to.have.length(0);
    await conn.close();
  });
});
