/**
 * What a BlobContainer does over `/_blobs/<table>/<sha1>`: upload (SHA-1 computed when no digest is
 * given), download whole or as a stream, exists, delete. Loaded (a chunk of its own) on a container's
 * first operation.
 */
import type { Kit } from "./kit.js";
import type { Answer, RequestSpec } from "./request.js";

const DIGEST = /^[0-9a-f]{40}$/;
const encoder = /* @__PURE__ */ new TextEncoder();
const decoder = /* @__PURE__ */ new TextDecoder();

function toHex(buf: ArrayBuffer): string {
  let out = "";
  for (const b of new Uint8Array(buf)) out += b.toString(16).padStart(2, "0");
  return out;
}

async function toBytes(kit: Kit, data: Uint8Array | ArrayBuffer | Blob | string): Promise<Uint8Array> {
  if (typeof data === "string") return encoder.encode(data);
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (typeof Blob !== "undefined" && data instanceof Blob) return new Uint8Array(await data.arrayBuffer());
  throw new kit.InterfaceError("Blob data must be a Uint8Array, ArrayBuffer, Blob or string");
}

/** The SHA-1 hex digest of some bytes (`crypto.subtle`; browsers need a secure context). */
export async function sha1Hex(kit: Kit, bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined) {
    throw new kit.InterfaceError("crypto.subtle is not available (browsers only offer it in secure contexts: https:// or localhost): pass the digest to put()");
  }
  return toHex(await subtle.digest("SHA-1", bytes as BufferSource));
}

/** What a BLOB table uses of its Connection (which implements it). */
export interface BlobConnection {
  readonly closed: boolean;
  /** Every configured server, without credentials. */
  readonly servers: readonly string[];
  /** The connection's request loop. */
  readonly requests: { send(spec: RequestSpec): Promise<Answer> };
  /** Its per-attempt timeout (loading the blob layer holds it too). */
  readonly options: { readonly timeout: number | undefined };
}

/** A BLOB table's name and its connection: what each operation needs. */
export interface BlobTable {
  readonly name: string;
  readonly connection: BlobConnection;
  readonly kit: Kit;
  /** When the call began, if it waited for this layer to load: the first attempt's deadline holds from then. */
  readonly since: number | undefined;
}

function send(t: BlobTable, method: string, digest: string, body?: Uint8Array, stream = false): Promise<Answer> {
  if (t.connection.closed) throw new t.kit.ProgrammingError("Connection closed");
  if (typeof digest !== "string" || !DIGEST.test(digest)) throw new t.kit.InterfaceError(`Invalid blob digest '${String(digest)}': 40 lower-case hex characters expected`);
  const spec: RequestSpec = {
    method, path: `/_blobs/${encodeURIComponent(t.name)}/${digest}`, headers: {},
    retrySafe: method === "GET" || method === "HEAD", schema: false,
  };
  if (body !== undefined) spec.body = body;
  if (stream) spec.stream = true;
  if (t.since !== undefined) spec.since = t.since;
  return t.connection.requests.send(spec);
}

function fail(t: BlobTable, answer: Answer): never {
  throw t.kit.errorFromResponse(answer.status, answer.statusText, answer.redact(decoder.decode(answer.body)), answer.server);
}

/** See `BlobContainer.put`. */
export async function put(t: BlobTable, data: Uint8Array | ArrayBuffer | Blob | string, digest?: string): Promise<string | boolean> {
  const bytes = await toBytes(t.kit, data);
  const d = digest ?? (await sha1Hex(t.kit, bytes));
  const answer = await send(t, "PUT", d, bytes);
  let created: boolean;
  if (answer.status === 201) created = true;
  else if (answer.status === 409) created = false;
  else if (answer.status === 400 || answer.status === 404) throw new t.kit.BlobLocationNotFoundError(t.name, d, { status: answer.status, server: answer.server });
  else if (answer.status >= 400) fail(t, answer);
  else created = false;
  return digest === undefined ? d : created;
}

/** See `BlobContainer.get`. */
export async function get(t: BlobTable, digest: string): Promise<Uint8Array> {
  const answer = await send(t, "GET", digest);
  if (answer.status === 404) throw new t.kit.DigestNotFoundError(t.name, digest, { status: 404, server: answer.server });
  if (answer.status >= 400) fail(t, answer);
  return answer.body;
}

/** See `BlobContainer.stream`. */
export async function stream(t: BlobTable, digest: string): Promise<ReadableStream<Uint8Array>> {
  const answer = await send(t, "GET", digest, undefined, true);
  const body = answer.stream;
  if (answer.status === 200 && body !== undefined) return typedStream(t.kit, body, answer, t.name, digest);
  const text = body === undefined ? answer.body : new Uint8Array(await new Response(body).arrayBuffer());
  if (answer.status === 404) throw new t.kit.DigestNotFoundError(t.name, digest, { status: 404, server: answer.server });
  if (answer.status >= 400) fail(t, { ...answer, body: text });
  return new Blob([text as BlobPart]).stream();
}

/** A HEAD or DELETE: true on `found`, false on 404 (or another status below 400), the mapped error from 400 up. */
async function present(t: BlobTable, method: "HEAD" | "DELETE", digest: string, found: number): Promise<boolean> {
  const answer = await send(t, method, digest);
  if (answer.status === found) return true;
  if (answer.status === 404) return false;
  if (answer.status >= 400) fail(t, answer);
  return false;
}

/** See `BlobContainer.exists`. */
export function exists(t: BlobTable, digest: string): Promise<boolean> {
  return present(t, "HEAD", digest, 200);
}

/** See `BlobContainer.delete`. */
export function remove(t: BlobTable, digest: string): Promise<boolean> {
  return present(t, "DELETE", digest, 204);
}

/**
 * The body as the caller sees it: a download that breaks off (or ends short of its Content-Length) errors the
 * stream with a `ConnectionError` on every runtime, instead of each platform's own error ("terminated",
 * "network error", ECONNRESET…). No read-ahead of its own: the transport's stream already has one.
 */
function typedStream(kit: Kit, body: ReadableStream<Uint8Array>, answer: Answer, table: string, digest: string): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const length = answer.header("content-length");
  const encoded = (answer.header("content-encoding") ?? "identity") !== "identity"; // Content-Length counts encoded bytes
  const expected = encoded || length === null || !/^\d+$/.test(length) ? undefined : Number(length);
  let received = 0;
  const brokenOff = (why: string, cause?: unknown): Error =>
    new kit.ConnectionError(
      `Blob download of ${table}/${digest} from ${answer.server} broke off after ${received}${expected === undefined ? "" : ` of ${expected}`} bytes: ${answer.redact(why)}`,
      { server: answer.server, ...(cause === undefined ? {} : { cause }) },
    );
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        controller.error(brokenOff(err instanceof Error ? err.message : String(err), err));
        return;
      }
      if (!chunk.done) {
        received += chunk.value.byteLength;
        controller.enqueue(chunk.value);
      } else if (expected !== undefined && received !== expected) {
        controller.error(brokenOff("the connection closed early"));
      } else {
        controller.close();
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}
