// Bench server: a separate Node process answering the CrateDB HTTP protocol as cheaply as possible,
// so that client costs dominate. Raw `node:net` with a minimal HTTP/1.1 parser (Content-Length and
// chunked request bodies, gzip/deflate request bodies, keep-alive, `Connection: close`), answers
// pre-serialised once. Faithful to protocol §0/§1.5/§7: lower-case `content-type:
// application/json; charset=UTF-8` and exact `content-length`, no Date/Server/Connection headers,
// compact JSON in field order, `col_types` only with `?types`, the request's HTTP version echoed,
// no idle close. Routes: POST /_sql (any method, URI prefix /_sql), GET / (node info), and
// GET /_bench/cpu (bench-only: the server's CPU time, to tell whether the server was the bottleneck).
// The stream scenario's minimal cursor protocol, per socket as in CrateDB (a cursor lives on its HTTP
// connection): `DECLARE <name> [NO SCROLL] CURSOR [WITH[OUT] HOLD] FOR <stream statement>`,
// `FETCH <n> FROM <name>` (also `FETCH ALL`/`NEXT`) and `CLOSE <name>`/`CLOSE ALL`; the rows are
// serialised once and each FETCH joins a slice of them.
//
// Usage: node spec/bench/server.mjs [--port N] [--stdin-lifeline]  → prints BENCH_URL=http://127.0.0.1:PORT
// Exits on SIGTERM/SIGINT, and with --stdin-lifeline also when stdin closes (the parent died).
import net from "node:net";
import zlib from "node:zlib";
import { LARGE_COLS, LARGE_TYPES, STMT, STREAM_ROWS, bulkBody, largeBody, largeRows, pointBody, smallBody } from "./data.mjs";

const portArg = process.argv.indexOf("--port");
const PORT = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
const MAX_HEAD = 16 * 1024;
const MAX_BODY = 100 * 1024 * 1024;

const norm = (s) => s.trim().replace(/;\s*$/, "").replace(/\s+/g, " ").toLowerCase();

// statement → [body with col_types, body without] (the second built lazily)
const answers = new Map();
function preserialise(stmt, make, { lazy = false } = {}) {
  answers.set(norm(stmt), { typed: lazy ? null : Buffer.from(make({ types: true })), untyped: null, make });
}
preserialise(STMT.point, pointBody);
preserialise(STMT.small, smallBody);
preserialise(STMT.large, (o) => largeBody("safe", o));
preserialise(STMT.unsafe, (o) => largeBody("unsafe", o));
const bulkNorm = norm(STMT.bulk);
const streamNorm = norm(STMT.stream);
let streamRows; // the stream table's rows as JSON texts, built on first use
const streamTexts = () => (streamRows ??= largeRows("safe", STREAM_ROWS));
preserialise(STMT.stream, (o) => `{${LARGE_COLS},${o.types ? `${LARGE_TYPES},` : ""}"rows":[${streamTexts().join(",")}],"rowcount":${STREAM_ROWS},"duration":412.5}`, { lazy: true });
const CURSOR_RE = /^(declare|fetch|close)\b/;
const DECLARE_RE = /^declare ([a-z_][a-z0-9_]*) (?:no scroll |scroll )?cursor (?:with hold |without hold )?for (.*)$/;
const FETCH_RE = /^fetch (?:(\d+|all|next) )?(?:from |in )?([a-z_][a-z0-9_]*)$/;
const CLOSE_RE = /^close ([a-z_][a-z0-9_]*)$/;
const countBody = (types, n) => Buffer.from(`{"cols":[],${types ? '"col_types":[],' : ""}"rows":[[]],"rowcount":${n},"duration":0.105}`);

