import { expect } from "chai";
import { InterfaceError, connect } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject } from "./support/helpers.js";

describe("Connection#bulk()", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => cluster?.close());
  beforeEach(async () => cluster.resetLog());

  it("sends bulk_args and sums the rowcounts", async () => {
    const conn = connect(cluster.urls);
    const res = await conn.bulk("INSERT INTO bulk_a (id, name) VALUES (?, ?)", [[1, "a"], [2, "b"], [3, "c"]]);
    expect(res).to.deep.include({ cols: [], rowcount: 3, failed: [] });
    expect(res.results).to.deep.equal([{ rowcount: 1 }, { rowcount: 1 }, { rowcount: 1 }]);
    expect(res.duration).to.be.a("number");
    expect((await cluster.requests())[0]?.body).to.equal('{"stmt":"INSERT INTO bulk_a (id, name) VALUES (?, ?)","bulk_args":[[1,"a"],[2,"b"],[3,"c"]]}');
    await conn.close();
  });

  it("lists failed items (rowcount -2) in input order with code and message", async () => {
    const conn = connect(cluster.urls);
    await conn.query("INSERT INTO bulk_b (id) VALUES (?)", [2]);
    const res = await conn.bulk("INSERT INTO bulk_b (id) VALUES (?)", [[1], [2], [3]]);
    expect(res.rowcount).to.equal(2);
    expect(res.failed).to.deep.equal([{ index: 1, code: 4091, message: "DuplicateKeyException[A document with the same primary key exists already]" }]);
    expect(res.results[1]).to.deep.equal({ rowcount: -2, error: { code: 4091, message: "DuplicateKeyException[A document with the same primary key exists already]" } });
    await conn.close();
  });

  it("normalises the pre-5.10 error_message form and items without any message", async () => {
    await cluster.fault({ node: 0, fault: { kind: "respond", status: 200, json: {
      cols: [], duration: 1.5, results: [{ rowcount: 1 }, { rowcount: -2, error_message: "old style" }, { rowcount: -2 }],
    } } });
    const conn = connect(cluster.urls);
    const res = await conn.bulk("INSERT INTO bulk_c (id) VALUES (?)", [[1], [2], [3]]);
    expect(res.failed).to.deep.equal([
      { index: 1, message: "old style" },
      { index: 2, message: "bulk item failed without an error message" },
    ]);
    expect(res.results[1]).to.deep.equal({ rowcount: -2, error: { message: "old style" } });
    expect(res.rowcount).to.equal(1);
    expect(res.duration).to.equal(1.5);
    await conn.close();
  });

  it("gives rowcount -1 when no item has a rowcount >= 0", async () => {
    const conn = connect(cluster.urls);
    const res = await conn.bulk("INSERT INTO bulk_d (id) VALUES (?)", []);
    expect(res).to.deep.include({ results: [], rowcount: -1, failed: [] });
    expect((await cluster.requests())[0]?.body).to.equal('{"stmt":"INSERT INTO bulk_d (id) VALUES (?)","bulk_args":[]}');
    await conn.close();
  });

  it("rejects rows that are not arrays before any I/O", async () => {
    const conn = connect(cluster.urls);
    await expectReject(conn.bulk("INSERT INTO t (id) VALUES (?)", [1] as unknown as unknown[][]), InterfaceError, /row 0/);
    await expectReject(conn.bulk("INSERT INTO t (id) VALUES (?)", "x" as unknown as unknown[][]), InterfaceError);
    expect(await cluster.requests()).to.have.length(0);
    await conn.close();
  });
});
