/**
 * The response side of the session HTTP/1.1 client: strict RFC 9112 framing over a `ByteSocket`.
 * Every deviation is a `TransportError` with code `EPROTO` (sent: true): the caller destroys the
 * socket, because a lenient guess at where a body ends is how a response ends up with the wrong
 * request (response smuggling). Nothing here waits for bytes that a valid response would not need.
 */
import { TransportError } from "./transport.js";

/** A connected byte stream. */
export interface ByteSocket {
  /** Resolves when the bytes are handed to the operating system (or rejects when the socket broke). */
  write(data: Uint8Array): Promise<void>;
  /** The next bytes received; `null` at end of stream. Rejects when the socket broke. One read at a time. */
  read(): Promise<Uint8Array | null>;
  /** Closes (destroys) the socket; idempotent. A pending `read()` then resolves `null` or rejects. */
  close(): void;
}

/** Bound on a response head (status line and fields), and on a trailer section. */
export const MAX_HEAD: number = 64 * 1024;
/** Bound on the number of fields in a head or trailer section. */
export const MAX_FIELDS: number = 256;
/** Bound on a body held in memory (a JavaScript string of JSON cannot be much larger anyway). */
export const MAX_BODY: number = 1024 * 1024 * 1024;
/** Bound on a chunk-size line, extensions included. */
const MAX_CHUNK_LINE = 4096;
/** Bound on 1xx interim responses before the final one. */
const MAX_INTERIM = 16;

const EMPTY: Uint8Array = /* @__PURE__ */ new Uint8Array(0);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// field-line = field-name ":" OWS field-value OWS; no whitespace before the colon (§5.1), no obs-fold.
const FIELD = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[\t ]*(.*?)[\t ]*$/;
// Field values and reason phrases: HTAB, SP, VCHAR, obs-text (the head is decoded one byte per char).
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([0-9]{3})(?: (.*))?$/;
const CHUNK_LINE = /^([0-9A-Fa-f]+)(?:[\t ]*;(.*))?$/;

/** A framing violation: the socket cannot be trusted for another byte. */
export function violation(message: string): TransportError {
  return new TransportError(`HTTP/1.1 protocol violation: ${message}`, true, "EPROTO");
}

/** Bytes as a string of one char per byte (ISO-8859-1), as fetch exposes header values. */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]);
  return s;
}

function join(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Reads from a socket with a carry-over buffer. */
export class Reader {
  private buf: Uint8Array = EMPTY;
  // How far `buf` was searched for LF without finding one.
  private scanned = 0;
  // A read started while no request was outstanding (see `watch`); the next request takes it over.
  private pending: Promise<Uint8Array | null> | undefined;

  constructor(private readonly socket: ByteSocket) {}

  /** Bytes received and not yet consumed. */
  get buffered(): number {
    return this.buf.length;
  }

  /**
   * Reads while no request is outstanding: anything it yields (bytes, end of stream, an error) is
   * reported to `idle` unless a request took the read over first (then the request consumes it).
   */
  watch(idle: (what: string) => void): void {
    const p = this.socket.read();
    this.pending = p;
    p.then(
      (chunk) => this.pending === p && idle(chunk === null ? "the server closed the connection" : "the server sent bytes while no request was outstanding"),
      (err: unknown) => this.pending === p && idle(err instanceof Error ? err.message : String(err)),
    );
  }

  /** The next read: the idle watch's if one is under way. */
  private pull(): Promise<Uint8Array | null> {
    const p = this.pending ?? this.socket.read();
    this.pending = undefined;
    return p;
  }

  private async more(what: string): Promise<void> {
    const chunk = await this.pull();
    if (chunk === null) throw new TransportError(`connection closed by the server ${what}`, true, "ECONNRESET");
    if (this.buf.length === 0) this.buf = chunk;
    else {
      const out = new Uint8Array(this.buf.length + chunk.length);
      out.set(this.buf, 0);
      out.set(chunk, this.buf.length);
      this.buf = out;
    }
  }

  private take(n: number): Uint8Array {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.scanned = 0;
    return out;
  }

  /** The next line without its CRLF (or bare LF), decoded one char per byte; fails past `limit` bytes. */
  async line(limit: number, what: string): Promise<string> {
    for (;;) {
      const lf = this.buf.indexOf(10, this.scanned);
      if (lf !== -1) {
        if (lf + 1 > limit) throw violation(`${what} longer than ${limit} bytes`);
        const end = lf > 0 && this.buf[lf - 1] === 13 ? lf - 1 : lf;
        const text = latin1(this.take(lf + 1).subarray(0, end));
        if (text.includes("\r")) throw violation(`bare CR in ${what}`);
        return text;
      }
      if (this.buf.length >= limit) throw violation(`${what} longer than ${limit} bytes`);
      this.scanned = this.buf.length;
      await this.more(`in the ${what}`);
    }
  }

  /** Exactly `n` bytes. */
  async exactly(n: number, what: string): Promise<Uint8Array> {
    if (this.buf.length >= n) return this.take(n);
    const parts: Uint8Array[] = [];
    let have = 0;
    for (;;) {
      if (this.buf.length > 0) {
        const part = this.take(Math.min(this.buf.length, n - have));
        parts.push(part);
        have += part.length;
      }
      if (have === n) return join(parts, n);
      await this.more(`after ${have} of ${n} bytes of the ${what}`);
    }
  }

  /** Everything until the peer closes (a body without length). */
  async rest(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      if (this.buf.length > 0) {
        total += this.buf.length;
        parts.push(this.take(this.buf.length));
      }
      if (total > MAX_BODY) throw violation(`response body larger than ${MAX_BODY} bytes`);
      const chunk = await this.pull();
      if (chunk === null) return parts.length === 0 ? EMPTY : join(parts, total);
      this.buf = chunk;
    }
  }
}

