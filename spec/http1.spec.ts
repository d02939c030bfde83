import { expect } from "chai";
import { ConnectionError, connect } from "cratedb-fetch";
import { expectReject, notApplicable, runtime } from "./support/helpers.js";

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
