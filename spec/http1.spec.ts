import { expect } from "chai";
import { ConnectionError, InterfaceError, connect } from "cratedb-fetch";
import { clusterPerSuite } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, expectThrow, notApplicable, runtime } from "./support/helpers.js";
import { NO_SESSIONS, sessionsHere } from "./support/sessions.js";

/**
 * The HTTP/1.1 client of sessions against framings the fake cluster does not produce (CrateDB always sends
 * Content-Length; a proxy in front may not): chunked bodies, a body ended by closing the connection.
 */
describe("Session HTTP/1.1 framing (chunked, close-delimited, 100 Continue)", () => {
  type Http = typeof import("node:http");
  let http: Http | undefined;
  let server: import("node:http").Server | undefined;
  let url = "";
  let mode = "chunked";

  before(async function () {
    if (runtime !== "node" && runtime !== "deno" && runtime !== "bun") return;
    http = (await import("node:http")) as Http;
    server = http.createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const stmt = (JSON.parse(body) as { stmt: string }).stmt;
        const json = JSON.stringify({ cols: ["stmt"], col_types: [4], rows: [[stmt]], rowcount: 1, duration: 1 });
        if (mode === "chunked") {
          res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
          for (let i = 0; i < json.length; i += 7) res.write(json.slice(i, i + 7));
          res.end();
        } else if (mode === "continue") {
          res.writeContinue();
          res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
          res.end(json);
        } else {
          res.writeHead(200, { "content-type": "application/json", connection: "close" });
          res.end(json);
        }
      });
    });
    await new Promise<void>((resolve) => (server as import("node:http").Server).listen(0, "127.0.0.1", resolve));
    const addr = server.address() as { port: number };
    url = `http://127.0.0.1:${addr.port}`;
  });
  after(() => server?.close());

  beforeEach(function () {
    if (server === undefined) notApplicable(this, "the spec serves unusual framings from node:http, which this runtime's specs cannot start");
  });

  it("reads chunked bodies, many small chunks, request after request on one socket", async () => {
    mode = "chunked";
    const conn = connect(url);
    const s = conn.session();
    for (let i = 0; i < 3; i++) expect((await s.query(`SELECT ${i}`)).rows).to.deep.equal([[`SELECT ${i}`]]);
    await conn.close();
  });

  it("skips a 100 Continue before the answer", async () => {
    mode = "continue";
    const conn = connect(url);
    const s = conn.session();
    expect((await s.query("SELECT 'c'")).rows).to.deep.equal([["SELECT 'c'"]]);
    expect((await s.query("SELECT 'd'")).rows).to.deep.equal([["SELECT 'd'"]]);
    await conn.close();
  });

  it("a server that closes the connection after its answer ends the session: the next request says it is lost", async () => {
    mode = "close";
    const conn = connect(url);
    const s = conn.session();
    expect((await s.query("SELECT 'once'")).rows).to.deep.equal([["SELECT 'once'"]]);
    await expectReject(s.query("SELECT 'twice'"), ConnectionError, /session .*is lost/);
    await conn.close();
  });
});

