// RFC 9112 conformance table of the session HTTP/1.1 client (lib/http1.ts + lib/http1-parse.ts).
// Every row is a response to one request, fed through a fake ByteSocket (pure logic at the socket seam, so
// the table runs in every lane, chromium included): whole, split at every byte boundary, one byte at a time,
// and with the next response's bytes appended. A row either yields its response (and the session lives on,
// or is lost when the connection cannot carry another request), or fails with a TransportError that ends
// the session. Never a wrong body, never a hang: a case that does not settle within 1 s fails as a hang.
import { expect } from "chai";
import type { ByteSocket } from "../lib/http1-parse.js";
import { PinnedTransport, requestBytes } from "../lib/http1.js";
import { TransportError, type TransportResponse } from "../lib/transport.js";

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const text = (b: Uint8Array): string => String.fromCharCode(...b);

/** A socket that answers each write with the next scripted response; `end` says what follows the script. */
class FakeSocket implements ByteSocket {
  closed = false;
  readonly written: Uint8Array[] = [];
  private readonly inbox: Uint8Array[] = [];
  private waiter: ((c: Uint8Array | null) => void) | undefined;
  constructor(private readonly answers: Uint8Array[][], private readonly end: "eof" | "hang", private readonly holdWrite = false) {}

  push(chunk: Uint8Array): void {
    const w = this.waiter;
    this.waiter = undefined;
    if (w !== undefined) w(chunk);
    else this.inbox.push(chunk);
  }

  write(data: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new TransportError("closed", true, "ECONNRESET"));
    this.written.push(data);
    for (const chunk of this.answers.shift() ?? []) this.push(chunk);
    return this.holdWrite ? new Promise(() => undefined) : Promise.resolve();
  }

  read(): Promise<Uint8Array | null> {
    if (this.closed) return Promise.resolve(null);
    const next = this.inbox.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.end === "eof") return Promise.resolve(null);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  close(): void {
    this.closed = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.(null);
  }
}

type Outcome = { ok: TransportResponse } | { err: unknown } | { hang: true };

async function within(p: Promise<TransportResponse>, ms = 1000): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve({ hang: true }), ms)));
  try {
    return await Promise.race([p.then((ok) => ({ ok }), (err: unknown) => ({ err })), hang]);
  } finally {
    clearTimeout(timer);
  }
}

const SECOND = "HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecond";
const NEXT = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nnext!";
const req = (method = "POST") => ({ url: "http://db:4200/_sql", method, headers: { "content-type": "application/json" }, body: "{}", idempotent: true });

interface Row {
  rule: string;
  response: string;
  method?: string;
  /** What follows the response on the socket. @default "hang" (a valid response must not need more) */
  end?: "eof" | "hang";
  /** A valid response: status and body; `lost` when the connection cannot carry another request. */
  ok?: { status: number; body: string; lost?: boolean; headers?: Record<string, string> };
  /** An invalid one: the error code (EPROTO by default) and a message pattern. */
  fails?: RegExp;
  code?: string;
  /** The body runs until the connection closes: appended bytes are body. */
  closeDelimited?: boolean;
  /** Appending bytes would change the meaning (a truncated body would be completed): no append variant. */
  noAppend?: boolean;
  /** Large rows: split at these offsets only, instead of every byte. */
  sampleSplits?: boolean;
}

const H = "HTTP/1.1 200 OK\r\n";
const CHUNKED = `${H}transfer-encoding: chunked\r\n\r\n`;
const cl = (v: string): string => `${H}content-length: ${v}\r\n\r\nhello`;

