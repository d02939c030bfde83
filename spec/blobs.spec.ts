import { expect } from "chai";
import { BlobLocationNotFoundError, ConnectionError, DigestNotFoundError, InterfaceError, ProgrammingError, connect, type Connection } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { decodeBasic, expectReject, notApplicable, runtime, sleep, keepsSockets } from "./support/helpers.js";

async function sha1(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes as BufferSource));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function payload(size: number, seed = 7): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    out[i] = x >>> 16;
  }
  return out;
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const BROWSER_REDIRECT = "a browser follows the blob's 307 to the other node itself and, by the Fetch standard, drops Authorization " +
  "on a cross-origin redirect, so an authenticated blob request to a node that does not hold the blob answers 401";

describe("Blobs", () => {
  let cluster: ClusterHandle;
  let conn: Connection;
  beforeEach(function () {
    keepsSockets(this, "one connection shared by the suite, closed in after()");
  });
  before(async () => {
    cluster = await startCluster({ nodes: 2, blobRedirects: true, auth: { users: { alice: "blob-pw" } } });
    conn = connect(cluster.urls, { username: "alice", password: "blob-pw", schema: "ignored_for_blobs" });
    await conn.query("CREATE BLOB TABLE files");
    await conn.query("CREATE TABLE not_blobs (id INT)");
  });
  after(async () => {
    await conn?.close();
    await cluster?.close();
  });
  beforeEach(async () => cluster.resetLog());

  it("puts data without a digest and resolves to its SHA-1 (known vectors)", async () => {
    const blobs = conn.getBlobContainer("files");
    expect(await blobs.put("some_data_123456")).to.equal("51bea75c0f26998083ef3717a489f2dc05818e8d");
    expect(await blobs.put(new TextEncoder().encode("File data"))).to.equal("ea6e03a4a4ee8a2366fe5a88af2bde61797973ea");
    expect(await blobs.put(new Blob(["StringIO data"]))).to.equal("0cd4511d696823779692484029f234471cd21f28");
    expect(await blobs.put(new TextEncoder().encode("an ArrayBuffer").buffer)).to.equal(await sha1(new TextEncoder().encode("an ArrayBuffer")));
  });

  it("puts with a digest: true when created, false when it existed", async () => {
    const blobs = conn.getBlobContainer("files");
    const data = payload(1000, 1);
    const digest = await sha1(data);
    expect(await blobs.put(data, digest)).to.equal(true);
    expect(await blobs.put(data, digest)).to.equal(false);
    expect(await cluster.blob("files", digest)).to.deep.equal({ size: 1000, sha1: digest });
  });

  it("round-trips a 5 MB blob through put/get and through stream", async () => {
    const blobs = conn.getBlobContainer("files");
    const data = payload(5 * 1024 * 1024, 2);
    const digest = (await blobs.put(data)) as string;
    expect(digest).to.equal((await cluster.blob("files", digest))?.sha1);
    const got = await blobs.get(digest);
    expect(got.byteLength).to.equal(data.byteLength);
    expect(await sha1(got)).to.equal(digest);
    const streamed = await drain(await blobs.stream(digest));
    expect(streamed.byteLength).to.equal(data.byteLength);
    expect(await sha1(streamed)).to.equal(digest);
  });

  it("a download that breaks off errors the stream with a ConnectionError saying how far it got", async () => {
    const lone = await startCluster({ nodes: 1 });
    const c = connect(lone.urls);
    try {
      await c.query("CREATE BLOB TABLE cut");
      const size = 1024 * 1024;
      const digest = await lone.seedBlob("cut", size, 5);
      await lone.fault({ node: 0, path: "/_blobs", fault: { kind: "truncated-body" } });
      const reader = (await c.getBlobContainer("cut").stream(digest)).getReader();
      let received = 0;
      const err = await (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return undefined;
          received += value.byteLength;
        }
      })().catch((e: unknown) => e);
      expect(err, `after ${received} of ${size} bytes`).to.be.instanceOf(ConnectionError);
      expect(received).to.be.below(size);
      // The server as the client knows it: the node's own URL, or its proxy URL in the proxy lane.
      const server = (lone.urls[0] as string).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
      expect((err as Error).message).to.match(new RegExp(`^Blob download of cut/[0-9a-f]{40} from ${server} broke off after \\d+ (of 1048576 )?bytes: `));
      // The same blob downloads whole once the fault is used up.
      expect((await drain(await c.getBlobContainer("cut").stream(digest))).byteLength).to.equal(size);
    } finally {
      await c.close();
      await lone.close();
    }
  });

  it("cancelling a stream part-way stops the download and frees its connection", async function () {
    const lone = await startCluster({ nodes: 1 });
    const c = connect(lone.urls);
    try {
      await c.query("CREATE BLOB TABLE parted");
      const size = 16 * 1024 * 1024;
      const digest = await lone.seedBlob("parted", size, 9);
      const reader = (await c.getBlobContainer("parted").stream(digest)).getReader();
      const first = await reader.read();
      expect(first.done).to.equal(false);
      await reader.cancel("enough");
      if (runtime === "node" || runtime === "bun" || runtime === "deno") {
        // Our own sockets: the half-read response cannot go back to the pool, so it is closed.
        const t0 = Date.now();
        while ((await lone.stats()).nodes[0]?.connectionsOpen !== 0 && Date.now() - t0 < 3_000) await sleep(50);
        expect((await lone.stats()).nodes[0]?.connectionsOpen, "connections open after cancel").to.equal(0);
      }
      // The container keeps working (on a new connection where the old one was closed).
      expect(await c.getBlobContainer("parted").exists(digest)).to.equal(true);
    } finally {
      await c.close();
      await lone.close();
    }
  });

  it("tells whether a blob exists and deletes it", async () => {
    const blobs = conn.getBlobContainer("files");
    const digest = (await blobs.put("to be deleted")) as string;
    expect(await blobs.exists(digest)).to.equal(true);
    expect(await blobs.delete(digest)).to.equal(true);
    expect(await blobs.exists(digest)).to.equal(false);
    expect(await blobs.delete(digest)).to.equal(false);
  });

  it("throws DigestNotFoundError for an unknown digest, on get and on stream", async function () {
    if (runtime === "browser") return notApplicable(this, BROWSER_REDIRECT);
    const blobs = conn.getBlobContainer("files");
    const missing = "0".repeat(40);
    const err = await expectReject<DigestNotFoundError>(blobs.get(missing), DigestNotFoundError, /not found/);
    expect(err).to.include({ table: "files", digest: missing, status: 404 });
    await expectReject(blobs.stream(missing), DigestNotFoundError);
  });

  it("throws BlobLocationNotFoundError for a table that is not a blob table", async () => {
    await expectReject(conn.getBlobContainer("not_blobs").put("x"), BlobLocationNotFoundError, /not_blobs/);
    await expectReject(conn.getBlobContainer("nowhere").put("x"), BlobLocationNotFoundError, /nowhere/);
  });

  it("follows the 307 to the node holding the blob, with credentials, and sends no Default-Schema", async function () {
    if (runtime === "browser") return notApplicable(this, BROWSER_REDIRECT);
    const blobs = conn.getBlobContainer("files");
    let digest = "";
    let data = new Uint8Array(0);
    // Find content whose home node is node 1, so that a GET sent to node 0 is redirected.
    for (let i = 0; i < 50; i++) {
      data = new TextEncoder().encode(`redirect me ${i}`);
      digest = await sha1(data);
      if (Number.parseInt(digest.slice(0, 2), 16) % 2 === 1) break;
    }
    await blobs.put(data, digest);
    await cluster.resetLog();
    const one = connect([cluster.urls[0] as string], { username: "alice", password: "blob-pw", schema: "s" });
    expect(new TextDecoder().decode(await one.getBlobContainer("files").get(digest))).to.equal(new TextDecoder().decode(data));
    const [first, second] = await cluster.requests();
    expect(first).to.include({ node: 0, status: 307 });
    expect(second).to.include({ node: 1, method: "GET", status: 200 });
    expect(decodeBasic(second?.headers.authorization)).to.equal("alice:blob-pw");
    expect(first?.headers["default-schema"]).to.equal(undefined);
    expect(first?.headers["content-encoding"]).to.equal(undefined);
    await one.close();
  });

  it("validates names and digests before any I/O", async () => {
    expect(() => conn.getBlobContainer("_hidden")).to.throw(InterfaceError);
    await expectReject(conn.getBlobContainer("files").get("XYZ"), InterfaceError, /digest/);
    await expectReject(conn.getBlobContainer("files").put(42 as unknown as string), InterfaceError, /Uint8Array/);
    expect(await cluster.requests()).to.have.length(0);
  });

  it("refuses blob calls after close()", async () => {
    const other = connect(cluster.urls, { username: "alice", password: "blob-pw" });
    const blobs = other.getBlobContainer("files");
    await other.close();
    await expectReject(blobs.exists("0".repeat(40)), ProgrammingError, /Connection closed/);
  });

  it("streams a 200 MB blob with less than 50 MB of RSS growth", async function () {
    if (runtime !== "node") return notApplicable(this, "the memory check reads Node's process.memoryUsage()");
    this.timeout(120_000);
    const proc = (globalThis as unknown as { process: { memoryUsage(): { rss: number } } }).process;
    const gc = (globalThis as { gc?: () => void }).gc;
    const size = 200 * 1024 * 1024;
    // The blob is made on the server, so this process never holds it: RSS growth is what the stream keeps.
    const digest = await cluster.seedBlob("files", size, 3);
    const blobs = conn.getBlobContainer("files");
    gc?.();
    const base = proc.memoryUsage().rss;
    let peak = base;
    let total = 0;
    let sinceGc = 0;
    let x = 3;
    let mismatch = -1;
    const reader = (await blobs.stream(digest)).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      // Check every byte against the server's generator: the stream must be complete and in order.
      for (let i = 0; i < value.length; i++) {
        x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
        if (value[i] !== ((x >>> 16) & 0xff) && mismatch < 0) mismatch = total + i;
      }
      total += value.byteLength;
      sinceGc += value.byteLength;
      peak = Math.max(peak, proc.memoryUsage().rss);
      // Chunks the reader has let go of are garbage; V8 frees their (external) memory only at its next GC, which
      // it may put off for ~64 MB of external allocations. Collecting every 4 MB makes RSS show what is *held*
      // (every 16 MB left ~30 MB of garbage in the count, and a loaded CI machine once read 52.7 MB).
      if (sinceGc >= 4 * 1024 * 1024) (sinceGc = 0), gc?.();
    }
    expect(total).to.equal(size);
    expect(mismatch, "first byte that differs from the server's").to.equal(-1);
    expect(peak - base, `RSS grew by ${((peak - base) / 1048576).toFixed(1)} MB`).to.be.below(50 * 1024 * 1024);
  });
});
