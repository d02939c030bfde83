/**
 * HTTP/1.1 over one socket, for sessions: CrateDB keeps a SQL session per HTTP connection, so a
 * session's requests must all travel on one socket. Runtimes hand in a `ByteSocket` opener (node:net
 * and node:tls on Node, Bun and Deno; `cloudflare:sockets` on Workers); this file needs no runtime API.
 * The response framing (RFC 9112, strict) is in `http1-parse.ts`.
 *
 * The socket is opened by the first request and never replaced: once it has carried a request, a
 * broken or closed socket fails every later request with code `ESESSIONLOST`. Until then a failed
 * connect leaves the transport unbound, so the request loop may fail over to another node.
 *
 * Every request settles promptly when its `signal` aborts, and says in its error how far it got
 * (the request loop decides on failover or statement timeout from `sent` and `code`):
 * - `EQUEUED` (sent: false): still waiting for its turn behind another request; the session stays usable;
 * - `ECONNECT` (sent: false): the socket was being opened (TCP connect or TLS handshake); the transport stays unbound;
 * - `EABORTED` (sent: true): bytes were written; the socket is destroyed and the session lost.
 */
import { readResponse, Reader, type ByteSocket } from "./http1-parse.js";
import { TransportError, type Transport, type TransportRequest, type TransportResponse } from "./transport.js";

/**
 * Opens a socket to `scheme://host:port`; rejects with a TransportError (`sent: false`) on failure.
 * When `signal` aborts before the socket is open, the opener destroys the half-open socket and rejects.
 */
export type SocketOpener = (url: URL, signal?: AbortSignal) => Promise<ByteSocket>;

const encoder = /* @__PURE__ */ new TextEncoder();
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What a header value may hold on the wire: HTAB, SP, VCHAR, obs-text; never CR, LF, NUL or a char above U+00FF.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
// Set by this client from the request itself, never taken from the caller's headers.
const OWN_HEADERS = new Set(["host", "content-length", "transfer-encoding"]);

function badHeader(message: string): TransportError {
  return new TransportError(message, false, "EHEADER");
}

/**
 * The request head and body as bytes. Header values are ByteStrings, one byte per character (what
 * fetch and node:http put on the wire, and how CrateDB reads them: ISO-8859-1), never UTF-8. A value
 * that cannot be written so is refused before anything is written; its text is not quoted (it may be a secret).
 */