const ROWS: Row[] = [
  // §4, §5: status line and fields
  { rule: "Content-Length body", response: cl("5"), ok: { status: 200, body: "hello" } },
  { rule: "Content-Length 0", response: `${H}content-length: 0\r\n\r\n`, ok: { status: 200, body: "" } },
  { rule: "status line without reason phrase", response: "HTTP/1.1 201\r\ncontent-length: 2\r\n\r\nok", ok: { status: 201, body: "ok" } },
  { rule: "status line with an empty reason phrase", response: "HTTP/1.1 202 \r\ncontent-length: 2\r\n\r\nok", ok: { status: 202, body: "ok" } },
  { rule: "LF-only head", response: "HTTP/1.1 200 OK\ncontent-length: 5\n\nhello", ok: { status: 200, body: "hello" } },
  { rule: "mixed CRLF and LF line ends", response: "HTTP/1.1 200 OK\r\ncontent-length: 5\n\r\nhello", ok: { status: 200, body: "hello" } },
  { rule: "OWS around a field value, no space after the colon", response: `${H}content-length:5   \r\nx-a:\t b \r\n\r\nhello`, ok: { status: 200, body: "hello", headers: { "x-a": "b" } } },
  { rule: "obs-text in the reason phrase and a field value (one char per byte)", response: "HTTP/1.1 200 \xe9t\xe9\r\nx-schema: caf\xe9\r\ncontent-length: 2\r\n\r\nok", ok: { status: 200, body: "ok", headers: { "x-schema": "caf\u00e9" } } },
  { rule: "repeated fields are joined", response: `${H}x-a: 1\r\nx-a: 2\r\ncontent-length: 2\r\n\r\nok`, ok: { status: 200, body: "ok", headers: { "x-a": "1, 2" } } },
  { rule: "status line not HTTP/1.x", response: "HTTP/2 200 OK\r\ncontent-length: 5\r\n\r\nhello", fails: /status line/ },
  { rule: "status line lower-case", response: "http/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", fails: /status line/ },
  { rule: "status code of two digits", response: "HTTP/1.1 20 OK\r\ncontent-length: 5\r\n\r\nhello", fails: /status line/ },
  { rule: "two spaces before the status code", response: "HTTP/1.1  200 OK\r\ncontent-length: 5\r\n\r\nhello", fails: /status line/ },
  { rule: "no space between status code and reason", response: "HTTP/1.1 200OK\r\ncontent-length: 5\r\n\r\nhello", fails: /status line/ },
  { rule: "not HTTP at all", response: "ICY 200 OK\r\n\r\nhello", fails: /status line/ },
  { rule: "empty line before the status line", response: `\r\n${cl("5")}`, fails: /status line/ },
  { rule: "whitespace between field name and colon", response: `${H}content-length : 5\r\n\r\nhello`, fails: /invalid field line/ },
  { rule: "field line without a colon", response: `${H}content-length 5\r\n\r\nhello`, fails: /invalid field line/ },
  { rule: "obs-fold", response: `${H}x-a: 1\r\n 2\r\ncontent-length: 5\r\n\r\nhello`, fails: /obs-fold/ },
  { rule: "bare CR inside a field line", response: `${H}x-a: 1\rcontent-length: 9\r\ncontent-length: 5\r\n\r\nhello`, fails: /bare CR/ },
  { rule: "NUL in a field value", response: `${H}x-a: 1\x002\r\ncontent-length: 5\r\n\r\nhello`, fails: /control character/ },
  { rule: "control character in the reason phrase", response: "HTTP/1.1 200 O\x01K\r\ncontent-length: 5\r\n\r\nhello", fails: /reason phrase/ },
  { rule: "head larger than 64 KiB", response: `${H}x-big: ${"a".repeat(70_000)}\r\ncontent-length: 5\r\n\r\nhello`, fails: /longer than/, sampleSplits: true },
  { rule: "a head line that never ends (no LF in 64 KiB)", response: `${H}x-big: ${"a".repeat(70_000)}`, fails: /longer than/, sampleSplits: true, noAppend: true },
  { rule: "more than 256 fields", response: `${H}${"x-a: 1\r\n".repeat(300)}content-length: 5\r\n\r\nhello`, fails: /more than 256 fields/, sampleSplits: true },
  // §6.3: which body
  { rule: "Content-Length list of identical values", response: cl("5, 5"), ok: { status: 200, body: "hello" } },
  { rule: "Content-Length repeated with identical values", response: `${H}content-length: 5\r\ncontent-length: 5\r\n\r\nhello`, ok: { status: 200, body: "hello" } },
  { rule: "Content-Length with leading zeros", response: cl("005"), ok: { status: 200, body: "hello" } },
  { rule: "Content-Length negative", response: cl("-5"), fails: /invalid Content-Length/ },
  { rule: "Content-Length fractional", response: cl("5.0"), fails: /invalid Content-Length/ },
  { rule: "Content-Length empty", response: cl(""), fails: /invalid Content-Length/ },
  { rule: "Content-Length with a sign", response: cl("+5"), fails: /invalid Content-Length/ },
  { rule: "Content-Length in hex", response: cl("0x5"), fails: /invalid Content-Length/ },
  { rule: "Content-Length with an exponent", response: cl("5e0"), fails: /invalid Content-Length/ },
  { rule: "Content-Length with inner space", response: cl("5 5"), fails: /invalid Content-Length/ },
  { rule: "Content-Length list with an empty element", response: cl("5,,5"), fails: /invalid Content-Length/ },
  { rule: "Content-Length differing values in a list", response: cl("5, 6"), fails: /differing Content-Length/ },
  { rule: "Content-Length differing repeated fields", response: `${H}content-length: 5\r\ncontent-length: 4\r\n\r\nhello`, fails: /differing Content-Length/ },
  { rule: "Content-Length beyond MAX_SAFE_INTEGER", response: cl("99999999999999999999999"), fails: /beyond the/ },
  { rule: "Content-Length beyond the body limit", response: cl("4294967296"), fails: /beyond the/ },
  { rule: "fewer body bytes than Content-Length, then close", response: `${H}content-length: 9\r\n\r\nhello`, end: "eof", fails: /closed by the server after 5 of 9 bytes/, code: "ECONNRESET", noAppend: true },
  { rule: "close before the head is complete", response: `${H}content-length: 5\r\n`, end: "eof", fails: /closed by the server/, code: "ECONNRESET", noAppend: true },
  { rule: "no Content-Length, no Transfer-Encoding: the body runs to the close", response: `${H}x-a: 1\r\n\r\nhello world`, end: "eof", ok: { status: 200, body: "hello world", lost: true }, closeDelimited: true },
  { rule: "close-delimited empty body", response: `${H}\r\n`, end: "eof", ok: { status: 200, body: "", lost: true }, closeDelimited: true },
  { rule: "HEAD: no body whatever Content-Length says", method: "HEAD", response: `${H}content-length: 5\r\n\r\n`, ok: { status: 200, body: "" } },
  { rule: "204: no body whatever Content-Length says", response: "HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n", ok: { status: 204, body: "" } },
  { rule: "304: no body", response: "HTTP/1.1 304 Not Modified\r\ntransfer-encoding: chunked\r\n\r\n", ok: { status: 304, body: "" } },
  { rule: "1xx interim responses are skipped", response: `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </x>\r\n\r\n${cl("5")}`, ok: { status: 200, body: "hello" } },
  { rule: "101 Switching Protocols fails", response: "HTTP/1.1 101 Switching Protocols\r\nupgrade: h2c\r\n\r\n", fails: /101/ },
  // §6.1, §7.1: Transfer-Encoding and chunked
  { rule: "chunked", response: `${CHUNKED}5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n`, ok: { status: 200, body: "hello world" } },
  { rule: "chunked, upper-case hex and leading zeros", response: `${CHUNKED}00A\r\n0123456789\r\n0000\r\n\r\n`, ok: { status: 200, body: "0123456789" } },
  { rule: "chunked, Transfer-Encoding in another case", response: `${H}Transfer-Encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`, ok: { status: 200, body: "ok" } },
  { rule: "chunk extensions are ignored", response: `${CHUNKED}5;name=value\r\nhello\r\n1 ; x="y"\r\n!\r\n0;last\r\n\r\n`, ok: { status: 200, body: "hello!" } },
  { rule: "trailers are read and discarded", response: `${CHUNKED}2\r\nok\r\n0\r\nx-trailer: 1\r\nx-other: 2\r\n\r\n`, ok: { status: 200, body: "ok", headers: { "x-trailer": "" } } },
  { rule: "chunk-size lines ending in bare LF", response: `${CHUNKED}2\nok\r\n0\n\n`, ok: { status: 200, body: "ok" } },
  { rule: "chunked and Content-Length: chunked wins, then the connection closes", response: `${H}content-length: 100\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`, ok: { status: 200, body: "ok", lost: true } },
  { rule: "chunk size with trailing junk (2zz)", response: `${CHUNKED}2zz\r\nok\r\n0\r\n\r\n`, fails: /chunk-size/ },
  { rule: "chunk size 0x2", response: `${CHUNKED}0x2\r\nok\r\n0\r\n\r\n`, fails: /chunk-size/ },
  { rule: "chunk size with a leading space", response: `${CHUNKED} 2\r\nok\r\n0\r\n\r\n`, fails: /chunk-size/ },
  { rule: "chunk size with a trailing space and no extension", response: `${CHUNKED}2 \r\nok\r\n0\r\n\r\n`, fails: /chunk-size/ },
  { rule: "chunk size negative", response: `${CHUNKED}-2\r\nok\r\n0\r\n\r\n`, fails: /chunk-size/ },
  { rule: "chunk size empty", response: `${CHUNKED}\r\nok\r\n0\r\n\r\n`, fails: /chunk-size/ },
  { rule: "chunk size beyond the limit", response: `${CHUNKED}fffffffff\r\nok\r\n0\r\n\r\n`, fails: /beyond the/ },
  { rule: "control character in a chunk extension", response: `${CHUNKED}2;a\x01\r\nok\r\n0\r\n\r\n`, fails: /chunk-size/ },
  { rule: "chunk data not followed by CRLF", response: `${CHUNKED}2\r\nokX\r\n0\r\n\r\n`, fails: /not followed by CRLF/ },
  { rule: "chunk data followed by the next size line at once", response: `${CHUNKED}2\r\nok0\r\n\r\n`, fails: /not followed by CRLF/ },
  { rule: "chunk data followed by CR and no LF", response: `${CHUNKED}2\r\nok\r0\r\n\r\n`, fails: /not followed by CRLF/ },
  { rule: "chunked body cut by the close", response: `${CHUNKED}5\r\nhel`, end: "eof", fails: /closed by the server/, code: "ECONNRESET", noAppend: true },
  { rule: "invalid trailer field", response: `${CHUNKED}2\r\nok\r\n0\r\nnot a field\r\n\r\n`, fails: /invalid field line in the trailer/ },
  { rule: "Transfer-Encoding not chunked", response: `${H}transfer-encoding: notchunked\r\n\r\nhello`, fails: /Transfer-Encoding/ },
  { rule: "Transfer-Encoding gzip, chunked", response: `${H}transfer-encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`, fails: /Transfer-Encoding/ },
  { rule: "Transfer-Encoding chunked, gzip", response: `${H}transfer-encoding: chunked, gzip\r\n\r\n2\r\nok\r\n0\r\n\r\n`, fails: /Transfer-Encoding/ },
  { rule: "Transfer-Encoding chunked twice", response: `${H}transfer-encoding: chunked\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n`, fails: /Transfer-Encoding/ },
  { rule: "Transfer-Encoding empty", response: `${H}transfer-encoding: \r\n\r\nhello`, fails: /Transfer-Encoding/ },
  // §9: the connection after a response
  { rule: "Connection: close ends the session after the response", response: `${H}connection: close\r\ncontent-length: 2\r\n\r\nok`, ok: { status: 200, body: "ok", lost: true } },
  { rule: "Connection: keep-alive, close", response: `${H}connection: keep-alive, Close\r\ncontent-length: 2\r\n\r\nok`, ok: { status: 200, body: "ok", lost: true } },
  { rule: "HTTP/1.0 response: the server closes after it", response: "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", ok: { status: 200, body: "ok", lost: true } },
  { rule: "bytes after a complete response poison the socket", response: `${cl("5")}junk`, ok: { status: 200, body: "hello", lost: true } },
];

