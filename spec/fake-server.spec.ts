/**
 * Checks the fake CrateDB cluster against docs/cratedb-http-protocol.md with plain `fetch` (not the client library).
 * Runtime-agnostic except the CORS and TLS groups, which are skipped where `process` (Node/Bun/Deno) is missing.
 */
import { expect } from "chai";
import { startCluster, withCluster, type ClusterHandle } from "./support/cluster.js";
import { keepsSockets, notApplicable, runtime } from "./support/helpers.js";

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
// A page reads only CORS-safelisted response headers: CrateDB (and the fake) send no Access-Control-Expose-Headers.
const HIDDEN_HEADERS = "a cross-origin page reads only CORS-safelisted response headers, and CrateDB (like the fake) sends no Access-Control-Expose-Headers";

interface SqlJson {
  cols: string[];
  col_types?: unknown[];
  rows: unknown[][];
  rowcount: number;
  error?: { message: string; code: number };
}

/** One keep-alive socket (node:net) speaking HTTP/1.1 by hand: every request goes over the same connection. */
class RawConn {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private waiter: (() => void) | undefined;
  private ended = false;
  private constructor(
    private readonly socket: import("node:net").Socket,
    private readonly host: string,
  ) {
    socket.on("data", (d: Uint8Array) => {
      this.chunks.push(d);
      this.size += d.length;
      this.waiter?.();
    });
    socket.on("close", () => {
      this.ended = true;
      this.waiter?.();
    });
  }

  static async open(url: string): Promise<RawConn> {
    const net = await import("node:net");
    const { hostname, port } = new URL(url);
    const socket = net.connect({ host: hostname, port: Number(port) });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawConn(socket, `${hostname}:${port}`);
  }

  /** Send without waiting for the answer (a held job); `answer()` reads it. */
  send(body: unknown, query = ""): void {
    const text = JSON.stringify(body);
    const len = new TextEncoder().encode(text).length;
    this.socket.write(`POST /_sql${query} HTTP/1.1\r\nHost: ${this.host}\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n\r\n${text}`);
  }

  /** All bytes received and not yet consumed, as one array. */
  private bytes(): Uint8Array {
    if (this.chunks.length !== 1) {
      const all = new Uint8Array(this.size);
      let at = 0;
      for (const c of this.chunks) (all.set(c, at), (at += c.length));
      this.chunks = [all];
    }
    return this.chunks[0] ?? new Uint8Array(0);
  }