export function requestBytes(method: string, url: URL, headers: Record<string, string>, body: Uint8Array | undefined): Uint8Array {
  if (!TOKEN.test(method)) throw badHeader(`invalid request method ${JSON.stringify(method.slice(0, 20))}`);
  let head = `${method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const name in headers) {
    const value = headers[name] as string;
    if (!TOKEN.test(name)) throw badHeader(`header name ${JSON.stringify(name.slice(0, 40))} is not an HTTP token`);
    if (BAD_VALUE.test(value)) {
      throw badHeader(`the value of header '${name}' cannot be sent: only Latin-1 characters without control characters are possible`);
    }
    if (!OWN_HEADERS.has(name.toLowerCase())) head += `${name}: ${value}\r\n`;
  }
  head += `content-length: ${body?.byteLength ?? 0}\r\n\r\n`;
  const out = new Uint8Array(head.length + (body?.byteLength ?? 0));
  for (let i = 0; i < head.length; i++) out[i] = head.charCodeAt(i);
  if (body !== undefined) out.set(body, head.length);
  return out;
}

async function decode(body: Uint8Array, encoding: string | undefined): Promise<Uint8Array> {
  const enc = encoding?.trim().toLowerCase();
  if (enc === undefined || enc === "" || enc === "identity" || body.length === 0) return body;
  if (enc !== "gzip" && enc !== "deflate") throw new TransportError(`unsupported content-encoding '${enc}'`, true, "EDECODE");
  const stream = new Blob([body as BlobPart]).stream().pipeThrough(new DecompressionStream(enc));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Settles with `work`, or rejects with `onAbort()`'s error as soon as `signal` aborts. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal | undefined, onAbort: () => TransportError): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    signal.addEventListener("abort", abort, { once: true });
    work.then(
      (v) => (signal.removeEventListener("abort", abort), resolve(v)),
      (e: unknown) => (signal.removeEventListener("abort", abort), reject(e)),
    );
  });
}

/** A Transport whose requests all use one socket, one at a time (HTTP/1.1, no pipelining in CrateDB). */
export class PinnedTransport implements Transport {
  private socket: ByteSocket | undefined;
  private reader: Reader | undefined;
  private origin: string | undefined;
  private lost: string | undefined;
  private closed = false;
  /** A request holds the socket; the others wait in `queue`, in order. */
  private busy = false;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly open: SocketOpener) {}

  async request(req: TransportRequest): Promise<TransportResponse> {
    await this.turn(req.signal);
    try {
      return await this.exchange(req);
    } finally {
      const next = this.queue.shift();
      if (next !== undefined) next();
      else this.busy = false;
    }
  }

  /** Waits for the socket; gives up at once (nothing sent, session intact) when the signal aborts. */
  private turn(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(new TransportError("gave up before its turn on the session", false, "EQUEUED", signal.reason));
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const go = (): void => {
        signal?.removeEventListener("abort", abort);
        resolve();
      };
      const abort = (): void => {
        const at = this.queue.indexOf(go);
        if (at !== -1) this.queue.splice(at, 1);
        reject(new TransportError("gave up while queued behind another request of the session", false, "EQUEUED", (signal as AbortSignal).reason));
      };
      signal?.addEventListener("abort", abort, { once: true });
      this.queue.push(go);
    });
  }

  private async exchange(req: TransportRequest): Promise<TransportResponse> {
    if (this.closed) throw new TransportError("session closed", false, "ESESSIONCLOSED");
    if (this.lost !== undefined) throw new TransportError(this.lost, false, "ESESSIONLOST");
    const signal = req.signal;
    if (signal?.aborted) throw new TransportError("gave up before its turn on the session", false, "EQUEUED", signal.reason);
    const url = new URL(req.url);
    if (this.origin !== undefined && url.origin !== this.origin) {
      throw new TransportError(`a session stays on ${this.origin}`, false, "ESESSIONPINNED");
    }
    const bytes = requestBytes(req.method, url, req.headers, typeof req.body === "string" ? encoder.encode(req.body) : req.body);
    if (this.socket === undefined) {
      await this.connect(url, signal);
      if (signal?.aborted) {
        this.unbind();
        throw new TransportError(`gave up while connecting to ${url.host}`, false, "ECONNECT", signal.reason);
      }
    }
    // From the first byte written, the transport is bound to this socket for good.
    this.origin = url.origin;
    const exchange = this.roundTrip(this.socket as ByteSocket, this.reader as Reader, bytes, req.method);
    exchange.catch(() => undefined); // settled below, or abandoned on abort (the socket is destroyed then)
    return raceAbort(exchange, signal, () => {
      this.lose("request aborted");
      return new TransportError("aborted after the request was sent", true, "EABORTED", (signal as AbortSignal).reason);
    });
  }

  /** Opens the socket; an abort rejects at once and destroys whatever the opener comes back with. */
  private async connect(url: URL, signal: AbortSignal | undefined): Promise<void> {
    const opening = this.open(url, signal);
    let socket: ByteSocket;
    try {
      socket = await raceAbort(opening, signal, () => {
        opening.then((s) => s.close(), () => undefined);
        return new TransportError(`gave up while connecting to ${url.host}`, false, "ECONNECT", (signal as AbortSignal).reason);
      });
    } catch (err) {
      if (err instanceof TransportError && !err.sent) throw err;
      const code = (err as { code?: unknown } | null)?.code;
      throw new TransportError(err instanceof Error ? err.message : String(err), false, typeof code === "string" ? code : undefined, err);
    }
    if (this.closed) {
      socket.close();
      throw new TransportError("session closed", false, "ESESSIONCLOSED");
    }
    this.socket = socket;
    this.reader = new Reader(socket);
  }

  private async roundTrip(socket: ByteSocket, reader: Reader, bytes: Uint8Array, method: string): Promise<TransportResponse> {
    // Read while writing: a server may answer (e.g. 413, then close) before the request is fully written.
    const writing = socket.write(bytes).then(() => undefined, (err: unknown) => err ?? new Error("write failed"));
    try {
      const res = await readResponse(reader, method);
      if (res.closeAfter !== undefined) this.lose(res.closeAfter);
      else if ((await writing) !== undefined) this.lose("the request could not be fully written");
      else if (reader.buffered > 0) this.lose("the server sent bytes after the response");
      else reader.watch((why) => this.lose(why)); // from now on, any byte or a close poisons the socket
      const body = await decode(res.body, res.headers.get("content-encoding"));
      const headers = res.headers;
      return { status: res.status, statusText: res.statusText, body, header: (name) => headers.get(name.toLowerCase()) ?? null };
    } catch (err) {
      const te = this.closed ? new TransportError("session closed while a request was in flight", true, "ESESSIONCLOSED")
        : err instanceof TransportError ? err
        : new TransportError(err instanceof Error ? err.message : String(err), true, (err as { code?: string } | null)?.code, err);
      this.lose(te.message);
      // Bytes went out: whatever the socket says, the request may have reached the server.
      throw te.sent ? te : new TransportError(te.message, true, te.code, te.cause);
    }
  }

  /** The socket is gone after carrying requests: the session with it. */
  private lose(why: string): void {
    this.lost ??= `connection lost earlier: ${why}`;
    this.socket?.close();
  }

  /** Nothing was written: forget the socket so that the next request may open one, maybe elsewhere. */
  private unbind(): void {
    this.socket?.close();
    this.socket = undefined;
    this.reader = undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.socket?.close();
  }
}
