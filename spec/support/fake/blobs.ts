/**
 * BLOB tables over `/_blobs/{table}/{digest}` (protocol §5, §9.8), after CORS and auth (`admit` in `http.ts`).
 *
 * Blob tables are cluster-wide and in memory (`Db.blobs`: name → digest → Buffer), created with
 * `CREATE BLOB TABLE` in `sql.ts`. Bodies are streamed: a PUT is hashed and copied once into a buffer sized by
 * `content-length`, and a GET is written from the stored Buffer in slices that respect backpressure.
 *
 * "Home node" redirects (`ClusterOptions.blobRedirects`): a blob lives on node `first digest byte % nodes`; GET,
 * HEAD and PUT with `Expect: 100-continue` arriving elsewhere get a 307 to it (as long as that node is running;
 * a stopped home node counts as "no copy elsewhere", and the request is served locally).
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as zlib from "node:zlib";
import type { ClusterOptions, SeenRequest } from "../cluster-api.js";
import { applyHead } from "./faults.js";
import { emptyReply, textReply, type Reply } from "./reply.js";
import type { Db } from "./sql.js";

/** `HttpBlobHandler.BLOBS_PATTERN`, matched against the URI after the path prefix (query string included). */
export const BLOB_URI = /^\/_blobs\/([^_/][^/]*)\/([0-9a-f]{40})$/;
const RANGE = /^bytes=(\d+)-(\d*)$/;
const EXPIRES = "Thu, 31 Dec 2037 23:59:59 GMT";
const CACHE_CONTROL = "max-age=315360000";
/** Slice size when writing a stored blob (Netty's HTTPS chunk is 8 KB; bigger slices are cheaper here). */
const WRITE_SLICE = 256 * 1024;
/** Never trust a `content-length` beyond this for preallocation (the buffer grows instead). */
const MAX_PREALLOC = 1024 * 1024 * 1024;

/** What the blob handler needs to know about its node and cluster. */
export interface BlobNode {
  options: ClusterOptions;
  db: Db;
  /** This node's index. */
  index: number;
  nodeCount: number;
  /** Base URL (scheme, 127.0.0.1:port, path prefix) of node `i` when it is running, else undefined. */
  liveNodeUrl(i: number): string | undefined;
}

/**
 * The request body of one blob request, read at most once, decoded (`Content-Encoding` gzip/deflate as Netty's
 * `HttpContentDecompressor`), counted into the request log (`body` = `"<N bytes>"`, `wireBytes`).
 */
export class BlobBody {
  private continued = false;
  private reading: Promise<number> | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly seen: SeenRequest,
    /** The client sent `Expect: 100-continue` (node:http left the `100 Continue` to us). */
    readonly expectContinue: boolean,
  ) {}

  /** Send `100 Continue` once, if the client is waiting for it. */
  continue(): void {
    if (!this.expectContinue || this.continued || this.res.headersSent) return;
    this.continued = true;
    this.res.writeContinue();
  }

  /** Will the client send its body (it is not waiting for a `100 Continue` we never sent)? */
  get coming(): boolean {
    return !this.expectContinue || this.continued;
  }

  /** Byte length announced for the decoded body, when it is known up front. */
  get expectedLength(): number | undefined {
    const enc = (this.req.headers["content-encoding"] ?? "").trim().toLowerCase();
    if (enc !== "" && enc !== "identity") return undefined;
    const n = Number(this.req.headers["content-length"]);
    return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  }

  /** Read the whole body, handing each decoded chunk to `onChunk`; resolves with the decoded byte count. */
  read(onChunk: (chunk: Buffer) => void = () => {}): Promise<number> {
    this.continue();
    this.reading ??= this.pump(onChunk);
    return this.reading;
  }

  private async pump(onChunk: (chunk: Buffer) => void): Promise<number> {
    const seen = this.seen;
    let decoded = 0;
    const inflater = decoderFor(this.req.headers["content-encoding"]);
    if (inflater === undefined) {
      for await (const c of this.req) {
        seen.wireBytes += (c as Buffer).length;
        decoded += (c as Buffer).length;
        onChunk(c as Buffer);
      }
    } else {
      const count = new Transform({
        transform(c: Buffer, _enc, cb) {
          seen.wireBytes += c.length;
          cb(null, c);
        },
      });
      const sink = new Writable({
        write(c: Buffer, _enc, cb) {
          decoded += c.length;
          onChunk(c);
          cb();
        },
      });
      try {
        await pipeline(this.req, count, inflater, sink);
      } catch (e) {
        // Netty passes an empty body through untouched; zlib calls it truncated.
        if (seen.wireBytes !== 0) throw e;
      }
    }
    seen.body = decoded > 0 ? `<${decoded} bytes>` : "";
    return decoded;
  }
}

