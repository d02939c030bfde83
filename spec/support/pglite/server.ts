/**
 * A local HTTP server that speaks CrateDB's HTTP protocol and executes SQL for real on embedded PostgreSQL
 * (PGlite). A TEST DOUBLE, NOT CrateDB: see README.md in this folder for what differs.
 *
 * The HTTP layer is the protocol-faithful fake's (`../fake/`): CORS gate and authentication (`admit`), `/_sql` body
 * parsing and error envelopes (`parseSqlBody`, `errorReply`), compact JSON with exact numbers, reply writing.
 * Only `/_sql` execution is different: it goes to `Engine` (PGlite) instead of the fake's toy SQL engine.
 *
 *   const server = await startPgliteServer({ port: 0 });   // → { url: "http://127.0.0.1:PORT", close() }
 */
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { ClusterOptions } from "../cluster-api.js";
import { writeReply } from "../fake/faults.js";
import { decodeBody } from "../fake/node.js";
import { admit, corsHeaders, isBrowser, notFound, type RequestInfo } from "../fake/http.js";
import { JsonNumber, prettyJackson, stringify } from "../fake/json.js";
import { emptyReply, jsonReply, textReply, type Reply } from "../fake/reply.js";
import { errorReply, parseSqlBody, queryFlag } from "../fake/sql-http.js";
import { SqlError } from "../fake/sql-lexer.js";
import { Engine, type PgSession, type SqlResult } from "./engine.js";

export interface PgliteServerOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Listen address. @default "127.0.0.1" */
  host?: string;
  /** CORS as CrateDB's `http.cors.*` settings (protocol §6); off by default, as in CrateDB. */
  cors?: ClusterOptions["cors"];
  /** Password/JWT users as in the fake (`ClusterOptions.auth`); without it every request runs as `crate`. */
  auth?: ClusterOptions["auth"];
  /** `GET /` and `sys.cluster`. @default "pglite-crate" */
  clusterName?: string;
  /** `GET /` and `sys.nodes`. @default "pglite-0" */
  nodeName?: string;
  /** `GET /` version number. @default "6.4.3" */
  version?: string;
  /** Where the PGlite initdb template is cached; false disables the cache. @default node_modules/.cache/cratedb-fetch */
  cacheDir?: string | false;
  /** Keep the database on disk in this directory across restarts (see `EngineOptions.dataDir`). @default in memory */
  dataDir?: string;
  /** Progress lines while starting (e.g. the one-time initdb). @default silent */
  log?: (line: string) => void;
}

export interface PgliteServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const BUILD_HASH = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";