type Feed = { name: string; chunks: Uint8Array[] };

function feeds(row: Row, wire: Uint8Array): Feed[] {
  const out: Feed[] = [{ name: "whole", chunks: [wire] }];
  const cuts = row.sampleSplits ? [1, 2, 17, 18, 19, 20, 100, 1000, 65_530, 65_536, 65_540, wire.length - 3, wire.length - 1] : [...Array(wire.length).keys()].slice(1);
  for (const k of cuts) if (k > 0 && k < wire.length) out.push({ name: `split at ${k}`, chunks: [wire.subarray(0, k), wire.subarray(k)] });
  if (!row.sampleSplits) out.push({ name: "one byte at a time", chunks: [...wire].map((b) => Uint8Array.of(b)) });
  return out;
}

/** Runs one request whose response is `chunks`, then a second request; checks both against the row. */
async function check(row: Row, feed: Feed, appended: boolean): Promise<void> {
  const what = `${row.rule} (${feed.name}${appended ? ", next response appended" : ""})`;
  const socket = new FakeSocket([feed.chunks, [bytes(SECOND)]], row.end ?? "hang");
  const t = new PinnedTransport(async () => socket);
  const first = await within(t.request(req(row.method)));
  expect("hang" in first, `${what}: hangs`).to.equal(false);
  if (row.ok !== undefined) {
    if ("err" in first) throw new Error(`${what}: failed with ${String(first.err)}`);
    const res = (first as { ok: TransportResponse }).ok;
    expect(res.status, what).to.equal(row.ok.status);
    expect(text(res.body), what).to.equal(row.ok.body + (appended && row.closeDelimited ? NEXT : ""));
    for (const [name, value] of Object.entries(row.ok.headers ?? {})) expect(res.header(name) ?? "", `${what}: header ${name}`).to.equal(value);
  } else {
    const err = (first as { err: unknown }).err;
    expect(err, `${what}: ${"ok" in first ? `resolved with ${text(first.ok.body)}` : ""}`).to.be.instanceOf(TransportError);
    const te = err as TransportError;
    expect(te.code, `${what}: ${te.message}`).to.equal(row.code ?? "EPROTO");
    expect(te.sent, what).to.equal(true);
    expect(te.message, what).to.match(row.fails as RegExp);
  }
  // The next request: served on the same socket when the connection may carry it, else lost at once.
  const second = await within(t.request(req()));
  const survives = row.ok !== undefined && row.ok.lost !== true && !appended;
  if (survives) {
    expect("ok" in second && text(second.ok.body), `${what}: the next request`).to.equal("second");
    expect(socket.closed, what).to.equal(false);
  } else {
    const err = "err" in second ? second.err : second;
    expect(err, `${what}: the next request must fail as session lost, got ${JSON.stringify("ok" in second ? text(second.ok.body) : err)}`).to.be.instanceOf(TransportError);
    expect((err as TransportError).code, what).to.equal("ESESSIONLOST");
    expect((err as TransportError).sent, what).to.equal(false);
    expect(socket.closed, `${what}: the socket is destroyed`).to.equal(true);
    expect(socket.written, `${what}: nothing more was written`).to.have.length(1);
  }
  await t.close();
}