function decoderFor(encoding: string | string[] | undefined): zlib.Gunzip | zlib.Inflate | undefined {
  const enc = String(encoding ?? "").trim().toLowerCase();
  if (enc === "gzip" || enc === "x-gzip") return zlib.createGunzip();
  // zlib-wrapped deflate (RFC 1950) as Netty's ZlibWrapper.ZLIB_OR_NONE mostly sees it
  if (enc === "deflate" || enc === "x-deflate") return zlib.createInflate();
  return undefined;
}

/** A growable buffer that copies each chunk exactly once when the final size is known up front. */
class Accumulator {
  private buf: Buffer;
  private len = 0;

  constructor(expected: number | undefined) {
    this.buf = Buffer.allocUnsafe(expected !== undefined && expected <= MAX_PREALLOC ? expected : 64 * 1024);
  }

  push(chunk: Buffer): void {
    if (this.len + chunk.length > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + chunk.length));
      this.buf.copy(bigger, 0, 0, this.len);
      this.buf = bigger;
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
  }

  result(): Buffer {
    if (this.len === this.buf.length) return this.buf;
    // keep a view when little is wasted, copy small leftovers out of a mostly empty buffer
    return this.len * 2 >= this.buf.length ? this.buf.subarray(0, this.len) : Buffer.from(this.buf.subarray(0, this.len));
  }
}

/** The headers CrateDB's `setDefaultGetHeaders` adds to blob GET/HEAD answers (after content-length). */
function cacheHeaders(length: number, extra: Array<[string, string]> = []): Array<[string, string]> {
  return [["content-length", String(length)], ...extra, ["accept-ranges", "bytes"], ["expires", EXPIRES], ["cache-control", CACHE_CONTROL]];
}

/** 204 without content-length (Netty strips it on 204). */
const noContent = (): Reply => ({ status: 204, headers: [], body: Buffer.alloc(0) });

/**
 * Answer one authenticated `/_blobs…` request (`url` without the path prefix). PUT reads the body through `body`;
 * other methods leave it alone. The returned reply may share its body with the stored blob (never mutate it).
 */
