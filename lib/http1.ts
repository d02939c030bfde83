/**
 * HTTP/1.1 over one socket, for sessions: CrateDB keeps a SQL session per HTTP connection, so a
 * session's requests must all travel on one socket. Runtimes hand in a `ByteSocket` opener (node:net
 * and node:tls on Node, Bun and Deno; `cloudflare:sockets` on Workers); this file needs no runtime API.
 *
 * The socket is opened by the first request and never replaced: once it has carried a request, a
 * broken or closed socket fails every later request with code `ESESSIONLOST`. Until then a failed
 * connect leaves the transport unbound, so the request loop may fail over to another node.
 */
import { TransportError, type Transport, type TransportRequest, type TransportResponse } from "./transport.js";

/** A connected byte stream. */
export interface ByteSocket {
  /** Resolves when the bytes are handed to the operating system (or rejects when the socket broke). */
  write(data: Uint8Array): Promise<void>;
  /** The next bytes received; `null` at end of stream. Rejects when the socket broke. */
  read(): Promise<Uint8Array | null>;
  /** Closes (destroys) the socket; idempotent. */
  close(): void;
}

/** Opens a socket to `scheme://host:port`; rejects with a TransportError (`sent: false`) on failure. */
export type SocketOpener = (url: URL) => Promise<ByteSocket>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const CRLFCRLF = [13, 10, 13, 10];
const MAX_HEAD = 64 * 1024;

function indexOfSeq(buf: Uint8Array, seq: number[], from: number): number {
  const first = seq[0] as number;
  for (let i = buf.indexOf(first, from); i !== -1 && i <= buf.length - seq.length; i = buf.indexOf(first, i + 1)) {
    let j = 1;
    while (j < seq.length && buf[i + j] === seq[j]) j++;
    if (j === seq.length) return i;
  }
  return -1;
}

