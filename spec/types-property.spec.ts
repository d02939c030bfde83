import { expect } from "chai";
import { DataError, connect } from "cratedb-fetch";
import fc from "fast-check";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject } from "./support/helpers.js";

const INT64 = fc.bigInt(-(2n ** 63n), 2n ** 63n - 1n);
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A decimal literal with up to 38 significant digits, e.g. "-1234.5600" or "7". */
const DECIMAL = fc.tuple(fc.boolean(), fc.stringMatching(/^[1-9][0-9]{0,19}$/), fc.stringMatching(/^[0-9]{0,18}$/))
  .map(([neg, int, frac]) => `${neg ? "-" : ""}${int}${frac === "" ? "" : `.${frac}`}`);

describe("Types: random values survive encode → server → decode (fast-check)", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => cluster?.close());
  afterEach(async () => cluster.clearFaults());

  it("int64 values round-trip exactly as bigint and as string", async () => {
    const asBigint = connect(cluster.urls, { int64: "bigint" });
    const asString = connect(cluster.urls, { int64: "string" });
    await fc.assert(fc.asyncProperty(fc.array(INT64, { minLength: 1, maxLength: 40 }), async (values) => {
      const stmt = `SELECT ${values.map(() => "?").join(", ")}`;
      const big = (await asBigint.query(stmt, values)).rows[0] as unknown[];
      expect(big.map((v) => BigInt(v as bigint | number))).to.deep.equal(values);
      const str = (await asString.query(stmt, values)).rows[0] as unknown[];
      expect(str.map(String)).to.deep.equal(values.map(String));
    }), { numRuns: 25 });
    await asBigint.close();
    await asString.close();
  });

  it("int64 'number' returns safe values as numbers and never rounds an unsafe one", async () => {
    const conn = connect(cluster.urls);
    await fc.assert(fc.asyncProperty(INT64, async (value) => {
      const query = conn.query("SELECT ?", [value]);
      if (value >= -SAFE && value <= SAFE) expect((await query).rows).to.deep.equal([[Number(value)]]);
      else await expectReject(query, DataError, /int64/);
    }), { numRuns: 60 });
    await conn.close();
  });

  it("NUMERIC values come back as their exact text with numeric: 'string'", async () => {
    const conn = connect(cluster.urls, { numeric: "string" });
    await fc.assert(fc.asyncProperty(fc.array(DECIMAL, { minLength: 1, maxLength: 20 }), async (texts) => {
      const body = `{"cols":["d"],"col_types":[22],"rows":[${texts.map((t) => `[${t}]`).join(",")}],"rowcount":${texts.length},"duration":1}`;
      await cluster.fault({ node: 0, fault: { kind: "respond", status: 200, headers: { "content-type": "application/json; charset=UTF-8" }, body } });
      expect((await conn.query("SELECT d")).rows).to.deep.equal(texts.map((t) => [t]));
    }), { numRuns: 20 });
    await conn.close();
  });
});