export async function handleBlob(node: BlobNode, method: string, url: string, headers: IncomingMessage["headers"], body: BlobBody): Promise<Reply> {
  const m = BLOB_URI.exec(url);
  if (!m) return emptyReply(404);
  const name = m[1] as string;
  const digest = m[2] as string;
  if (method !== "GET" && method !== "HEAD" && method !== "PUT" && method !== "DELETE") return emptyReply(405);

  const store = node.db.blobs.get(name);
  if (!store) {
    // The fake's analogue of an index without blobs enabled: a SQL (non-blob) table of that name in any schema.
    const sqlTable = [...node.db.tables.keys()].some((k) => k.slice(k.indexOf(".") + 1) === name);
    if (sqlTable) return textReply(400, `Invalid request sent: [.blob_${name}] blobs not enabled on this index\n`);
    return emptyReply(404);
  }

  const redirectable = method === "GET" || method === "HEAD" || (method === "PUT" && body.expectContinue);
  if (redirectable && node.options.blobRedirects) {
    const home = (Number.parseInt(digest.slice(0, 2), 16) % node.nodeCount) | 0;
    const base = home === node.index ? undefined : node.liveNodeUrl(home);
    if (base !== undefined) return emptyReply(307, [["location", `${base}/_blobs/${name}/${digest}`]]);
  }

  switch (method) {
    case "GET": {
      const blob = store.get(digest);
      if (!blob) return emptyReply(404);
      const range = RANGE.exec(String(headers["range"] ?? ""));
      if (!range) return { status: 200, headers: cacheHeaders(blob.length), body: blob };
      const total = blob.length;
      const start = Number(range[1]);
      if (start > total) return emptyReply(416);
      // CrateDB trusts the end as sent (a response it cannot complete); the fake clamps it to the last byte.
      const end = range[2] === "" ? total - 1 : Math.min(Number(range[2]), total - 1);
      if (end < start - 1) return emptyReply(416); // CrateDB: a negative content-length (an internal error)
      const count = end - start + 1;
      // Code quirk kept on purpose (§5): over TLS CrateDB's ChunkedFile reads the partial body from offset 0.
      const from = node.options.tls ? 0 : start;
      return {
        status: 206,
        headers: cacheHeaders(count, [["content-range", `bytes ${start}-${end}/${total}`]]),
        body: blob.subarray(from, from + count),
      };
    }
    case "HEAD": {
      const blob = store.get(digest);
      if (!blob || blob.length === 0) return emptyReply(404);
      return { status: 200, headers: cacheHeaders(blob.length), body: Buffer.alloc(0), noBody: true };
    }
    case "DELETE":
      return store.delete(digest) ? noContent() : emptyReply(404);
    default:
      return put(store, digest, body);
  }
}

/** PUT: `100 Continue` when asked, 409 if the digest existed at the start, else hash + store → 201 or 400. */
async function put(store: Map<string, Buffer>, digest: string, body: BlobBody): Promise<Reply> {
  if (store.has(digest)) {
    await body.read(); // CrateDB ignores the content of a blob that exists (RemoteDigestBlob: EXISTS)
    return emptyReply(409);
  }
  const sha1 = createHash("sha1");
  const acc = new Accumulator(body.expectedLength);
  await body.read((chunk) => {
    sha1.update(chunk);
    acc.push(chunk);
  });
  if (sha1.digest("hex") !== digest) return emptyReply(400);
  if (store.has(digest)) return emptyReply(409); // a concurrent PUT of the same digest won
  store.set(digest, acc.result());
  return emptyReply(201);
}

/** Write a reply whose body may be a large stored blob: slices of `WRITE_SLICE` bytes, waiting for `drain`. */
export async function writeBlobReply(res: ServerResponse, reply: Reply): Promise<void> {
  if (res.destroyed) return;
  applyHead(res, reply);
  const data = reply.noBody ? Buffer.alloc(0) : reply.body;
  for (let off = 0; off < data.length; off += WRITE_SLICE) {
    if (res.destroyed) return;
    if (!res.write(data.subarray(off, off + WRITE_SLICE)) && !(await drained(res))) return;
  }
  res.end();
}

/** Resolves true on `drain`, false when the response (or its socket) closes first. */
function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off("drain", onDrain);
      res.off("close", onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once("drain", onDrain);
    res.once("close", onClose);
  });
}

/** `{ size, sha1 }` of a stored blob for the control server (`table` with or without `blob.`), or null. */
export function blobInfo(db: Db, table: string, digest: string): { size: number; sha1: string } | null {
  const blob = db.blobs.get(table.replace(/^blob\./, ""))?.get(digest);
  if (!blob) return null;
  return { size: blob.length, sha1: createHash("sha1").update(blob).digest("hex") };
}

/**
 * Store `size` deterministic bytes (the generator `seededBytes` in `cluster-api.ts` describes) in blob table `table`,
 * so a spec can read a large blob without first holding it in its own process. Returns the digest, or null when the
 * blob table does not exist.
 */
export function seedBlob(db: Db, table: string, size: number, seed: number): string | null {
  const store = db.blobs.get(table.replace(/^blob\./, ""));
  if (!store) return null;
  const bytes = Buffer.allocUnsafe(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    bytes[i] = x >>> 16;
  }
  const digest = createHash("sha1").update(bytes).digest("hex");
  store.set(digest, bytes);
  return digest;
}