/** A parsed response head. Field names are lower case; repeated fields are joined with ", ". */
export interface Head {
  status: number;
  statusText: string;
  /** HTTP/1.0: the server closes the connection after the response. */
  http10: boolean;
  headers: Map<string, string>;
}

async function fields(reader: Reader, headers: Map<string, string> | undefined, what: string, budget: number): Promise<void> {
  for (let count = 0; ; count++) {
    const line = await reader.line(budget, what);
    budget -= line.length + 1;
    if (line === "") return;
    if (count >= MAX_FIELDS) throw violation(`more than ${MAX_FIELDS} fields in the ${what}`);
    if (line[0] === " " || line[0] === "\t") throw violation(`obs-fold (a line starting with whitespace) in the ${what}`);
    const m = FIELD.exec(line);
    if (m === null) throw violation(`invalid field line in the ${what} (${line.length} characters; not quoted: a server may echo secrets)`);
    const value = m[2] as string;
    if (CONTROL.test(value)) throw violation(`control character in field '${m[1]}' of the ${what}`);
    if (headers === undefined) continue;
    const name = (m[1] as string).toLowerCase();
    const had = headers.get(name);
    headers.set(name, had === undefined ? value : `${had}, ${value}`);
  }
}

/** Reads one response head (status line and fields). */
export async function readHead(reader: Reader): Promise<Head> {
  const status = await reader.line(MAX_HEAD, "status line");
  const m = STATUS_LINE.exec(status);
  if (m === null) throw violation(`not an HTTP/1.1 status line (${status.length} characters${/^HTTP\//.test(status) ? ", starting with HTTP/" : ""}; not quoted)`);
  const statusText = m[3] ?? "";
  if (CONTROL.test(statusText)) throw violation("control character in the reason phrase");
  const code = Number(m[2]);
  if (code < 100) throw violation(`status code ${m[2]}`);
  const headers = new Map<string, string>();
  await fields(reader, headers, "response head", MAX_HEAD - status.length - 1);
  return { status: code, statusText, http10: m[1] === "0", headers };
}

/** The elements of a field value list (`a, b`), empty ones ignored as §5.6.1 asks. */
function elements(value: string): string[] {
  return value.split(",").map((e) => e.replace(/^[\t ]+|[\t ]+$/g, "")).filter((e) => e !== "");
}