function header(h: RequestInfo["headers"], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Java-float-like milliseconds: always a decimal point, e.g. `0.123` or `2.0`. */
function duration(startMs: number): JsonNumber {
  const ms = Math.max(performance.now() - startMs, 0.001);
  const text = String(Math.round(ms * 1e6) / 1e6);
  return new JsonNumber(text.includes(".") ? text : text + ".0");
}


function resultJson(r: SqlResult, types: boolean, d: JsonNumber): string {
  if (r.kind === "rows") {
    return stringify({ cols: r.cols, col_types: types ? r.colTypes : undefined, rows: r.rows, rowcount: r.rows.length, duration: d });
  }
  return stringify({ cols: [], col_types: types ? [] : undefined, rows: [[]], rowcount: r.rowcount, duration: d });
}

export async function startPgliteServer(options: PgliteServerOptions = {}): Promise<PgliteServer> {
  const host = options.host ?? "127.0.0.1";
  const clusterOptions: ClusterOptions = { ...(options.cors ? { cors: options.cors } : {}), ...(options.auth ? { auth: options.auth } : {}) };
  const engine = await Engine.create({
    clusterName: options.clusterName ?? "pglite-crate",
    nodeName: options.nodeName ?? "pglite-0",
    version: options.version ?? "6.4.3",
    ...(options.cacheDir !== undefined ? { cacheDir: options.cacheDir } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}),
  });
  const sessions = new WeakMap<Socket, PgSession>();
  const sockets = new Set<Socket>();

  /** The connection's session; `Default-Schema` counts only when it is created (or the user changed). */
  const sessionOf = (socket: Socket, user: string, defaultSchema: string | undefined): PgSession => {
    const existing = sessions.get(socket);
    if (existing && existing.user === user) return existing;
    if (existing) void engine.closeCursors(existing); // a new user on the connection starts a new session
    const created: PgSession = { user, searchPath: [defaultSchema || "doc"] };
    sessions.set(socket, created);
    return created;
  };

  async function handleSql(body: string, url: string, session: PgSession): Promise<Reply> {
    const start = performance.now();
    try {
      const parsed = parseSqlBody(body);
      if (parsed.bulk) {
        if (parsed.bulk.length === 0) return jsonReply(200, `{"cols":[],"duration":${duration(start).text},"results":[]}`);
        const results = await engine.bulk(parsed.stmt, parsed.bulk, session);
        return jsonReply(200, stringify({ cols: [], duration: duration(start), results }));
      }
      const result = await engine.execute(parsed.stmt, parsed.args, session);
      return jsonReply(200, resultJson(result, queryFlag(url, "types"), duration(start)));
    } catch (e) {
      const err = e instanceof SqlError ? e : new SqlError(500, 5000, e instanceof Error ? e.name : "Exception", String(e));
      return errorReply(err, queryFlag(url, "error_trace"));
    }
  }

  function rootReply(method: string): Reply {
    if (method === "HEAD") return emptyReply(200);
    const doc = {
      ok: true,
      status: 200,
      name: options.nodeName ?? "pglite-0",
      cluster_name: options.clusterName ?? "pglite-crate",
      version: { number: options.version ?? "6.4.3", build_hash: BUILD_HASH, build_timestamp: "2026-07-01T10:11:12Z", build_snapshot: false, lucene_version: "10.4.0" },
    };
    const body = Buffer.from(prettyJackson(doc) + "\n", "utf8");
    return { status: 200, headers: [["content-type", "application/json"], ["content-length", String(body.length)]], body };
  }

  async function dispatch(req: RequestInfo, socket: Socket, user: string): Promise<Reply> {
    const url = req.url;
    const path = url.split("?")[0] ?? url;
    if (url.startsWith("/_sql")) return handleSql(req.body, url, sessionOf(socket, user, header(req.headers, "default-schema")));
    if (url.startsWith("/_blobs")) return emptyReply(404); // no blob tables in the SQL mode
    if (url === "/") {
      const accept = header(req.headers, "accept") ?? "";
      if (accept.includes("application/json") || !isBrowser(header(req.headers, "user-agent"))) return rootReply(req.method);
      const html = Buffer.from("<!DOCTYPE html><html><head><title>CrateDB test double (PGlite)</title></head><body></body></html>\n");
      return { status: 200, headers: [["content-type", "text/html"], ["content-length", String(html.length)]], body: html };
    }
    if (path === "/admin" || path === "/_plugin/crate-admin") return emptyReply(307, [["location", "/"]]);
    if (req.method === "GET") return notFound(url);
    return textReply(403, `POST method is not allowed for [${url}]`);
  }

  async function onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const info: RequestInfo = { method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body: "", clientCertCn: undefined };
    let reply: Reply;
    try {
      info.body = decodeBody(Buffer.concat(chunks), header(req.headers, "content-encoding")).toString("utf8");
    } catch (e) {
      writeReply(res, textReply(500, e instanceof Error ? e.message : String(e), true));
      return;
    }
    const admitted = admit(clusterOptions, info);
    if (admitted.reply) {
      reply = admitted.reply;
    } else {
      reply = await dispatch(info, req.socket, admitted.user);
      reply.headers.push(...corsHeaders(clusterOptions, req.headers));
    }
    if (req.method === "HEAD") reply.noBody = true;
    writeReply(res, reply);
  }

  const server = http.createServer({ requestTimeout: 0, headersTimeout: 0, requireHostHeader: false, noDelay: true }, (req, res) => {
    onRequest(req, res).catch((e: unknown) => {
      if (!res.headersSent && !res.destroyed) writeReply(res, textReply(500, String(e), true));
    });
  });
  server.keepAliveTimeout = 0; // CrateDB http.read_timeout = 0: idle keep-alive sockets stay open
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => {
      sockets.delete(s);
      const session = sessions.get(s);
      if (session) void engine.closeCursors(session); // CrateDB ends the session, and its cursors, with the connection
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    await engine.close();
    throw e;
  }
  const port = (server.address() as AddressInfo).port;
  await engine.setRestUrl(host, port);
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
        await closed;
        await engine.close();
      })()),
  };
}