describe("Session HTTP/1.1 through the fake cluster (every lane with sessions, workerd's cloudflare:sockets included)", () => {
  let cluster: ClusterHandle;
  clusterPerSuite({}, (c) => (cluster = c));

  // node:http writes these heads as given: framings that a strict client must refuse, on a real socket.
  for (const [rule, headers] of [
    ["a negative Content-Length", { "content-length": "-5" }],
    ["differing Content-Length values", { "content-length": "5, 6" }],
    ["Transfer-Encoding that is not chunked (no hang)", { "transfer-encoding": "notchunked" }],
  ] as const) {
    it(`${rule}: a typed error that ends the session, at once; the next request is not sent`, async function () {
      if (!sessionsHere) notApplicable(this, NO_SESSIONS);
      const conn = connect(cluster.urls[0] as string);
      const s = conn.session();
      expect((await s.query("SELECT 'first'")).rows).to.deep.equal([["first"]]);
      await cluster.fault({ node: 0, fault: { kind: "respond", status: 200, headers: { "content-type": "application/json", ...headers }, body: "hello" }, stmt: "framing" });
      await cluster.resetLog();
      const started = Date.now();
      await expectReject(s.query("SELECT 'framing'"), ConnectionError, /is lost .*HTTP\/1\.1 protocol violation/);
      expect(Date.now() - started).to.be.below(2000);
      await expectReject(s.query("SELECT 'after'"), ConnectionError, /is lost/);
      expect((await cluster.requests()).map((r) => r.body), "only the bad one reached the server").to.have.length(1);
      await conn.close();
    });
  }

  it("schema 'café' goes out as Latin-1 (one byte per character) on both paths, so both query the same schema", async function () {
    if (!sessionsHere) notApplicable(this, NO_SESSIONS);
    if (runtime === "workerd") {
      // workerd's fetch writes a non-ASCII header value as UTF-8 (a quirk of workerd): refused at connect() there.
      expectThrow(() => connect(cluster.urls[0] as string, { schema: "caf\u00e9" }), InterfaceError, /Cloudflare Workers.*ASCII/);
      expectThrow(() => connect(cluster.urls[0] as string, { headers: { "x-app": "caf\u00e9" } }), InterfaceError, /UTF-8/);
      expect(() => connect(cluster.urls[0] as string, { schema: "cafe" })).not.to.throw();
      return;
    }
    const conn = connect(cluster.urls[0] as string, { schema: "caf\u00e9" });
    await cluster.resetLog();
    const pooled = (await conn.query("SELECT current_schema")).rows;
    const session = await conn.withSession(async (s) => (await s.query("SELECT current_schema")).rows);
    await conn.close();
    // The fake (node:http) reads header bytes as ISO-8859-1, as CrateDB does: UTF-8 would read as "cafÃ©".
    expect(session, "the session path (own HTTP/1.1 writer)").to.deep.equal([["caf\u00e9"]]);
    expect({ pooled, session }).to.deep.equal({ pooled: [["caf\u00e9"]], session: [["caf\u00e9"]] });
    const seen = (await cluster.requests()).map((r) => r.headers["default-schema"]);
    expect(seen).to.deep.equal(["caf\u00e9", "caf\u00e9"]);
  });
});

/**
 * A raw TCP server in the spec (node:net), so that the exact bytes of both directions are the spec's:
 * it records each request head as bytes and answers with the bytes the test scripted.
 */