/** DECLARE/FETCH/CLOSE on one socket's cursors (a Map name → next row index). */
function cursorSql(cursors, stmt, raw, types) {
  let m;
  if ((m = DECLARE_RE.exec(stmt)) !== null) {
    if (m[2] !== streamNorm) return sqlError(400, 4000, `SQLParseException[bench server cursors serve only '${STMT.stream}']`);
    if (cursors.has(m[1])) return sqlError(400, 4000, `SQLParseException[Cursor \`${m[1]}\` already exists]`);
    cursors.set(m[1], 0);
    return { status: 200, body: countBody(types, 0) };
  }
  if ((m = FETCH_RE.exec(stmt)) !== null) {
    const at = cursors.get(m[2]);
    if (at === undefined) return sqlError(400, 4000, `SQLParseException[No cursor named \`${m[2]}\` available]`);
    const texts = streamTexts();
    const n = m[1] === undefined || m[1] === "next" ? 1 : m[1] === "all" ? texts.length : Number(m[1]);
    const end = Math.min(at + n, texts.length);
    cursors.set(m[2], end);
    const rows = texts.slice(at, end).join(",");
    return { status: 200, body: Buffer.from(`{${LARGE_COLS},${types ? `${LARGE_TYPES},` : ""}"rows":[${rows}],"rowcount":${end - at},"duration":0.731}`) };
  }
  if ((m = CLOSE_RE.exec(stmt)) !== null) {
    if (m[1] === "all") cursors.clear();
    else if (!cursors.delete(m[1])) return sqlError(400, 4000, `SQLParseException[No cursor named \`${m[1]}\` available]`);
    return { status: 200, body: countBody(types, 1) };
  }
  return sqlError(400, 4000, `SQLParseException[bench server cannot parse '${raw.slice(0, 100)}']`);
}
const bulkCache = new Map();

const JSON_CT = "content-type: application/json; charset=UTF-8\r\n";
const REASONS = { 200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Request Entity Too Large", 500: "Internal Server Error" };

function head(version, status, length, contentType, close) {
  // HTTP/1.0 with keep-alive gets `connection: Keep-Alive` (protocol §1.3); nothing else is added.
  const keep = version === "HTTP/1.0" && !close ? "connection: Keep-Alive\r\n" : "";
  return Buffer.from(`${version} ${status} ${REASONS[status] ?? "Unknown"}\r\n${contentType}content-length: ${length}\r\n${keep}\r\n`, "latin1");
}

function sqlError(status, code, message) {
  return { status, body: Buffer.from(JSON.stringify({ error: { message, code } })) };
}

function hasFlag(query, name) {
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? "" : part.slice(eq + 1);
    if (k === name && (v === "" || v === "true")) return true;
  }
  return false;
}

/** Answers one /_sql request: { status, body }. `cursors`: the socket's open cursors. */
function sql(target, bodyBuf, cursors) {
  const q = target.indexOf("?");
  const types = q >= 0 && hasFlag(target.slice(q + 1), "types");
  if (bodyBuf.length === 0) return sqlError(400, 4000, "SQLParseException[Missing request body]");
  let req;
  try {
    req = JSON.parse(bodyBuf.toString("utf8"));
  } catch {
    return sqlError(400, 4000, `SQLParseException[Can't parse [${bodyBuf.toString("utf8").slice(0, 200)}]. Expecting payload with \`stmt\` string and \`args\` or \`bulk_args\` arrays]`);
  }
  if (req === null || typeof req !== "object" || !("stmt" in req)) return sqlError(500, 5000, "SQLParseSourceException[Field [stmt] is missing]");
  if (typeof req.stmt !== "string" || req.stmt === "") return sqlError(500, 5000, "SQLParseSourceException[Field [stmt] has no value]");
  const stmt = norm(req.stmt);
  if (req.args === undefined && req.bulk_args !== undefined) {
    if (!Array.isArray(req.bulk_args)) return sqlError(500, 5000, "SQLParseSourceException[Field [bulk_args] has an invalid value]");
    if (stmt !== bulkNorm) return sqlError(400, 4004, "UnsupportedFeatureException[Bulk operations for statements that return result sets is not supported]");
    const n = req.bulk_args.length;
    let body = bulkCache.get(n);
    if (body === undefined) bulkCache.set(n, (body = Buffer.from(bulkBody(n))));
    return { status: 200, body };
  }
  if (CURSOR_RE.test(stmt)) return cursorSql(cursors, stmt, req.stmt, types);
  if (stmt === bulkNorm) {
    return { status: 200, body: Buffer.from(`{"cols":[],${types ? '"col_types":[],' : ""}"rows":[[]],"rowcount":1,"duration":0.48125}`) };
  }
  const a = answers.get(stmt);
  if (a === undefined) return sqlError(404, 4041, `RelationUnknown[bench server knows no statement '${req.stmt.slice(0, 100)}']`);
  if (types) return { status: 200, body: (a.typed ??= Buffer.from(a.make({ types: true }))) };
  a.untyped ??= Buffer.from(a.make({ types: false }));
  return { status: 200, body: a.untyped };
}