function join(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Reads from a socket with a carry-over buffer. */
class Reader {
  private buf: Uint8Array = new Uint8Array(0);
  constructor(private readonly socket: ByteSocket) {}

  private async more(): Promise<void> {
    const chunk = await this.socket.read();
    if (chunk === null) throw new TransportError("connection closed by the server", true, "ECONNRESET");
    this.buf = concat(this.buf, chunk);
  }

  /** Bytes up to and including the first occurrence of `seq`. */
  async until(seq: number[], limit: number): Promise<Uint8Array> {
    let from = 0;
    for (;;) {
      const at = indexOfSeq(this.buf, seq, from);
      if (at !== -1) return this.take(at + seq.length);
      if (this.buf.length > limit) throw new TransportError("response head too large", true, "EPROTO");
      from = Math.max(0, this.buf.length - seq.length + 1);
      await this.more();
    }
  }

  async exactly(n: number): Promise<Uint8Array> {
    if (this.buf.length >= n) return this.take(n);
    const out = new Uint8Array(n);
    let filled = this.buf.length;
    out.set(this.buf, 0);
    this.buf = new Uint8Array(0);
    while (filled < n) {
      const chunk = await this.socket.read();
      if (chunk === null) throw new TransportError("response body incomplete: connection closed", true, "ECONNRESET");
      const use = Math.min(chunk.length, n - filled);
      out.set(use === chunk.length ? chunk : chunk.subarray(0, use), filled);
      filled += use;
      if (use < chunk.length) this.buf = chunk.subarray(use);
    }
    return out;
  }

  /** Everything until the peer closes (a body without length). */
  async rest(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [this.buf];
    this.buf = new Uint8Array(0);
    for (let chunk = await this.socket.read(); chunk !== null; chunk = await this.socket.read()) parts.push(chunk);
    return join(parts);
  }

  private take(n: number): Uint8Array {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

interface Head {
  status: number;
  statusText: string;
  headers: Map<string, string>;
}

function parseHead(bytes: Uint8Array): Head {
  const lines = decoder.decode(bytes).split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (m === null) throw new TransportError(`not an HTTP/1.1 response: ${JSON.stringify((lines[0] ?? "").slice(0, 40))}`, true, "EPROTO");
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const had = headers.get(name);
    headers.set(name, had === undefined ? value : `${had}, ${value}`);
  }
  return { status: Number(m[1]), statusText: m[2] ?? "", headers };
}

async function readChunked(reader: Reader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const line = decoder.decode(await reader.until([13, 10], 1024)).trim();
    const size = parseInt(line.split(";")[0] ?? "", 16);
    if (!Number.isFinite(size) || size < 0) throw new TransportError("bad chunk size in response", true, "EPROTO");
    if (size === 0) {
      // Trailers end with an empty line.
      while ((await reader.until([13, 10], MAX_HEAD)).length > 2);
      return parts.length === 0 ? new Uint8Array(0) : join(parts);
    }
    parts.push(await reader.exactly(size));
    await reader.exactly(2);
  }
}

async function decode(body: Uint8Array, encoding: string | undefined): Promise<Uint8Array> {
  const enc = encoding?.trim().toLowerCase();
  if (enc === undefined || enc === "" || enc === "identity") return body;
  if (enc !== "gzip" && enc !== "deflate") throw new TransportError(`unsupported content-encoding '${enc}'`, true, "EDECODE");
  const stream = new Blob([body as BlobPart]).stream().pipeThrough(new DecompressionStream(enc));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A Transport whose requests all use one socket, one at a time. */
export class PinnedTransport implements Transport {
  private socket: ByteSocket | undefined;
  private reader: Reader | undefined;
  private origin: string | undefined;
  /** Set once the socket carried a request: from then on the transport cannot move elsewhere. */
  private bound = false;
  private lost: string | undefined;
  private closed = false;
  /** The request on the socket now: the next one waits for it (HTTP/1.1, no pipelining in CrateDB). */
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly open: SocketOpener) {}

  request(req: TransportRequest): Promise<TransportResponse> {
    const turn = this.tail.then(() => this.exchange(req));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async exchange(req: TransportRequest): Promise<TransportResponse> {
    if (this.closed) throw new TransportError("session closed", false, "ESESSIONCLOSED");
    if (this.lost !== undefined) throw new TransportError(this.lost, false, "ESESSIONLOST");
    // Timed out or aborted while waiting for its turn: nothing was sent, the session stays usable.
    if (req.signal?.aborted) throw new TransportError("gave up before it was sent", false, "ABORT_ERR", req.signal.reason);
    const url = new URL(req.url);
    if (this.origin !== undefined && url.origin !== this.origin) {
      throw new TransportError(`a session stays on ${this.origin}`, false, "ESESSIONPINNED");
    }
    let sent = false;
    const onAbort = (): void => this.lose("request aborted");
    req.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (this.socket === undefined) {
        this.socket = await this.open(url);
        this.reader = new Reader(this.socket);
        this.origin = url.origin;
        if (req.signal?.aborted) throw req.signal.reason;
      }
      const socket = this.socket;
      const body = typeof req.body === "string" ? encoder.encode(req.body) : req.body;
      let head = `${req.method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
      for (const [name, value] of Object.entries(req.headers)) head += `${name}: ${value}\r\n`;
      head += `content-length: ${body?.byteLength ?? 0}\r\n\r\n`;
      sent = true;
      this.bound = true;
      await socket.write(body === undefined || body.byteLength === 0 ? encoder.encode(head) : concat(encoder.encode(head), body));
      const res = await this.response(req.method);
      if (res.headers.get("connection")?.toLowerCase() === "close") this.lose("the server closed the connection");
      return {
        status: res.status, statusText: res.statusText, body: res.body,
        header: (name) => res.headers.get(name.toLowerCase()) ?? null,
      };
    } catch (err) {
      if (req.signal?.aborted) {
        this.lose("request aborted");
        throw req.signal.reason;
      }
      const te = err instanceof TransportError ? err : new TransportError(err instanceof Error ? err.message : String(err), sent, (err as { code?: string }).code, err);
      if (this.bound) this.lose(te.message);
      else this.reset();
      throw sent === te.sent ? te : new TransportError(te.message, sent && te.sent, te.code, te.cause);
    } finally {
      req.signal?.removeEventListener("abort", onAbort);
    }
  }

  private async response(method: string): Promise<Head & { body: Uint8Array }> {
    const reader = this.reader as Reader;
    for (;;) {
      const head = parseHead(await reader.until(CRLFCRLF, MAX_HEAD));
      if (head.status >= 100 && head.status < 200) continue; // 100 Continue and friends
      const length = head.headers.get("content-length");
      const chunked = head.headers.get("transfer-encoding")?.toLowerCase().includes("chunked") === true;
      let body: Uint8Array;
      if (method === "HEAD" || head.status === 204 || head.status === 304) body = new Uint8Array(0);
      else if (chunked) body = await readChunked(reader);
      else if (length !== undefined) body = await reader.exactly(Number(length));
      else {
        body = await reader.rest();
        this.lose("the server closed the connection");
      }
      return { ...head, body: await decode(body, head.headers.get("content-encoding")) };
    }
  }

  /** The socket is gone after carrying requests: the session with it. */
  private lose(why: string): void {
    this.lost ??= `connection lost earlier: ${why}`;
    this.socket?.close();
  }

  /** A connect that failed before any request: try again, maybe elsewhere. */
  private reset(): void {
    this.socket?.close();
    this.socket = undefined;
    this.reader = undefined;
    this.origin = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.socket?.close();
  }
}