/** `Content-Length`: `1*DIGIT`, identical duplicates count once, anything else fails (§6.3 item 5). */
function contentLength(value: string): number {
  let n: number | undefined;
  for (const e of value.split(",").map((v) => v.replace(/^[\t ]+|[\t ]+$/g, ""))) {
    if (!/^[0-9]+$/.test(e)) throw violation(`invalid Content-Length '${value}'`);
    const v = e.replace(/^0+(?=.)/, "").length > 16 ? Infinity : Number(e);
    if (v > MAX_BODY) throw violation(`Content-Length ${e.length > 20 ? `${e.slice(0, 20)}…` : e} beyond the ${MAX_BODY}-byte limit`);
    if (n !== undefined && v !== n) throw violation(`differing Content-Length values '${value}'`);
    n = v;
  }
  return n as number;
}

/** How the body of a response is delimited (§6.3, in its order). */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked"; closeAfter: boolean }
  | { kind: "close" };

export function framing(head: Head, method: string): Framing {
  if (method === "HEAD" || head.status < 200 || head.status === 204 || head.status === 304) return { kind: "none" };
  const te = head.headers.get("transfer-encoding");
  if (te !== undefined) {
    const codings = elements(te).map((c) => c.toLowerCase());
    if (codings.length !== 1 || codings[0] !== "chunked") throw violation(`unsupported Transfer-Encoding '${te}' (only chunked is read)`);
    // With Content-Length too: chunked wins, and the connection is not reused (§6.1, a smuggling sign).
    return { kind: "chunked", closeAfter: head.headers.has("content-length") };
  }
  const cl = head.headers.get("content-length");
  if (cl !== undefined) return { kind: "length", length: contentLength(cl) };
  return { kind: "close" };
}

/** A chunked body (§7.1); trailers are read and discarded. */
export async function readChunked(reader: Reader): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const line = await reader.line(MAX_CHUNK_LINE, "chunk-size line");
    const m = CHUNK_LINE.exec(line);
    if (m === null || (m[2] !== undefined && CONTROL.test(m[2]))) throw violation(`invalid chunk-size line (${line.length} characters; not quoted)`);
    const hex = (m[1] as string).replace(/^0+(?=.)/, "");
    const size = hex.length > 8 ? Infinity : parseInt(hex, 16);
    if (size > MAX_BODY - total) throw violation(`chunked body beyond the ${MAX_BODY}-byte limit`);
    if (size === 0) {
      await fields(reader, undefined, "trailer section", MAX_HEAD);
      return join(parts, total);
    }
    parts.push(await reader.exactly(size, "chunk"));
    total += size;
    // Byte by byte: a wrong first byte fails now instead of waiting for a second one.
    if ((await reader.exactly(1, "chunk"))[0] !== 13 || (await reader.exactly(1, "chunk"))[0] !== 10) {
      throw violation("chunk data not followed by CRLF");
    }
  }
}

/** A complete response as framed on the wire (body not yet content-decoded). */
export interface RawResponse extends Head {
  body: Uint8Array;
  /** The connection cannot carry another request (close-delimited body, `Connection: close`, HTTP/1.0, TE with CL). */
  closeAfter: string | undefined;
}

/** Reads the response to a request made with `method`, skipping 1xx interim responses. */
export async function readResponse(reader: Reader, method: string): Promise<RawResponse> {
  for (let interim = 0; ; interim++) {
    const head = await readHead(reader);
    if (head.status === 101) throw violation("101 Switching Protocols was not asked for");
    if (head.status < 200) {
      if (interim >= MAX_INTERIM) throw violation(`more than ${MAX_INTERIM} interim responses`);
      continue;
    }
    const f = framing(head, method);
    let body: Uint8Array = EMPTY;
    let closeAfter: string | undefined;
    if (f.kind === "length") body = await reader.exactly(f.length, "response body");
    else if (f.kind === "chunked") {
      body = await readChunked(reader);
      if (f.closeAfter) closeAfter = "the response had both Transfer-Encoding and Content-Length";
    } else if (f.kind === "close") {
      body = await reader.rest();
      closeAfter = "the response body ended with the connection";
    }
    const connection = head.headers.get("connection");
    if (closeAfter === undefined && connection !== undefined && elements(connection).some((c) => c.toLowerCase() === "close")) {
      closeAfter = "the server closed the connection (Connection: close)";
    }
    if (closeAfter === undefined && head.http10) closeAfter = "an HTTP/1.0 server closes the connection after each response";
    return { ...head, body, closeAfter };
  }
}