  async answer(): Promise<{ status: number; text: string; json: SqlJson }> {
    let need: { head: string; bodyStart: number; total: number } | undefined;
    for (;;) {
      if (need === undefined && this.size > 0) {
        const bytes = this.bytes();
        const end = bytes.findIndex((b, i) => b === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10);
        if (end >= 0) {
          const head = new TextDecoder().decode(bytes.subarray(0, end));
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? "0");
          need = { head, bodyStart: end + 4, total: end + 4 + length };
        }
      }
      if (need !== undefined && this.size >= need.total) {
        const bytes = this.bytes();
        const text = new TextDecoder().decode(bytes.subarray(need.bodyStart, need.total));
        this.chunks = [bytes.slice(need.total)];
        this.size -= need.total;
        return { status: Number(need.head.slice(9, 12)), text, json: JSON.parse(text) as SqlJson };
      }
      if (this.ended) throw new Error("socket closed before a complete answer");
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = undefined;
    }
  }

  async sql(body: unknown, query = ""): Promise<{ status: number; text: string; json: SqlJson }> {
    this.send(body, query);
    return this.answer();
  }

  close(): void {
    this.socket.destroy();
  }
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("fake CrateDB cluster", function () {
  beforeEach(function () {
    keepsSockets(this, "these specs talk to the fake through the runtime's own fetch and raw sockets, whose pools they do not own");
  });
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

  describe("cursors, sys.jobs and KILL (node-only: one socket held with node:net)", () => {
    const conns: RawConn[] = [];
    const open = async (u = url) => {
      const conn = await RawConn.open(u);
      conns.push(conn);
      return conn;
    };
    beforeEach(function () {
      if (nodeOnly()) notApplicable(this, "keeps one keep-alive socket with node:net, which this runtime lacks");
    });
    afterEach(() => {
      for (const conn of conns.splice(0)) conn.close();
    });
    const lookup = (u: string, marker: string) =>
      sql(u, { stmt: "SELECT id FROM sys.jobs WHERE strpos(stmt, concat('/* cratedb-fetch:', ?, ' */')) > 0", args: [marker] })
        .then((r) => (JSON.parse(r.text) as SqlJson).rows.map((row) => row[0] as string));

    it("declares, fetches and closes cursors per socket, and drops them when the socket closes", async () => {
      const before = await c.cursors();
      const conn = await open();
      const declared = await conn.sql({ stmt: "DECLARE c NO SCROLL CURSOR WITH HOLD FOR SELECT generate_series FROM generate_series(1, 5)" }, "?types");
      expect(D(declared.text)).to.equal('{"cols":[],"col_types":[],"rows":[[]],"rowcount":0,"duration":D}');
      const first = await conn.sql({ stmt: "FETCH 2 FROM c" }, "?types");
      expect(D(first.text)).to.equal('{"cols":["generate_series"],"col_types":[10],"rows":[[1],[2]],"rowcount":2,"duration":D}');
      expect((await conn.sql({ stmt: "FETCH NEXT FROM c" })).json.rows).to.deep.equal([[3]]);
      expect((await conn.sql({ stmt: "FETCH FORWARD 9 FROM c" })).json.rows).to.deep.equal([[4], [5]]);
      const done = await conn.sql({ stmt: "FETCH ALL FROM c" });
      expect([done.json.rows, done.json.rowcount]).to.deep.equal([[], 0]);
      expect(D((await conn.sql({ stmt: "CLOSE c" })).text)).to.equal('{"cols":[],"rows":[[]],"rowcount":1,"duration":D}');
      const gone = await conn.sql({ stmt: "FETCH 1 FROM c" });
      expect([gone.status, gone.text]).to.deep.equal([400, '{"error":{"message":"SQLParseException[No cursor named `c` available]","code":4000}}']);

      await conn.sql({ stmt: "DECLARE d CURSOR WITH HOLD FOR SELECT * FROM generate_series(1, 3)" });
      const dup = await conn.sql({ stmt: "DECLARE d CURSOR WITH HOLD FOR SELECT 1" });
      expect([dup.status, dup.json.error?.message]).to.deep.equal([400, "SQLParseException[Cursor `d` already exists]"]);
      const other = await open();
      expect((await other.sql({ stmt: "FETCH 1 FROM d" })).status, "another socket is another session").to.equal(400);
      expect(await c.cursors()).to.deep.equal({ open: before.open + 1, declared: before.declared + 2, closed: before.closed + 1 });
      const openSockets = (await c.stats()).nodes[0]?.connectionsOpen ?? 0;
      conn.close();
      const after = await eventually(() => c.cursors(), (x) => x.open === before.open);
      expect(after).to.deep.equal({ open: before.open, declared: before.declared + 2, closed: before.closed + 2 });
      expect((await c.stats()).nodes[0]?.connectionsOpen).to.equal(openSockets - 1);
    });

    it("allows a cursor WITHOUT HOLD only between BEGIN and COMMIT, and rejects WITH queries", async () => {
      const conn = await open();
      const outside = await conn.sql({ stmt: "DECLARE c CURSOR WITHOUT HOLD FOR SELECT 1" });
      expect([outside.status, outside.text]).to.deep.equal([
        400,
        '{"error":{"message":"UnsupportedFeatureException[DECLARE CURSOR can only be used in transaction blocks]","code":4004}}',
      ]);
      expect((await conn.sql({ stmt: "DECLARE c CURSOR FOR SELECT 1" })).json.error?.code).to.equal(4004);
      await conn.sql({ stmt: "BEGIN" });
      expect((await conn.sql({ stmt: "DECLARE c CURSOR FOR SELECT 1" })).status).to.equal(200);
      expect((await conn.sql({ stmt: "FETCH 5 FROM c" })).json.rows).to.deep.equal([[1]]);
      await conn.sql({ stmt: "COMMIT" });
      expect((await conn.sql({ stmt: "FETCH 1 FROM c" })).status, "COMMIT closes cursors without hold").to.equal(400);
      const withQuery = await conn.sql({ stmt: "DECLARE w CURSOR WITH HOLD FOR WITH x AS (SELECT 1) SELECT * FROM x" });
      expect([withQuery.status, withQuery.json.error?.code]).to.deep.equal([400, 4000]);
      expect((await conn.sql({ stmt: "CLOSE ALL" })).json.rowcount).to.equal(1);
    });

    it("produces generate_series rows lazily through a cursor, and all of them in a plain query", async function () {
      this.timeout(60_000);
      const conn = await open();
      const t0 = Date.now();
      await conn.sql({ stmt: "DECLARE big NO SCROLL CURSOR WITH HOLD FOR SELECT generate_series, generate_series * 2 FROM generate_series(1, 1000000)" });
      const page = await conn.sql({ stmt: "FETCH 3 FROM big" }, "?types");
      expect(Date.now() - t0, "DECLARE and FETCH 3 over a million rows").to.be.below(1000);
      expect([page.json.cols, page.json.col_types, page.json.rows]).to.deep.equal([
        ["generate_series", "generate_series * 2"],
        [10, 10],
        [[1, 2], [2, 4], [3, 6]],
      ]);
      await conn.sql({ stmt: "CLOSE big" });
      const all = await conn.sql({ stmt: "SELECT * FROM generate_series(1, 1000000)" });
      expect([all.json.rowcount, all.json.rows[999_999]]).to.deep.equal([1_000_000, [1_000_000]]);
    });

    it("lists a held job in sys.jobs after planMs and kills it: 500/5005, not executed, recorded in kills()", async () => {
      await c.resetLog();
      const marker = "k1";
      const stmt = `INSERT INTO killed_t (id) VALUES (1) /* cratedb-fetch:${marker} */`;
      await c.fault({ node: 0, stmt: `cratedb-fetch:${marker}`, fault: { kind: "job", ms: 5000, planMs: 150 } });
      const conn = await open();
      conn.send({ stmt });
      const other = c.urls[1] as string;
      await new Promise((r) => setTimeout(r, 30));
      expect(await lookup(other, marker), "not yet planned").to.deep.equal([]);
      const ids = await eventually(() => lookup(other, marker), (x) => x.length > 0);
      expect(ids).to.have.length(1);
      const jobId = ids[0] as string;
      const kill = await sql(other, { stmt: "KILL ?", args: [jobId] });
      expect(JSON.parse(kill.text).rowcount).to.equal(1);
      const answer = await conn.answer();
      expect([answer.status, answer.text]).to.deep.equal([
        500,
        '{"error":{"message":"JobKilledException[Job killed. KILL invoked by user: crate]","code":5005}}',
      ]);
      expect((await c.stats()).tables["doc.killed_t"], "the statement never ran").to.equal(undefined);
      expect(JSON.parse((await sql(other, { stmt: `KILL '${jobId}'` })).text).rowcount, "nothing left to kill").to.equal(0);
      const kills = await c.kills();
      expect(kills.map(({ node, jobId: id, found }) => ({ node, id, found }))).to.deep.equal([
        { node: 1, id: jobId, found: true },
        { node: 1, id: jobId, found: false },
      ]);
      const job = (await c.jobs()).find((j) => j.id === jobId);
      expect([job?.node, job?.stmt, job?.state]).to.deep.equal([0, stmt, "killed"]);
      expect((await conn.sql({ stmt: "SELECT 1" })).status, "the socket still works").to.equal(200);
    });

    it("runs a held job normally when nobody kills it, and a held FETCH can be killed without moving the cursor", async () => {
      const conn = await open();
      await c.fault({ node: 0, stmt: "held_ok", fault: { kind: "job", ms: 50, planMs: 0 } });
      expect((await conn.sql({ stmt: "SELECT 'held_ok'" })).json.rows).to.deep.equal([["held_ok"]]);
      await conn.sql({ stmt: "DECLARE f CURSOR WITH HOLD FOR SELECT * FROM generate_series(1, 10)" });
      await c.fault({ node: 0, stmt: "FETCH", fault: { kind: "job", ms: 5000, planMs: 0 } });
      conn.send({ stmt: "FETCH 2 FROM f /* cratedb-fetch:f1 */" });
      const [id] = await eventually(() => lookup(url, "f1"), (x) => x.length > 0);
      expect(JSON.parse((await sql(url, { stmt: "KILL $1", args: [id] })).text).rowcount).to.equal(1);
      expect((await conn.answer()).json.error?.code).to.equal(5005);
      expect((await conn.sql({ stmt: "FETCH 2 FROM f" })).json.rows).to.deep.equal([[1], [2]]);
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

  describe("/_blobs (§5)", () => {
    const HELLO = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"; // sha1("hello"): first byte 0xaa → home node 0 of 2
    const BLOB1 = "f7c1ce95e196982b82045b33cca4ea31b3011c2f"; // sha1("blob 1"): first byte 0xf7 → home node 1 of 2
    const ZERO = "0".repeat(40);
    const blob = async (u: string, path: string, init: RequestInit = {}): Promise<Answer> => {
      const res = await fetch(`${u}/_blobs/${path}`, { redirect: "manual", ...init });
      return { status: res.status, headers: res.headers, text: await res.text() };
    };
    /** Response headers without the hop-by-hop ones node:http adds (`connection`, `keep-alive`). */
    const headersOf = (a: Answer) => [...a.headers].filter(([k]) => k !== "connection" && k !== "keep-alive").sort();
    before(async () => {
      expect(D((await sql(url, { stmt: "CREATE BLOB TABLE files CLUSTERED INTO 3 SHARDS WITH (number_of_replicas = 0)" })).text)).to.equal(
        '{"cols":[],"rows":[[]],"rowcount":1,"duration":D}',
      );
      await sql(url, { stmt: "CREATE TABLE plain_t (id INT)" });
    });

    it("PUT: 201, then 409; 400 on a digest mismatch; 404 for an unknown table; 400 text for a SQL table", async () => {
      await c.resetLog();
      const put = (path: string, body: string) => blob(url, path, { method: "PUT", body });
      const created = await put(`files/${HELLO}`, "hello");
      expect([created.status, created.headers.get("content-length"), created.text]).to.deep.equal([201, "0", ""]);
      expect([(await put(`files/${HELLO}`, "hello")).status, (await put(`files/${HELLO}`, "other")).status], "exists").to.deep.equal([409, 409]);
      const mismatch = await put(`files/${ZERO}`, "hello");
      expect([mismatch.status, mismatch.headers.get("content-length"), mismatch.text]).to.deep.equal([400, "0", ""]);
      const unknown = await put(`nowhere/${HELLO}`, "hello");
      expect([unknown.status, unknown.headers.get("content-length"), unknown.text]).to.deep.equal([404, "0", ""]);
      const sqlTable = await put(`plain_t/${HELLO}`, "hello");
      expect([sqlTable.status, sqlTable.headers.get("content-type"), sqlTable.text]).to.deep.equal([
        400,
        null,
        "Invalid request sent: [.blob_plain_t] blobs not enabled on this index\n",
      ]);
      expect(await c.blob("files", HELLO)).to.deep.equal({ size: 5, sha1: HELLO });
      expect(await c.blob("blob.files", ZERO)).to.equal(null);
      const [first] = await c.requests(0);
      expect(first).to.include({ method: "PUT", url: `/_blobs/files/${HELLO}`, body: "<5 bytes>", wireBytes: 5, status: 201 });
    });

    it("PUT decodes a gzip body before hashing; DROP BLOB TABLE removes the table", async () => {
      const data = new TextEncoder().encode("z".repeat(3000));
      const digest = [...new Uint8Array(await crypto.subtle.digest("SHA-1", data))].map((b) => b.toString(16).padStart(2, "0")).join("");
      const gz = new Uint8Array(await new Response(new Blob([data]).stream().pipeThrough(new CompressionStream("gzip"))).arrayBuffer());
      await sql(url, { stmt: "CREATE BLOB TABLE scratch" });
      await c.resetLog();
      const put = await blob(url, `scratch/${digest}`, { method: "PUT", headers: { "content-encoding": "gzip" }, body: gz });
      expect(put.status).to.equal(201);
      expect(await c.blob("scratch", digest)).to.deep.equal({ size: 3000, sha1: digest });
      const [seen] = await c.requests(0);
      expect([seen?.body, seen?.wireBytes]).to.deep.equal(["<3000 bytes>", gz.length]);
      expect(D((await sql(url, { stmt: "DROP BLOB TABLE scratch" })).text)).to.equal('{"cols":[],"rows":[[]],"rowcount":1,"duration":D}');
      expect((await blob(url, `scratch/${digest}`)).status).to.equal(404);
      const again = await sql(url, { stmt: "DROP BLOB TABLE scratch" });
      expect([again.status, again.text]).to.deep.equal([404, '{"error":{"message":"RelationUnknown[Relation \'blob.scratch\' unknown]","code":4041}}']);
    });

    it("GET: the bytes with exactly the caching headers (no content-type); 404 with content-length 0 when missing", async function () {
      if (runtime === "browser") return notApplicable(this, `accept-ranges is hidden: ${HIDDEN_HEADERS}`);
      await blob(url, `files/${HELLO}`, { method: "PUT", body: "hello" });
      const got = await blob(c.urls[1] as string, `files/${HELLO}`); // no blobRedirects: every node serves every blob
      expect([got.status, got.text]).to.deep.equal([200, "hello"]);
      expect(headersOf(got)).to.deep.equal([
        ["accept-ranges", "bytes"],
        ["cache-control", "max-age=315360000"],
        ["content-length", "5"],
        ["expires", "Thu, 31 Dec 2037 23:59:59 GMT"],
      ]);
      const missing = await blob(url, `files/${ZERO}`);
      expect([missing.status, missing.text, headersOf(missing)]).to.deep.equal([404, "", [["content-length", "0"]]]);
    });

    it("GET with Range: 206 with content-range, 416 past the end, other forms ignored", async function () {
      if (runtime === "browser") return notApplicable(this, `content-range is hidden: ${HIDDEN_HEADERS}`);
      await blob(url, `files/${HELLO}`, { method: "PUT", body: "hello" });
      const ranged = async (range: string) => {
        const a = await blob(url, `files/${HELLO}`, { headers: { range } });
        return [a.status, a.headers.get("content-range"), a.headers.get("content-length"), a.text];
      };
      expect(await ranged("bytes=1-")).to.deep.equal([206, "bytes 1-4/5", "4", "ello"]);
      expect(await ranged("bytes=1-2")).to.deep.equal([206, "bytes 1-2/5", "2", "el"]);
      const partial = await blob(url, `files/${HELLO}`, { headers: { range: "bytes=0-0" } });
      expect(headersOf(partial)).to.deep.equal([
        ["accept-ranges", "bytes"],
        ["cache-control", "max-age=315360000"],
        ["content-length", "1"],
        ["content-range", "bytes 0-0/5"],
        ["expires", "Thu, 31 Dec 2037 23:59:59 GMT"],
      ]);
      expect(await ranged("bytes=6-")).to.deep.equal([416, null, "0", ""]);
      expect(await ranged("bytes=-2"), "suffix ranges are not understood").to.deep.equal([200, null, "5", "hello"]);
    });

    it("HEAD 200/404, DELETE 204/404, other methods 405, other /_blobs paths 404", async () => {
      await blob(url, `files/${HELLO}`, { method: "PUT", body: "hello" });
      const head = await blob(url, `files/${HELLO}`, { method: "HEAD" });
      expect([head.status, head.headers.get("content-length"), head.headers.get("content-type"), head.text]).to.deep.equal([200, "5", null, ""]);
      expect((await blob(url, `files/${ZERO}`, { method: "HEAD" })).status).to.equal(404);
      const post = await blob(url, `files/${HELLO}`, { method: "POST", body: "hello" });
      expect([post.status, post.headers.get("content-length"), post.text]).to.deep.equal([405, "0", ""]);
      expect((await blob(url, `nowhere/${HELLO}`, { method: "POST" })).status, "405 before the table lookup").to.equal(405);
      for (const path of [`_files/${HELLO}`, `files/${HELLO.toUpperCase()}`, `files/${HELLO}?x=1`, `files/${HELLO}/x`, "files"]) {
        const r = await blob(url, path);
        expect([r.status, r.headers.get("content-length"), r.text], path).to.deep.equal([404, "0", ""]);
      }
      const del = await blob(c.urls[1] as string, `files/${HELLO}`, { method: "DELETE" });
      expect([del.status, del.text]).to.deep.equal([204, ""]);
      expect((await blob(url, `files/${HELLO}`, { method: "DELETE" })).status).to.equal(404);
      expect((await blob(url, `files/${HELLO}`, { method: "HEAD" })).status).to.equal(404);
    });

    it("faults match blob paths by `path`", async () => {
      await c.fault({ node: 0, path: "/_blobs/files/", fault: { kind: "status", status: 503 } });
      expect((await sql(url, { stmt: "SELECT 1" })).status, "SQL is not matched").to.equal(200);
      expect((await blob(url, `files/${HELLO}`, { method: "PUT", body: "hello" })).status).to.equal(503);
      expect((await blob(url, `files/${HELLO}`, { method: "PUT", body: "hello" })).status).to.be.oneOf([201, 409]);
    });

    it("with blobRedirects, GET and HEAD away from the home node answer 307; PUT and DELETE are not redirected", async function () {
      if (runtime === "browser") return notApplicable(this, 'page JS cannot see a redirect: fetch with redirect: "manual" gives an opaque redirect');
      await withCluster({ nodes: 2, blobRedirects: true, pathPrefix: "/db" }, async (r) => {
        const [u0, u1] = r.urls as [string, string];
        await sql(u0, { stmt: "CREATE BLOB TABLE media" });
        expect((await blob(u0, `media/${BLOB1}`, { method: "PUT", body: "blob 1" })).status, "PUT at node 0").to.equal(201);
        for (const method of ["GET", "HEAD"]) {
          const moved = await blob(u0, `media/${BLOB1}`, { method });
          expect([moved.status, moved.headers.get("location"), moved.headers.get("content-length"), moved.text], method).to.deep.equal([
            307,
            `${u1}/_blobs/media/${BLOB1}`,
            "0",
            "",
          ]);
        }
        expect((await blob(u0, `media/${ZERO}`)).status, "missing blob, home node 0").to.equal(404);
        expect((await blob(u0, `media/${"1".repeat(40)}`)).status, "missing blob, home node 1").to.equal(307);
        expect((await blob(u0, `nowhere/${BLOB1}`)).status, "the table is checked first").to.equal(404);
        expect([(await blob(u1, `media/${BLOB1}`)).text, (await blob(u0, `media/${BLOB1}`, { redirect: "follow" })).text]).to.deep.equal(["blob 1", "blob 1"]);
        expect((await blob(u0, `media/${BLOB1}`, { method: "DELETE" })).status, "DELETE at node 0").to.equal(204);
        expect((await r.requests()).map((q) => `${q.node} ${q.method} ${q.status}`)).to.deep.equal([
          "0 POST 200", "0 PUT 201", "0 GET 307", "0 HEAD 307", "0 GET 404", "0 GET 307", "0 GET 404",
          "1 GET 200", "0 GET 307", "1 GET 200", "0 DELETE 204",
        ]);
      });
    });

    it("PUT with Expect: 100-continue gets 100 Continue at the home node and a 307 elsewhere", async function () {
      if (runtime !== "node") return notApplicable(this, "fetch cannot send Expect; this uses node:http's 'continue' event");
      const http = await import("node:http");
      const putExpect = (u: string, body: string) =>
        new Promise<{ status: number; continued: boolean; location: string | undefined }>((resolve, reject) => {
          let continued = false;
          const req = http.request(`${u}/_blobs/media/${BLOB1}`, { method: "PUT", agent: false, headers: { expect: "100-continue", "content-length": body.length } });
          req.on("continue", () => {
            continued = true;
            req.end(body);
          });
          req.on("response", (res) => {
            resolve({ status: res.statusCode ?? 0, continued, location: res.headers.location });
            res.resume();
            if (!continued) req.destroy(); // the body was never sent
          });
          req.on("error", (e) => (continued ? reject(e) : undefined));
          req.flushHeaders();
        });
      await withCluster({ nodes: 2, blobRedirects: true }, async (r) => {
        const [u0, u1] = r.urls as [string, string];
        await sql(u0, { stmt: "CREATE BLOB TABLE media" });
        expect(await putExpect(u0, "blob 1")).to.deep.equal({ status: 307, continued: false, location: `${u1}/_blobs/media/${BLOB1}` });
        expect(await putExpect(u1, "blob 1")).to.deep.equal({ status: 201, continued: true, location: undefined });
        expect(await r.blob("media", BLOB1)).to.deep.equal({ size: 6, sha1: BLOB1 });
      });
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

    it("status, html and respond answer instead of the node", async function () {
      if (runtime === "browser") return notApplicable(this, `the custom header x-a is hidden: ${HIDDEN_HEADERS}`);
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

    it("redirect points to the other node with the same path", async function () {
      if (runtime === "browser") return notApplicable(this, 'page JS cannot see a redirect: fetch with redirect: "manual" gives an opaque redirect (status 0, no Location header)');
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

    it("lists only running nodes in sys.nodes, rest_url without scheme", async () => {
      const restUrl = (u: string) => u.replace(/^https?:\/\//, "");
      const nodes = async () => JSON.parse((await sql(url, { stmt: "SELECT name, rest_url FROM sys.nodes" })).text).rows as string[][];
      expect(await nodes()).to.deep.equal([["crate-0", restUrl(c.urls[0] as string)], ["crate-1", restUrl(c.urls[1] as string)]]);
      await c.stopNode(1);
      try {
        expect(await nodes()).to.deep.equal([["crate-0", restUrl(c.urls[0] as string)]]);
        expect(JSON.parse((await sql(url, { stmt: "SELECT name FROM sys.nodes" })).text).rows).to.deep.equal([["crate-0"]]);
      } finally {
        await c.startNode(1);
      }
    });

    it("closes idle sockets after idleTimeout and serves under a path prefix", async function () {
      if (runtime === "browser") {
        return notApplicable(this, "the 404 outside the path prefix (a reverse proxy's) also answers the CORS preflight, " +
          "so the browser rejects the request with \"Failed to fetch\" and the page never sees the 404");
      }
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
    it("answers 401 as text with www-authenticate and records the user", async function () {
      if (runtime === "browser") return notApplicable(this, `www-authenticate is hidden: ${HIDDEN_HEADERS}`);
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
      if (nodeOnly()) return notApplicable(this, "sets Origin and Access-Control-Request-Method itself, which browsers forbid (spec/cors.spec.ts drives real preflights)");
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
      if (nodeOnly()) return notApplicable(this, "needs node:https for a custom CA and TLS versions");
      await withCluster({ tls: true, tlsVersions: { max: "TLSv1.2" } }, async (t) => {
        const u = t.urls[0] as string;
        const certs = t.certs!;
        expect(u).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
        expect((await httpsSql(u, { ca: certs.ca })).status).to.equal(200);
        await rejects(httpsSql(u, { ca: certs.otherCa }));
        await rejects(httpsSql(u, { ca: certs.ca, minVersion: "TLSv1.3" }));
      });
    });

    it("presents a second certificate, same CA, another key, with serverIdentity: \"second\"", async function () {
      if (nodeOnly()) return notApplicable(this, "needs node:tls to read the server certificate");
      const tls = await import("node:tls");
      const peerKey = (u: string, ca: string) => new Promise<string>((resolve, reject) => {
        const { hostname, port } = new URL(u);
        const socket = tls.connect({ host: hostname, port: Number(port), ca }, () => {
          const key = socket.getPeerCertificate().pubkey?.toString("base64") ?? "";
          socket.destroy();
          resolve(key);
        });
        socket.once("error", reject);
      });
      await withCluster({ tls: true }, async (first) => {
        await withCluster({ tls: true, serverIdentity: "second" }, async (second) => {
          const ca = first.certs!.ca;
          expect(second.certs!.ca).to.equal(ca);
          const [a, b] = await Promise.all([peerKey(first.urls[0] as string, ca), peerKey(second.urls[0] as string, ca)]);
          expect(a).to.not.equal("");
          expect(b, "another key").to.not.equal(a);
          expect((await httpsSql(second.urls[0] as string, { ca })).status, "verified by the same CA").to.equal(200);
        });
      });
    });

    it("requires a client certificate when clientCert is required", async function () {
      if (nodeOnly()) return notApplicable(this, "needs node:https for a client certificate");
      await withCluster({ tls: true, clientCert: "required" }, async (t) => {
        const u = t.urls[0] as string;
        const certs = t.certs!;
        await rejects(httpsSql(u, { ca: certs.ca }));
        expect((await httpsSql(u, { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey })).status).to.equal(200);
      });
    });
  });
});