describe("Session HTTP/1.1 over a raw socket (wire bytes, strict framing end to end)", () => {
  type Net = typeof import("node:net");
  let server: import("node:net").Server | undefined;
  let url = "";
  const heads: Uint8Array[] = [];
  let script: (n: number, stmt: string) => string = () => "";
  let served = 0;
  const json = (value: string): string => JSON.stringify({ cols: ["v"], col_types: [4], rows: [[value]], rowcount: 1, duration: 1 });
  const ok = (value: string): string => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${json(value).length}\r\n\r\n${json(value)}`;

  before(async () => {
    if (runtime !== "node" && runtime !== "deno" && runtime !== "bun") return;
    const net = (await import("node:net")) as Net;
    server = net.createServer((socket) => {
      socket.on("error", () => undefined);
      let buf = new Uint8Array(0);
      socket.on("data", (chunk: Uint8Array) => {
        const joined = new Uint8Array(buf.length + chunk.length);
        joined.set(buf);
        joined.set(chunk, buf.length);
        buf = joined;
        for (;;) {
          let end = -1;
          for (let i = 0; i + 3 < buf.length; i++) if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) (end = i), (i = buf.length);
          if (end === -1) return;
          const head = buf.subarray(0, end + 4);
          const len = Number(/content-length: *(\d+)/i.exec(String.fromCharCode(...head))?.[1] ?? 0);
          if (buf.length < end + 4 + len) return;
          const body = new TextDecoder().decode(buf.subarray(end + 4, end + 4 + len));
          heads.push(head.slice());
          buf = buf.slice(end + 4 + len);
          const stmt = body === "" ? "" : (JSON.parse(body) as { stmt: string }).stmt;
          socket.write(Uint8Array.from(script(served++, stmt), (c) => c.charCodeAt(0)));
        }
      });
    });
    await new Promise<void>((resolve) => (server as import("node:net").Server).listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(() => server?.close());
  beforeEach(function () {
    if (server === undefined) notApplicable(this, "the spec starts a raw TCP server with node:net, which this lane's specs cannot do");
    heads.length = 0;
    served = 0;
  });

  /** The bytes of one header line's value in a recorded request head. */
  const valueBytes = (head: Uint8Array, name: string): number[] => {
    const text = String.fromCharCode(...head);
    const at = text.toLowerCase().indexOf(`\r\n${name}:`);
    if (at === -1) return [];
    const from = text.indexOf(":", at) + 1;
    return [...head.subarray(from, text.indexOf("\r\n", from))].filter((_b, i, all) => i > 0 || all[0] !== 32);
  };

  it("schema 'café': the pooled request and the session request carry the bytes 63 61 66 E9", async () => {
    script = (_n, stmt) => ok(stmt);
    const conn = connect(url, { schema: "caf\u00e9" });
    await conn.query("SELECT 'pooled'");
    await conn.withSession((s) => s.query("SELECT 'session'"));
    await conn.close();
    expect(heads).to.have.length(2);
    expect(heads.map((h) => valueBytes(h, "default-schema"))).to.deep.equal([[0x63, 0x61, 0x66, 0xe9], [0x63, 0x61, 0x66, 0xe9]]);
  });

  it("an LF-only response head parses", async () => {
    script = (_n, stmt) => ok(stmt).replaceAll("\r\n", "\n");
    const conn = connect(url);
    await conn.withSession(async (s) => {
      expect((await s.query("SELECT 1")).rows).to.deep.equal([["SELECT 1"]]);
      expect((await s.query("SELECT 2")).rows).to.deep.equal([["SELECT 2"]]);
    });
    await conn.close();
  });

  for (const [rule, bad] of [
    ["a negative Content-Length", "HTTP/1.1 200 OK\r\ncontent-length: -5\r\n\r\nhello"],
    ["Transfer-Encoding that is not chunked (no hang)", "HTTP/1.1 200 OK\r\ntransfer-encoding: notchunked\r\n\r\nhello"],
    ["a chunk size 0x2", "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0x2\r\nok\r\n0\r\n\r\n"],
    ["differing Content-Length values", "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!"],
  ] as const) {
    it(`${rule}: a typed error that ends the session, at once`, async () => {
      script = () => bad;
      const conn = connect(url);
      const s = conn.session();
      const started = Date.now();
      const err = await expectReject<ConnectionError>(s.query("SELECT 1"), ConnectionError, /is lost .*HTTP\/1\.1 protocol violation/);
      expect(Date.now() - started).to.be.below(2000);
      expect(err.message).not.to.match(/RangeError/);
      await expectReject(s.query("SELECT 2"), ConnectionError, /is lost/);
      expect(heads, "the second request is never sent").to.have.length(1);
      await conn.close();
    });
  }

  it("a second, unsolicited response after the first: request 2 fails as session lost, never with request 1's extra body", async () => {
    script = (n, stmt) => (n === 0 ? ok(stmt) + ok("smuggled") : ok(stmt));
    const conn = connect(url);
    const s = conn.session();
    expect((await s.query("SELECT 1")).rows).to.deep.equal([["SELECT 1"]]);
    await expectReject(s.query("SELECT 2"), ConnectionError, /is lost/);
    expect(heads, "the second request is never sent").to.have.length(1);
    await conn.close();
  });
});