describe("Session HTTP/1.1 framing conformance (RFC 9112 table)", () => {
  for (const row of ROWS) {
    it(`${row.ok ? "accepts" : "fails on"}: ${row.rule}`, async function () {
      this.timeout(60_000);
      const wire = bytes(row.response);
      for (const feed of feeds(row, wire)) await check(row, feed, false);
      if (row.noAppend) return;
      for (const feed of feeds(row, wire)) await check(row, { name: feed.name, chunks: [...feed.chunks, bytes(NEXT)] }, true);
      const whole = new Uint8Array([...wire, ...bytes(NEXT)]);
      for (const feed of feeds(row, whole).filter((f) => !row.sampleSplits || f.name === "whole")) await check(row, { name: `${feed.name} of both`, chunks: feed.chunks }, true);
    });
  }

  it("bytes that arrive while no request is outstanding poison the socket: the next request fails as lost, unsent", async () => {
    const socket = new FakeSocket([[bytes(cl("5"))], [bytes(SECOND)]], "hang");
    const t = new PinnedTransport(async () => socket);
    expect(text((await t.request(req())).body)).to.equal("hello");
    socket.push(bytes(NEXT)); // an unsolicited response, while idle
    await new Promise((r) => setTimeout(r, 10));
    expect(socket.closed).to.equal(true);
    const err = await t.request(req()).then(() => undefined, (e: unknown) => e);
    expect(err).to.be.instanceOf(TransportError);
    expect((err as TransportError).code).to.equal("ESESSIONLOST");
    expect((err as TransportError).message).to.match(/while no request was outstanding/);
    expect(socket.written).to.have.length(1);
  });

  it("a server that closes an idle connection: the next request fails as lost, unsent", async () => {
    const socket = new FakeSocket([[bytes(cl("5"))]], "eof");
    const t = new PinnedTransport(async () => socket);
    expect(text((await t.request(req())).body)).to.equal("hello");
    await new Promise((r) => setTimeout(r, 10));
    const err = await t.request(req()).then(() => undefined, (e: unknown) => e);
    expect((err as TransportError).code).to.equal("ESESSIONLOST");
    expect(socket.written).to.have.length(1);
  });

  it("an answer before the request is fully written is read, and the connection is not reused", async () => {
    const socket = new FakeSocket([[bytes("HTTP/1.1 413 Payload Too Large\r\nconnection: close\r\ncontent-length: 3\r\n\r\nbig")]], "hang", true);
    const t = new PinnedTransport(async () => socket);
    const res = await within(t.request(req()));
    expect("ok" in res && res.ok.status).to.equal(413);
    expect(socket.closed).to.equal(true);
  });

  it("request heads: header values as one byte per character (Latin-1), never UTF-8; refused before anything is written", async () => {
    const url = new URL("http://db:4200/_sql?types");
    const head = text(requestBytes("POST", url, { "default-schema": "caf\u00e9", "x-b": "tab\there" }, bytes("{}")));
    expect(head).to.equal("POST /_sql?types HTTP/1.1\r\nhost: db:4200\r\ndefault-schema: caf\u00e9\r\nx-b: tab\there\r\ncontent-length: 2\r\n\r\n{}");
    expect([...requestBytes("GET", url, { s: "\u00e9" }, undefined)].filter((b) => b > 0x7f)).to.deep.equal([0xe9]);
    for (const bad of ["\u0100", "snow\u2603", "a\r\nx-injected: 1", "a\nb", "a\rb", "nul\0", "\u{1f600}"]) {
      const socket = new FakeSocket([[bytes(cl("5"))]], "hang");
      let opened = 0;
      const t = new PinnedTransport(async () => (opened++, socket));
      const err = await t.request({ ...req(), headers: { "default-schema": bad } }).then(() => undefined, (e: unknown) => e);
      expect(err, JSON.stringify(bad)).to.be.instanceOf(TransportError);
      expect((err as TransportError).sent).to.equal(false);
      expect((err as TransportError).message).to.match(/header 'default-schema' cannot be sent: only Latin-1/);
      expect((err as TransportError).message).not.to.include(bad);
      expect(opened + socket.written.length, "nothing opened or written").to.equal(0);
      // The session is not lost by a refused request.
      expect(text((await t.request(req())).body)).to.equal("hello");
    }
    for (const name of ["bad name", "x:y", "", "caf\u00e9"]) {
      expect(() => requestBytes("GET", url, { [name]: "v" }, undefined), JSON.stringify(name)).to.throw(TransportError, /not an HTTP token/);
    }
  });
});
