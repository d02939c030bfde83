/**
 * Checks the fake CrateDB cluster against docs/cratedb-http-protocol.md with plain `fetch` (not the client library).
 * Runtime-agnostic except the CORS and TLS groups, which are skipped where `process` (Node/Bun/Deno) is missing.
 */
import { expect } from "chai";
import { startCluster, withCluster, type ClusterHandle } from "./support/cluster.js";

interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** POST `body` (object → JSON, string → as is) to `${url}/_sql${query}`. */
async function sql(url: string, body: unknown, query = "", headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${url}/_sql${query}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Replace the (variable) duration so bodies can be compared byte for byte. */
const D = (s: string) => s.replace(/"duration":[0-9.eE+-]+/, '"duration":D');

async function rejects(p: Promise<unknown>): Promise<void> {
  let failed = false;
  try {
    await p;
  } catch {
    failed = true;
  }
  expect(failed, "expected the request to fail").to.equal(true);
}

const nodeOnly = () => typeof (globalThis as { process?: unknown }).process === "undefined";

describe("fake CrateDB cluster", function () {
  this.timeout(20_000);
  let c: ClusterHandle;
  let url: string;
  before(async () => {
    c = await startCluster({ nodes: 2 });
    url = c.urls[0] as string;
  });
  after(async () => {
    await c?.close();
  });
  beforeEach(async () => {
    await c.clearFaults();
  });

  describe("/_sql", () => {
    it("answers a result set with exact bytes, field order and headers", async () => {
      const r = await sql(url, { stmt: "SELECT 1" }, "?types");
      expect(r.status).to.equal(200);
      expect(r.headers.get("content-type")).to.equal("application/json; charset=UTF-8");
      expect(r.headers.get("content-length")).to.equal(String(new TextEncoder().encode(r.text).length));
      expect(r.headers.get("date")).to.equal(null);
      expect(D(r.text)).to.equal('{"cols":["1"],"col_types":[9],"rows":[[1]],"rowcount":1,"duration":D}');
      expect(r.text).to.match(/"duration":\d+\.\d+}$/);
    });

    it("answers row-count statements with rows [[]] (col_types only with ?types)", async () => {
      expect(D((await sql(url, { stmt: "CREATE TABLE rc (id INT PRIMARY KEY, v TEXT)" })).text)).to.equal(
        '{"cols":[],"rows":[[]],"rowcount":1,"duration":D}',
      );
      const r = await sql(url, { stmt: "INSERT INTO rc (id, v) VALUES (?, ?)", args: [1, "a"] }, "?types");
      expect(D(r.text)).to.equal('{"cols":[],"col_types":[],"rows":[[]],"rowcount":1,"duration":D}');
      const dup = await sql(url, { stmt: "INSERT INTO rc (id, v) VALUES ($1, $2)", args: [1, "b"] });
      expect(dup.status).to.equal(409);
      expect(dup.text).to.equal('{"error":{"message":"DuplicateKeyException[A document with the same primary key exists already]","code":4091}}');
    });

    it("answers bulk requests per item, rejects bulk SELECT, and short-cuts bulk_args []", async () => {
      const r = await sql(url, { stmt: "INSERT INTO bulk_t (id, v) VALUES (?, ?)", bulk_args: [[1, "a"], [2, "b"], [1, "c"]] }, "?types");
      expect(D(r.text)).to.equal(
        '{"cols":[],"duration":D,"results":[{"rowcount":1},{"rowcount":1},' +
          '{"rowcount":-2,"error":{"code":4091,"message":"DuplicateKeyException[A document with the same primary key exists already]"}}]}',
      );
      const sel = await sql(url, { stmt: "SELECT * FROM bulk_t", bulk_args: [[]] });
      expect([sel.status, sel.text]).to.deep.equal([
        400,
        '{"error":{"message":"UnsupportedFeatureException[Bulk operations for statements that return result sets is not supported]","code":4004}}',
      ]);
      expect(D((await sql(url, { stmt: "SELECT 1", bulk_args: [] })).text)).to.equal('{"cols":[],"duration":D,"results":[]}');
      expect((await c.stats()).tables["doc.bulk_t"]).to.deep.equal([[1, "a"], [2, "b"]]);
    });

    it("sends the error envelope, with error_trace last only when asked", async () => {
      const plain = await sql(url, { stmt: "SELECT * FROM missing" });
      expect(plain.status).to.equal(404);
      expect(plain.text).to.equal('{"error":{"message":"RelationUnknown[Relation \'doc.missing\' unknown]","code":4041}}');
      const traced = await sql(url, { stmt: "SELECT * FROM missing" }, "?error_trace=true");
      const json = JSON.parse(traced.text) as Record<string, unknown>;
      expect(Object.keys(json)).to.deep.equal(["error", "error_trace"]);
      expect(json["error_trace"]).to.match(/^io\.crate\.exceptions\.RelationUnknown: .*\n\tat /);
      // flags are on only with an empty value or exactly `true`
      expect((await sql(url, { stmt: "SELECT 1" }, "?types=1")).text).not.to.contain("col_types");
      expect((await sql(url, { stmt: "SELECT 1" }, "?types=")).text).to.contain('"col_types":[9]');
    });

    it("rejects bad bodies exactly as protocol §1.1 says", async () => {
      const cases: Array<[string, number, string]> = [
        ["", 400, '{"error":{"message":"SQLParseException[Missing request body]","code":4000}}'],
        ["{nope", 400, '{"error":{"message":"SQLParseException[Can\'t parse [{nope]. Expecting payload with `stmt` string and `args` or `bulk_args` arrays]","code":4000}}'],
        ["{}", 500, '{"error":{"message":"SQLParseSourceException[Field [stmt] is missing]","code":5000}}'],
        ['{"stmt":""}', 500, '{"error":{"message":"SQLParseSourceException[Field [stmt] has no value]","code":5000}}'],
        ['{"stmt":"select 1","args":null}', 500, '{"error":{"message":"SQLParseSourceException[`args` must start with an array, not `VALUE_NULL`]","code":5000}}'],
        [
          '{"stmt":"select ?","args":[1],"bulk_args":[[1]]}',
          400,
          '{"error":{"message":"SQLParseException[request body contains args and bulk_args. It\'s forbidden to provide both]","code":4000}}',
        ],
      ];
      for (const [body, status, text] of cases) {
        const r = await sql(url, body);
        expect([r.status, r.text], body).to.deep.equal([status, text]);
      }
      const parse = await sql(url, { stmt: "FROBNICATE x" });
      expect(parse.status).to.equal(400);
      expect(parse.text).to.match(/^\{"error":\{"message":"SQLParseException\[line 1:1: mismatched input 'FROBNICATE' expecting/);
    });

    it("echoes args byte-exactly and guesses col_types", async () => {
      const big = '{"stmt":"SELECT ?, ?, ?, ?, ?","args":[9007199254740993,123456789012345678901234567890.125,"x",[null,[1,2]],{"k":true}]}';
      const r = await sql(url, big, "?types");
      expect(D(r.text)).to.equal(
        '{"cols":["?","?","?","?","?"],"col_types":[10,6,4,[100,[100,9]],12],' +
          '"rows":[[9007199254740993,123456789012345678901234567890.125,"x",[null,[1,2]],{"k":true}]],"rowcount":1,"duration":D}',
      );
      const dollar = await sql(url, { stmt: "SELECT $2, $1, $2", args: [true, null] }, "?types");
      expect(D(dollar.text)).to.equal('{"cols":["$2","$1","$2"],"col_types":[0,3,0],"rows":[[null,true,null]],"rowcount":1,"duration":D}');
    });

    it("accepts gzip request bodies and logs the wire size", async () => {
      const text = JSON.stringify({ stmt: "SELECT ?", args: ["z".repeat(2000)] });
      const gz = new Uint8Array(await new Response(new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
      await c.resetLog();
      const res = await fetch(`${url}/_sql`, { method: "POST", headers: { "content-encoding": "gzip" }, body: gz });
      expect(res.status).to.equal(200);
      expect(((await res.json()) as { rows: string[][] }).rows[0]?.[0]).to.have.length(2000);
      const [seen] = await c.requests(0);
      expect(seen?.body).to.equal(text);
      expect(seen?.wireBytes).to.equal(gz.length);
    });

    it("shares tables between nodes", async () => {
      await sql(c.urls[0] as string, { stmt: "INSERT INTO shared (id) VALUES (7)" });
      const r = await sql(c.urls[1] as string, { stmt: "SELECT id FROM shared WHERE id = ?", args: [7] });
      expect(JSON.parse(r.text).rows).to.deep.equal([[7]]);
    });

    it("applies Default-Schema only when the connection's session is created", async () => {
      await c.stopNode(1); // drop any pooled connection to node 1
      await c.startNode(1);
      await c.resetLog();
      const u = c.urls[1] as string;
      // A macrotask gap lets undici put the socket back in its pool; back-to-back fetches may open a new connection.
      const q = async (schema: string) => {
        await new Promise((r) => setTimeout(r, 10));
        return JSON.parse((await sql(u, { stmt: "SELECT current_schema" }, "", { "default-schema": schema })).text).rows[0][0];
      };
      expect(await q("first")).to.equal("first");
      expect(await q("second")).to.equal("first");
      await new Promise((r) => setTimeout(r, 10));
      await sql(u, { stmt: "SET search_path TO third" });
      expect(await q("fourth")).to.equal("third");
      const conns = new Set((await c.requests(1)).map((r) => r.connection));
      expect(conns.size, "all requests on one keep-alive connection").to.equal(1);
      await c.stopNode(1);
      await c.startNode(1);
      expect(await q("fifth")).to.equal("fifth");
    });
  });

  describe("root and other paths", () => {
    it("GET / answers pretty Jackson JSON; HEAD / has content-length 0", async () => {
      const res = await fetch(url + "/", { headers: { accept: "application/json" } });
      expect(res.headers.get("content-type")).to.equal("application/json");
      expect(await res.text()).to.equal(
        '{\n  "ok" : true,\n  "status" : 200,\n  "name" : "crate-0",\n  "cluster_name" : "fake-crate",\n  "version" : {\n' +
          '    "number" : "6.4.3",\n    "build_hash" : "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",\n' +
          '    "build_timestamp" : "2026-07-01T10:11:12Z",\n    "build_snapshot" : false,\n    "lucene_version" : "10.4.0"\n  }\n}\n',
      );
      const head = await fetch(url + "/", { method: "HEAD", headers: { accept: "application/json" } });
      expect([head.status, head.headers.get("content-length"), head.headers.get("content-type")]).to.deep.equal([200, "0", null]);
    });

    it("answers unknown paths with 404/403 text and /_blobs with an empty 404", async () => {
      const get = await fetch(url + "/nope");
      expect([get.status, await get.text()]).to.deep.equal([404, "Requested file [nope] was not found"]);
      const post = await fetch(url + "/nope", { method: "POST", body: "x" });
      expect([post.status, await post.text()]).to.deep.equal([403, "POST method is not allowed for [/nope]"]);
      const blob = await fetch(url + "/_blobs/b/" + "0".repeat(40));
      expect([blob.status, await blob.text()]).to.deep.equal([404, ""]);
    });
  });

  describe("faults", () => {
    const rowsOf = async (table: string) => (await c.stats()).tables[table] ?? [];

    it("reset-before-headers drops the request without executing it", async () => {
      // times: 2 because Deno's fetch transparently re-sends a request (even a POST) once after such a reset.
      await c.fault({ node: 0, fault: { kind: "reset-before-headers" }, stmt: "into rb", times: 2 });
      await rejects(sql(url, { stmt: "INSERT INTO rb (id) VALUES (1)" }));
      expect(await rowsOf("doc.rb")).to.deep.equal([]);
      const attempts = (await c.requests(0)).filter((r) => r.body.includes("INTO rb"));
      expect(attempts.map((r) => r.status)).to.not.include(200);
    });

    it("reset-after-headers and truncated-body execute the statement, then break the response", async () => {
      await c.fault({ node: 0, fault: { kind: "reset-after-headers" }, stmt: "INTO ra" });
      await rejects(sql(url, { stmt: "INSERT INTO ra (id) VALUES (1)" }));
      await c.fault({ node: 0, fault: { kind: "truncated-body" } });
      await rejects(sql(url, { stmt: "INSERT INTO ra (id) VALUES (2)" }));
      expect(await rowsOf("doc.ra")).to.deep.equal([[1], [2]]);
    });

    it("hang never answers and never executes", async () => {
      await c.fault({ node: 0, fault: { kind: "hang" } });
      await rejects(
        fetch(`${url}/_sql`, { method: "POST", body: '{"stmt":"INSERT INTO hung (id) VALUES (1)"}', signal: AbortSignal.timeout(300) }),
      );
      expect(await rowsOf("doc.hung")).to.deep.equal([]);
    });

    it("slow-body and delay answer late but completely", async () => {
      await c.fault({ node: 0, fault: { kind: "slow-body", delayMs: 100, chunks: 3 } });
      let t0 = Date.now();
      expect(D((await sql(url, { stmt: "SELECT 1" })).text)).to.equal('{"cols":["1"],"rows":[[1]],"rowcount":1,"duration":D}');
      expect(Date.now() - t0).to.be.at.least(180);
      await c.fault({ node: 0, fault: { kind: "delay", delayMs: 200 } });
      t0 = Date.now();
      expect((await sql(url, { stmt: "SELECT 1" })).status).to.equal(200);
      expect(Date.now() - t0).to.be.at.least(180);
    });

    it("status, html and respond answer instead of the node", async () => {
      await c.fault({ node: 0, fault: { kind: "status", status: 503 } });
      const s = await sql(url, { stmt: "SELECT 1" });
      expect(s.status).to.equal(503);
      expect(JSON.parse(s.text).error.code).to.equal(5030);
      await c.fault({ node: 0, fault: { kind: "html" } });
      const h = await sql(url, { stmt: "SELECT 1" });
      expect([h.status, h.headers.get("content-type")]).to.deep.equal([502, "text/html"]);
      expect(h.text).to.contain("<title>502 Bad Gateway</title>");
      await c.fault({ node: 0, fault: { kind: "respond", status: 200, headers: { "x-a": "b" }, json: { cols: [], rows: [] } } });
      const r = await sql(url, { stmt: "SELECT 1" });
      expect([r.status, r.headers.get("x-a"), r.text]).to.deep.equal([200, "b", '{"cols":[],"rows":[]}']);
      expect((await sql(url, { stmt: "SELECT 1" })).status, "fault used up").to.equal(200);
    });

    it("redirect points to the other node with the same path", async () => {
      await c.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 1 } });
      const res = await fetch(`${url}/_sql?types`, { method: "POST", body: '{"stmt":"SELECT 1"}', redirect: "manual" });
      expect([res.status, res.headers.get("location"), res.headers.get("content-length")]).to.deep.equal([307, `${c.urls[1]}/_sql?types`, "0"]);
    });

    it("matches faults by node, path, stmt and times", async () => {
      await c.fault({ node: 0, fault: { kind: "status", status: 503 }, stmt: "select 42", times: 2 });
      expect((await sql(c.urls[1] as string, { stmt: "SELECT 42" })).status, "other node").to.equal(200);
      expect((await sql(url, { stmt: "SELECT 1" })).status, "other stmt").to.equal(200);
      expect((await fetch(url + "/", { headers: { accept: "application/json" } })).status, "other path").to.equal(200);
      expect((await sql(url, { stmt: "SELECT 42" })).status).to.equal(503);
      expect((await sql(url, { stmt: "select 42" })).status).to.equal(503);
      expect((await sql(url, { stmt: "SELECT 42" })).status).to.equal(200);
    });
  });

  describe("nodes", () => {
    it("stopNode refuses connections, startNode accepts them on the same port", async () => {
      const u = c.urls[1] as string;
      await c.stopNode(1);
      await rejects(sql(u, { stmt: "SELECT 1" }));
      await c.startNode(1);
      expect((await sql(u, { stmt: "SELECT 1" })).status).to.equal(200);
      const stats = await c.stats();
      expect(stats.nodes[1]?.connectionsOpen).to.equal(1);
    });

    it("closes idle sockets after idleTimeout and serves under a path prefix", async () => {
      await withCluster({ idleTimeout: 150, pathPrefix: "/crate" }, async (p) => {
        const u = p.urls[0] as string;
        expect(u).to.match(/^http:\/\/127\.0\.0\.1:\d+\/crate$/);
        expect((await sql(u, { stmt: "SELECT 1" })).status).to.equal(200);
        expect((await sql(u.replace(/\/crate$/, ""), { stmt: "SELECT 1" })).status).to.equal(404);
        await new Promise((r) => setTimeout(r, 400));
        expect((await p.stats()).nodes[0]?.connectionsOpen).to.equal(0);
      });
    });
  });

  describe("auth", () => {
    it("answers 401 as text with www-authenticate and records the user", async () => {
      await withCluster({ auth: { users: { alice: "secret" }, tokens: { tok: "bob" } } }, async (a) => {
        const u = a.urls[0] as string;
        const no = await sql(u, { stmt: "SELECT current_user" });
        expect([no.status, no.headers.get("www-authenticate"), no.headers.get("content-type")]).to.deep.equal([
          401,
          'Basic realm="CrateDB Authenticator"',
          null,
        ]);
        expect(no.text).to.match(/\n$/);
        const wrong = await sql(u, { stmt: "SELECT 1" }, "", { authorization: "Basic " + btoa("alice:nope") });
        expect([wrong.status, wrong.text]).to.deep.equal([401, 'password authentication failed for user "alice"\n']);
        const ok = await sql(u, { stmt: "SELECT current_user" }, "", { authorization: "Basic " + btoa("alice:secret") });
        expect(JSON.parse(ok.text).rows).to.deep.equal([["alice"]]);
        const bearer = await sql(u, { stmt: "SELECT current_user" }, "", { authorization: "Bearer tok" });
        expect(JSON.parse(bearer.text).rows).to.deep.equal([["bob"]]);
        const bad = await sql(u, { stmt: "SELECT 1" }, "", { authorization: "Digest abc" });
        expect([bad.status, bad.text]).to.deep.equal([500, "Only basic or bearer HTTP Authentication schemes are allowed."]);
        expect((await a.requests()).map((r) => r.user)).to.deep.equal([null, null, "alice", "bob", null]);
      });
    });
  });

  describe("CORS (node-only: Origin is a forbidden header in browsers)", () => {
    it("answers preflights per §6 and adds allow-origin to responses", async function () {
      if (nodeOnly()) this.skip();
      await withCluster({ cors: { allowOrigin: "http://app.test", allowCredentials: true } }, async (k) => {
        const u = k.urls[0] as string;
        const pre = await fetch(`${u}/_sql`, {
          method: "OPTIONS",
          headers: { origin: "http://app.test", "access-control-request-method": "POST" },
        });
        expect(pre.status).to.equal(200);
        expect(pre.headers.get("access-control-allow-origin")).to.equal("http://app.test");
        expect(pre.headers.get("vary")).to.equal("origin");
        expect(pre.headers.get("access-control-allow-credentials")).to.equal("true");
        expect(pre.headers.get("access-control-max-age")).to.equal("1728000");
        expect(pre.headers.get("access-control-allow-methods")?.split(", ")).to.have.members(["OPTIONS", "HEAD", "GET", "POST", "PUT", "DELETE"]);
        expect(pre.headers.get("date")).to.be.a("string");
        const bad = await fetch(`${u}/_sql`, { method: "OPTIONS", headers: { origin: "http://evil.test", "access-control-request-method": "POST" } });
        expect(bad.status).to.equal(403);
        const post = await sql(u, { stmt: "SELECT 1" }, "", { origin: "http://app.test" });
        expect([post.status, post.headers.get("access-control-allow-origin")]).to.deep.equal([200, "http://app.test"]);
      });
      // without CORS an OPTIONS to /_sql is just an SQL request
      const plain = await fetch(`${url}/_sql`, { method: "OPTIONS", headers: { origin: "http://app.test", "access-control-request-method": "POST" } });
      expect([plain.status, await plain.text()]).to.deep.equal([400, '{"error":{"message":"SQLParseException[Missing request body]","code":4000}}']);
    });
  });

  describe("TLS (node-only: custom CAs need node:https)", () => {
    type TlsOpts = { ca?: string; cert?: string; key?: string; minVersion?: "TLSv1.3" };
    async function httpsSql(u: string, o: TlsOpts): Promise<{ status: number; body: string }> {
      const https = await import("node:https");
      return new Promise((resolve, reject) => {
        const req = https.request(`${u}/_sql`, { method: "POST", agent: false, ...o }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (body += d));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end('{"stmt":"SELECT 1"}');
      });
    }

    it("serves HTTPS signed by the test CA and rejects other CAs", async function () {
      if (nodeOnly()) this.skip();
      await withCluster({ tls: true, tlsVersions: { max: "TLSv1.2" } }, async (t) => {
        const u = t.urls[0] as string;
        const certs = t.certs!;
        expect(u).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
        expect((await httpsSql(u, { ca: certs.ca })).status).to.equal(200);
        await rejects(httpsSql(u, { ca: certs.otherCa }));
        await rejects(httpsSql(u, { ca: certs.ca, minVersion: "TLSv1.3" }));
      });
    });

    it("requires a client certificate when clientCert is required", async function () {
      if (nodeOnly()) this.skip();
      await withCluster({ tls: true, clientCert: "required" }, async (t) => {
        const u = t.urls[0] as string;
        const certs = t.certs!;
        await rejects(httpsSql(u, { ca: certs.ca }));
        expect((await httpsSql(u, { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey })).status).to.equal(200);
      });
    });
  });
});