// Cache of complete responses for small identical requests (the point/small scenarios): key = target + body.
const responseCache = new Map();
const CACHEABLE = 2048;
const CURSOR_STMT = /^\{"stmt":"\s*(declare|fetch|close)\b/i;
const cpuBase = process.cpuUsage();
let requests = 0;

function respond(socket, cursors, version, method, target, headers, body, close) {
  requests++;
  let status;
  let payload;
  let ct = JSON_CT;
  if (target.startsWith("/_sql")) {
    // Cursor statements have state: never cached (encodeBody puts "stmt" first).
    const key = body.length <= CACHEABLE && !CURSOR_STMT.test(body.toString("latin1", 0, 40)) ? `${version} ${target}\n${body.toString("latin1")}` : undefined;
    const cached = key === undefined ? undefined : responseCache.get(key);
    if (cached !== undefined && !close) return void socket.write(cached);
    ({ status, body: payload } = sql(target, body, cursors));
    if (key !== undefined && status === 200 && !close && responseCache.size < 1000) {
      const full = Buffer.concat([head(version, status, payload.length, ct, close), payload]);
      responseCache.set(key, full);
      return void socket.write(full);
    }
  } else if (target === "/_bench/cpu") {
    const u = process.cpuUsage(cpuBase);
    status = 200;
    payload = Buffer.from(JSON.stringify({ user: u.user, system: u.system, requests }));
  } else if (target === "/" && (method === "GET" || method === "HEAD")) {
    status = 200;
    ct = "content-type: application/json\r\n";
    payload = Buffer.from(JSON.stringify({ ok: true, status: 200, name: "bench", cluster_name: "bench",
      version: { number: "6.4.3", build_hash: "0000000", build_timestamp: "2026-08-21T00:00:00Z", build_snapshot: false, lucene_version: "10.2.2" } }));
  } else {
    status = 404;
    ct = "";
    payload = Buffer.from(`No handler found for uri [${target}] and method [${method}]`);
  }
  const h = head(version, status, payload.length, ct, close);
  if (method === "HEAD") socket.write(h);
  else if (payload.length < 64 * 1024) socket.write(Buffer.concat([h, payload]));
  else {
    socket.cork();
    socket.write(h);
    socket.write(payload);
    socket.uncork();
  }
}

/** Parses a complete chunked body starting at `from`; null while incomplete. */
function parseChunked(buf, from) {
  const parts = [];
  let pos = from;
  for (;;) {
    const eol = buf.indexOf("\r\n", pos, "latin1");
    if (eol < 0) return null;
    const size = parseInt(buf.toString("latin1", pos, eol).split(";")[0], 16);
    if (Number.isNaN(size)) throw new Error("bad chunk size");
    if (size === 0) {
      // trailers end with an empty line
      const end = buf.indexOf("\r\n\r\n", eol, "latin1");
      if (end === eol) return { body: Buffer.concat(parts), end: eol + 4 };
      if (end < 0) return null;
      return { body: Buffer.concat(parts), end: end + 4 };
    }
    if (eol + 2 + size + 2 > buf.length) return null;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    pos = eol + 2 + size + 2;
  }
}

function decodeBody(body, encoding) {
  if (encoding === undefined || encoding === "identity") return body;
  if (encoding === "gzip" || encoding === "x-gzip") return zlib.gunzipSync(body);
  if (encoding === "deflate") return zlib.inflateSync(body);
  throw new Error(`unsupported content-encoding ${encoding}`);
}

function onConnection(socket) {
  socket.setNoDelay(true);
  const cursors = new Map(); // this connection's SQL cursors: name → next row
  let buf = Buffer.alloc(0);
  let pending = null; // { version, method, target, headers, close, length, chunks, got }

  function fail(status, message) {
    socket.end(Buffer.concat([head("HTTP/1.1", status, Buffer.byteLength(message), "", true), Buffer.from(message)]));
    socket.destroySoon?.();
  }

  socket.on("data", (chunk) => {
    // Fast path: a known-length body arriving in pieces.
    if (pending !== null && pending.length !== undefined) {
      pending.chunks.push(chunk);
      pending.got += chunk.length;
      if (pending.got < pending.length) return;
      const all = Buffer.concat(pending.chunks);
      buf = all.subarray(pending.length);
      const p = pending;
      pending = null;
      finish(p, all.subarray(0, p.length));
    } else {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    }
    loop();
  });

  function finish(p, rawBody) {
    let body;
    try {
      body = decodeBody(rawBody, p.headers["content-encoding"]);
    } catch (err) {
      return fail(400, String(err.message));
    }
    respond(socket, cursors, p.version, p.method, p.target, p.headers, body, p.close);
    if (p.close) socket.end();
  }

  function loop() {
    while (buf.length > 0 && pending === null && !socket.destroyed) {
      const end = buf.indexOf("\r\n\r\n", 0, "latin1");
      if (end < 0) {
        if (buf.length > MAX_HEAD) fail(400, "request header too large");
        return;
      }
      const lines = buf.toString("latin1", 0, end).split("\r\n");
      const [method, target, version] = lines[0].split(" ");
      if (!method || !target || !version?.startsWith("HTTP/1.")) return fail(400, "bad request line");
      const headers = {};
      for (let i = 1; i < lines.length; i++) {
        const c = lines[i].indexOf(":");
        if (c > 0) headers[lines[i].slice(0, c).trim().toLowerCase()] = lines[i].slice(c + 1).trim();
      }
      const conn = (headers.connection ?? "").toLowerCase();
      const close = conn === "close" || (version === "HTTP/1.0" && conn !== "keep-alive");
      const start = end + 4;
      if (headers.expect?.toLowerCase() === "100-continue") socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      const p = { version, method, target, headers, close, length: undefined, chunks: [], got: 0 };
      if ((headers["transfer-encoding"] ?? "").toLowerCase().includes("chunked")) {
        let parsed;
        try {
          parsed = parseChunked(buf, start);
        } catch {
          return fail(400, "bad chunked body");
        }
        if (parsed === null) return; // wait for more data; re-parse from the head next time
        buf = buf.subarray(parsed.end);
        finish(p, parsed.body);
        continue;
      }
      const length = Number(headers["content-length"] ?? 0);
      if (!Number.isSafeInteger(length) || length < 0) return fail(400, "bad content-length");
      if (length > MAX_BODY) return fail(413, "");
      if (buf.length - start >= length) {
        const body = buf.subarray(start, start + length);
        buf = buf.subarray(start + length);
        finish(p, body);
        continue;
      }
      p.length = length;
      p.chunks.push(buf.subarray(start));
      p.got = buf.length - start;
      buf = Buffer.alloc(0);
      pending = p;
    }
  }

  socket.on("error", () => socket.destroy());
}

const server = net.createServer({ noDelay: true }, onConnection);
server.listen(PORT, "127.0.0.1", () => {
  process.stdout.write(`BENCH_URL=http://127.0.0.1:${server.address().port}\n`);
});

const stop = () => process.exit(0);
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
if (process.argv.includes("--stdin-lifeline")) {
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
}
