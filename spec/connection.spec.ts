import { expect } from "chai";
import { BlobContainer, Cursor, InterfaceError, ProgrammingError, connect } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, expectThrow } from "./support/helpers.js";

describe("Connection lifecycle and serverInfo()", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster({ nodes: 2, clusterName: "spec-cluster", nodeName: "n", version: "6.4.3" });
  });
  after(async () => cluster?.close());
  beforeEach(async () => cluster.resetLog());

  it("logs nothing after close() resolved, though a kill was still looking up its job", async function () {
    this.timeout(15_000);
    const lines: string[] = [];
    const conn = connect([cluster.urls[0] as string], { logger: { debug: (m) => lines.push(m), warn: (m) => lines.push(m) } });
    await cluster.clearFaults();
    await cluster.fault({ node: 0, fault: { kind: "job", ms: 5_000 }, stmt: "slow_for_close" });
    await cluster.fault({ node: 0, fault: { kind: "hang" }, stmt: "sys.jobs", times: 10 }); // the kill's lookups hang
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("gave up")), 100);
    await expectReject(conn.query("SELECT 'slow_for_close'", [], { signal: ac.signal }), Error, /gave up/);
    await conn.close(); // waits up to 2 s for the kill, then closes its sockets under it
    const atClose = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(lines.slice(atClose), "logger calls after close() resolved").to.deep.equal([]);
    await cluster.clearFaults();
  });

  it("serverInfo() asks GET / and reports name, cluster name and version", async () => {
    const conn = connect(cluster.urls);
    const info = await conn.serverInfo();
    expect(info).to.deep.equal({ server: cluster.urls[0], name: "n-0", clusterName: "spec-cluster", version: "6.4.3" });
    const [seen] = await cluster.requests();
    expect(seen).to.include({ method: "GET", url: "/" });
    expect(seen?.headers.accept).to.equal("application/json");
    expect(seen?.headers["default-schema"], "no schema option, no header").to.equal(undefined);
    await conn.close();
  });

  it("serverInfo() sends Default-Schema like every SQL request (the session a GET / opens keeps it)", async () => {
    const conn = connect(cluster.urls, { schema: "my_schema" });
    await conn.serverInfo();
    const [seen] = await cluster.requests();
    expect(seen).to.include({ method: "GET", url: "/" });
    expect(seen?.headers["default-schema"]).to.equal("my_schema");
    await conn.close();
  });

  it("serverInfo(server) asks exactly that server", async () => {
    const conn = connect(cluster.urls);
    expect((await conn.serverInfo(cluster.urls[1])).name).to.equal("n-1");
    expect((await cluster.requests()).map((r) => r.node)).to.deep.equal([1]);
    await expectReject(conn.serverInfo("http://elsewhere:4200"), InterfaceError, /Unknown server/);
    await conn.close();
  });

  it("close() is idempotent and every later call throws ProgrammingError('Connection closed')", async () => {
    const conn = connect(cluster.urls);
    await conn.query("SELECT 1");
    conn.commit();
    await conn.close();
    await conn.close();
    expect(conn.closed).to.equal(true);
    await expectReject(conn.query("SELECT 1"), ProgrammingError, /^Connection closed$/);
    await expectReject(conn.bulk("SELECT 1", []), ProgrammingError, /^Connection closed$/);
    await expectReject(conn.serverInfo(), ProgrammingError, /^Connection closed$/);
    expectThrow(() => conn.commit(), ProgrammingError, /^Connection closed$/);
    expectThrow(() => conn.cursor(), ProgrammingError, /^Connection closed$/);
    expectThrow(() => conn.getBlobContainer("b"), ProgrammingError, /^Connection closed$/);
    expect(conn.servers).to.deep.equal(cluster.urls);
  });

  it("closes through Symbol.asyncDispose", async () => {
    const conn = connect(cluster.urls);
    expect(typeof Symbol.asyncDispose).to.equal("symbol");
    await conn[Symbol.asyncDispose]();
    expect(conn.closed).to.equal(true);
  });

  it("hands out cursors and blob containers", () => {
    const conn = connect(cluster.urls);
    expect(conn.cursor()).to.be.instanceOf(Cursor);
    const blobs = conn.getBlobContainer("files");
    expect(blobs).to.be.instanceOf(BlobContainer);
    expect(blobs.name).to.equal("files");
    expectThrow(() => conn.getBlobContainer("_bad"), InterfaceError);
  });

  it("logs per-request debug lines without secrets", async () => {
    const lines: string[] = [];
    const conn = connect(cluster.urls, { username: "crate", password: "debug-secret", logger: { debug: (m) => lines.push(m) } });
    await conn.query("SELECT 1");
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^POST http:\/\/127\.0\.0\.1:\d+\/_sql\?types=true → 200 in \d+ ms$/);
    expect(lines.join("\n")).not.to.include("debug-secret");
    await conn.close();
  });
});
