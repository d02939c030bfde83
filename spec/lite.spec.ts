// `cratedb-fetch/lite`: the thin core on plain fetch. The same failover and retry-safety rules, exact
// BIGINT/NUMERIC, typed errors, timeout and signal as the full entry; options it cannot honour are refused.
import { expect } from "chai";
import * as full from "cratedb-fetch";
import {
  ConnectionError, CrateDBError, DataError, DatabaseError, InterfaceError, LiteConnection, NotSupportedError, ProgrammingError, connect,
} from "cratedb-fetch/lite";
import { clusterPerSuite, nodesSeen as seenBy } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, expectThrow, runtime } from "./support/helpers.js";

describe("cratedb-fetch/lite", () => {
  let cluster: ClusterHandle;
  let urls: string[];
  clusterPerSuite({ nodes: 3 }, (c) => ((cluster = c), (urls = c.urls)), { restartNodes: true });

  const nodesSeen = (): Promise<number[]> => seenBy(cluster);

  it("queries and bulk-inserts, with servers, activeServers, closed and asyncDispose", async () => {
    const conn = connect(urls, { schema: "doc" });
    expect(conn).to.be.instanceOf(LiteConnection);
    expect(conn.servers).to.deep.equal(urls);
    const bulk = await conn.bulk("INSERT INTO lite_rows (id) VALUES (?)", [[1], [2]]);
    expect(bulk.results.map((r) => r.rowcount)).to.deep.equal([1, 1]);
    const res = await conn.query<{ id: number }>("SELECT id FROM lite_rows ORDER BY id", [], { rowMode: "object" });
    expect(res.rows).to.deep.equal([{ id: 1 }, { id: 2 }]);
    expect(conn.activeServers).to.have.length(3);
    await conn[Symbol.asyncDispose]();
    expect(conn.closed).to.equal(true);
    await expectReject(conn.query("SELECT 1"), ProgrammingError, /Connection closed/);
  });

  it("rotates round robin and fails over on 503, taking the node out", async () => {
    const conn = connect(urls);
    await cluster.fault({ node: 0, fault: { kind: "status", status: 503 } });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    await conn.query("SELECT 1");
    expect(await nodesSeen()).to.deep.equal([0, 1, 2]);
    expect(conn.activeServers).to.deep.equal([urls[1], urls[2]]);
    await conn.close();
  });

  it("re-sends a SELECT after a reset mid-response, never an INSERT: the server holds exactly one row", async () => {
    const conn = connect(urls);
    await cluster.fault({ node: 0, fault: { kind: "reset-after-headers" } });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    expect(await nodesSeen()).to.deep.equal([0, 1]);
    await cluster.fault({ node: 2, fault: { kind: "reset-after-headers" } });
    const err = await expectReject<ConnectionError>(conn.query("INSERT INTO lite_once (id) VALUES (?)", [1]), ConnectionError, /may have been executed/);
    expect(err.server).to.equal(urls[2]);
    expect((await nodesSeen()).slice(2)).to.deep.equal([2]);
    expect((await cluster.stats()).tables["doc.lite_once"]).to.deep.equal([[1]]);
    await conn.close();
  });

  it("rejects with ConnectionError once every node failed", async () => {
    const conn = connect(urls);
    for (let i = 0; i < 3; i++) await cluster.fault({ node: i, fault: { kind: "status", status: 503 } });
    await expectReject(conn.query("SELECT 1"), ConnectionError, /^No more servers available, exception from last server: .*503/);
    await conn.close();
  });

  it("decodes BIGINT exactly as bigint or string, and rejects an unsafe one as number with DataError", async () => {
    const big = '{"cols":["id"],"col_types":[10],"rows":[[9007199254740993],[-9223372036854775808]],"rowcount":2,"duration":1}';
    const respond = (): Promise<void> => cluster.fault({ node: 0, fault: { kind: "respond", status: 200, headers: { "content-type": "application/json" }, body: big } });
    const one = [urls[0] as string];
    const [asBig, asString, asNumber] = [connect(one, { int64: "bigint" }), connect(one, { int64: "string" }), connect(one)];
    await respond();
    expect((await asBig.query("SELECT id FROM t")).rows).to.deep.equal([[9007199254740993n], [-9223372036854775808n]]);
    await respond();
    expect((await asString.query("SELECT id FROM t")).rows).to.deep.equal([["9007199254740993"], ["-9223372036854775808"]]);
    await respond();
    await expectReject(asNumber.query("SELECT id FROM t"), DataError, /column 'id'.*int64: "bigint" or "string"/);
    await Promise.all([asBig.close(), asString.close(), asNumber.close()]);
  });

  it("maps CrateDB errors to the same classes as the full entry, with code and server", async () => {
    const conn = connect([urls[0] as string]);
    const err = await expectReject<ProgrammingError>(conn.query("SELECT * FROM lite_missing_table"), ProgrammingError);
    expect(err.code).to.be.a("number");
    expect(err.server).to.equal(urls[0]);
    expect(err.name).to.equal("ProgrammingError");
    expect(err).to.be.instanceOf(DatabaseError).and.instanceOf(CrateDBError);
    // The same hierarchy and names as the full entry's classes (a separate build: not the same objects).
    expect(new ProgrammingError("x").name).to.equal(new full.ProgrammingError("x").name);
    await conn.close();
  });

  it("times out a hanging node, and rejects with the signal's reason on abort without a retry", async () => {
    const conn = connect([urls[0] as string], { timeout: 200 });
    await cluster.fault({ node: 0, fault: { kind: "hang" } });
    await expectReject(conn.query("SELECT 1"), ConnectionError, /timed out after 200 ms/);
    const two = connect(urls);
    await cluster.fault({ node: 0, fault: { kind: "hang" } });
    const controller = new AbortController();
    const reason = new Error("user gave up");
    setTimeout(() => controller.abort(reason), 100);
    let caught: unknown;
    try {
      await two.query("SELECT 2", [], { signal: controller.signal });
    } catch (e) {
      caught = e;
    }
    expect(caught).to.equal(reason);
    const sent = (await cluster.requests()).filter((r) => r.body.includes('"SELECT 2'));
    expect(sent.map((r) => r.node), "aborted: not retried").to.deep.equal([0]);
    await conn.close();
    await two.close();
  });

  it("shows no secret in JSON, keys or string form", async () => {
    const conn = connect([`http://crate:url-s3cret@${(urls[0] as string).slice(7)}`], { headers: { "x-token": "hdr-s3cret" } });
    const shown = [JSON.stringify(conn), Object.keys(conn).join(","), String(conn), JSON.stringify({ ...conn })].join(" ");
    expect(shown).to.not.match(/s3cret/);
    expect(JSON.parse(JSON.stringify(conn))).to.deep.equal({ servers: [urls[0]], activeServers: [urls[0]], closed: false });
    await conn.close();
  });

  it("takes the full entry's option names, refusing what it cannot honour with NotSupportedError before any I/O", () => {
    expectThrow(() => connect(urls, { discover: true }), NotSupportedError, /'discover'.*cratedb-fetch\/lite.*full entry/);
    if (runtime === "browser" || runtime === "workerd") {
      // Plain fetch there (dist/lite.js): no TLS or socket options, as with the full entry.
      expectThrow(() => connect(urls, { verifySslCert: false }), NotSupportedError, /'verifySslCert'.*cratedb-fetch\/lite/);
      expectThrow(() => connect(urls, { poolSize: 4 }), NotSupportedError, /'poolSize'/);
    } else {
      // Node, Deno and Bun: the runtime's own transport, which honours them (closed again at once: no I/O was done).
      void connect(urls, { poolSize: 4 }).close();
    }
    expectThrow(() => connect(urls, { onQuery: () => undefined }), NotSupportedError, /'onQuery'/);
    expectThrow(() => connect(urls, { killOnAbort: true }), NotSupportedError, /'killOnAbort'/);
    expectThrow(() => connect(urls, { compress: true }), NotSupportedError, /'compress'/);
    expectThrow(() => connect(urls, { maxRetries: -1 }), InterfaceError, /maxRetries/);
    expectThrow(() => connect(urls, { max_retries: 1 } as never), InterfaceError, /did you mean 'maxRetries'/);
    expectThrow(() => connect("ftp://h:4200"), InterfaceError);
    const ok = connect({ servers: urls, killOnAbort: false, compress: false, retryOnTimeout: true, int64: "bigint" });
    expect(ok.servers).to.deep.equal(urls);
  });
});
