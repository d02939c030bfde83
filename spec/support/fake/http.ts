/**
 * Routing, authentication and CORS of one fake node (protocol §0, §2.4, §3, §4, §6, §9).
 * Pure functions from a request description to a `Reply`; sockets and faults live in `node.ts`/`faults.ts`.
 */
import type { ClusterOptions } from "../cluster-api.js";
import { prettyJackson } from "./json.js";
import { emptyReply, textReply, type Reply } from "./reply.js";
import { handleSql } from "./sql-http.js";
import type { Db, Session } from "./sql.js";

export interface RequestInfo {
  method: string;
  /** Request target with the path prefix already stripped. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** CN of a verified TLS client certificate, if any. */
  clientCertCn: string | undefined;
}

export interface NodeContext {
  options: ClusterOptions;
  nodeName: string;
  db: Db;
  /** The per-connection session, created (with `Default-Schema`) on first use or when the user changes. */
  session(user: string, defaultSchema: string | undefined): Session;
  /** Register a `/_sql` statement as a running job of `user`; the returned function ends it. */
  job(user: string, stmt: string): () => void;
}

const BUILD_HASH = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
const BUILD_TIMESTAMP = "2026-07-01T10:11:12Z";
const LUCENE_VERSION = "10.4.0";

function header(h: RequestInfo["headers"], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

// ---------------------------------------------------------------- authentication (§3)

export type AuthResult = { user: string } | { user: null; reply: Reply };

const unauthorized = (message: string): AuthResult => {
  const r = textReply(401, message + "\n", true);
  r.headers.unshift(["www-authenticate", 'Basic realm="CrateDB Authenticator"']);
  return { user: null, reply: r };
};
const malformed = (message: string): AuthResult => ({ user: null, reply: textReply(500, message, true) });

export function authenticate(options: ClusterOptions, req: Pick<RequestInfo, "headers" | "clientCertCn">): AuthResult {
  const auth = options.auth;
  if (!auth) return { user: "crate" }; // trust: every request runs as `crate`
  const users = auth.users ?? {};
  const value = header(req.headers, "authorization");
  if (value === undefined) {
    if (req.clientCertCn !== undefined && Object.hasOwn(users, req.clientCertCn)) return { user: req.clientCertCn };
    if (users["crate"] === "") return { user: "crate" };
    return unauthorized(
      `No valid auth.host_based.config entry found for host "127.0.0.1", user "crate", protocol "http". Did you enable TLS in your client?`,
    );
  }
  const parts = value.split(" ");
  const scheme = (parts[0] ?? "").toLowerCase();
  const cred = parts[1];
  if (!cred) {
    return malformed("Authorization header must contain auth scheme (basic, bearer) and base64 encoded value separated by a whitespace");
  }
  if (scheme === "basic") {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(cred) || cred.length % 4 === 1) {
      return malformed(`Illegal base64 character ${(cred.match(/[^A-Za-z0-9+/=]/)?.[0] ?? "=").charCodeAt(0).toString(16)}`);
    }
    const decoded = Buffer.from(cred, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const user = colon < 0 ? decoded : decoded.slice(0, colon);
    const password = colon < 0 ? "" : decoded.slice(colon + 1);
    if (Object.hasOwn(users, user) && users[user] === password) return { user };
    return unauthorized(`password authentication failed for user "${user}"`);
  }
  if (scheme === "bearer") {
    const tokens = auth.tokens ?? {};
    const user = Object.hasOwn(tokens, cred) ? tokens[cred] : undefined;
    if (user !== undefined) return { user };
    return unauthorized("jwt authentication failed for user unknown. Reason: The token was not issued for this cluster");
  }
  return malformed("Only basic or bearer HTTP Authentication schemes are allowed.");
}

// ---------------------------------------------------------------- CORS (§6)

interface Cors {
  anyOrigin: boolean;
  origins: string[];
  regex: RegExp | undefined;
  methods: string[];
  headers: string[];
  credentials: boolean;
}

const splitList = (s: string) => s.split(",").map((x) => x.trim()).filter((x) => x !== "");

function corsConfig(options: ClusterOptions): Cors | undefined {
  const c = options.cors;
  if (!c) return undefined;
  const origin = c.allowOrigin ?? "";
  const isRegex = origin.length > 1 && origin.startsWith("/") && origin.endsWith("/");
  return {
    anyOrigin: origin === "*",
    origins: isRegex || origin === "*" ? [] : splitList(origin),
    regex: isRegex ? new RegExp(`^(?:${origin.slice(1, -1)})$`) : undefined,
    methods: splitList(c.allowMethods ?? "OPTIONS,HEAD,GET,POST,PUT,DELETE"),
    headers: splitList(c.allowHeaders ?? "X-Requested-With,Content-Type,Content-Length"),
    credentials: c.allowCredentials ?? false,
  };
}

function originAllowed(cors: Cors, origin: string): boolean {
  if (cors.anyOrigin) return true;
  if (origin === "null") return false;
  return cors.origins.includes(origin) || (cors.regex?.test(origin) ?? false);
}

/** Preflight answer or 403 short-circuit; undefined when the request continues to auth and routing. */
function corsGate(cors: Cors, req: RequestInfo): Reply | undefined {
  const origin = header(req.headers, "origin");
  if (origin === undefined) return undefined;
  const preflight = req.method === "OPTIONS" && header(req.headers, "access-control-request-method") !== undefined;
  if (preflight) {
    if (!originAllowed(cors, origin)) return forbiddenCors();
    const echo = !cors.anyOrigin || cors.credentials;
    const headers: Array<[string, string | string[]]> = [["access-control-allow-origin", echo ? origin : "*"]];
    if (echo) headers.push(["vary", "origin"]);
    headers.push(["access-control-allow-methods", cors.methods], ["access-control-allow-headers", cors.headers]);
    if (cors.credentials && echo) headers.push(["access-control-allow-credentials", "true"]);
    headers.push(["access-control-max-age", "1728000"], ["date", new Date().toUTCString()], ["content-length", "0"]);
    return { status: 200, headers, body: Buffer.alloc(0), close: true };
  }
  const sameOrigin = origin.replace(/^https?:\/\//, "") === header(req.headers, "host");
  return originAllowed(cors, origin) || sameOrigin ? undefined : forbiddenCors();
}

// Netty sends neither content-length nor transfer-encoding here; node:http adds `content-length: 0` (harmless: closed).
const forbiddenCors = (): Reply => emptyReply(403, [], true);

/** Headers CrateDB's CORS handler adds to every non-preflight response. */
export function corsHeaders(options: ClusterOptions, reqHeaders: RequestInfo["headers"]): Array<[string, string]> {
  const cors = corsConfig(options);
  if (!cors) return [];
  const origin = header(reqHeaders, "origin");
  const out: Array<[string, string]> = [];
  if (cors.anyOrigin && (origin === undefined || !cors.credentials)) out.push(["access-control-allow-origin", "*"]);
  else if (origin !== undefined) out.push(["access-control-allow-origin", origin]);
  if (cors.credentials) out.push(["access-control-allow-credentials", "true"]);
  return out;
}

// ---------------------------------------------------------------- routing (§0, §4, §9.1)

export function isBrowser(userAgent: string | undefined): boolean {
  const first = (userAgent ?? "").trim().split(/\s+/)[0] ?? "";
  return /^(Mozilla|Chrome|Safari|Opera|Android|AppleWebKit)[/ ][0-9.]+/.test(first);
}

function rootReply(ctx: NodeContext, req: RequestInfo): Reply {
  const o = ctx.options;
  const status = 200;
  if (req.method === "HEAD") return emptyReply(status);
  const doc = {
    ok: status === 200,
    status,
    name: ctx.nodeName || undefined,
    cluster_name: o.clusterName ?? "fake-crate",
    version: {
      number: o.version ?? "6.4.3",
      build_hash: BUILD_HASH,
      build_timestamp: BUILD_TIMESTAMP,
      build_snapshot: false,
      lucene_version: LUCENE_VERSION,
    },
  };
  const body = Buffer.from(prettyJackson(doc) + "\n", "utf8");
  return { status, headers: [["content-type", "application/json"], ["content-length", String(body.length)]], body };
}

/**
 * The handlers in front of every router (§0 steps 4–5): CORS gate, then authentication. A `reply` means the
 * request ends here (preflight, CORS 403, 401, malformed `Authorization`); the 401/500 already carry the CORS headers.
 */
export function admit(options: ClusterOptions, req: RequestInfo): { user: string; reply?: undefined } | { user: string | null; reply: Reply } {
  const cors = corsConfig(options);
  const gate = cors ? corsGate(cors, req) : undefined;
  if (gate) return { reply: gate, user: null };
  const auth = authenticate(options, req);
  if (auth.user === null) {
    auth.reply.headers.push(...corsHeaders(options, req.headers));
    return auth;
  }
  return { user: auth.user };
}

/** Full pipeline after the path prefix: CORS gate → auth → router → CORS response headers. */
export function route(ctx: NodeContext, req: RequestInfo): { reply: Reply; user: string | null } {
  const admitted = admit(ctx.options, req);
  if (admitted.reply) return admitted;
  const reply = dispatch(ctx, req, admitted.user);
  reply.headers.push(...corsHeaders(ctx.options, req.headers));
  return { reply, user: admitted.user };
}

function dispatch(ctx: NodeContext, req: RequestInfo, user: string): Reply {
  const url = req.url;
  const path = url.split("?")[0] ?? url;
  if (url.startsWith("/_blobs")) return emptyReply(404); // not reached: node.ts streams `/_blobs…` through blobs.ts (§5)
  if (url.startsWith("/_sql")) {
    const session = ctx.session(user, header(req.headers, "default-schema"));
    return handleSql({ body: req.body, url, session, db: ctx.db, job: (stmt) => ctx.job(user, stmt) });
  }
  if (url === "/") {
    const accept = header(req.headers, "accept") ?? "";
    if (accept.includes("application/json") || !isBrowser(header(req.headers, "user-agent"))) return rootReply(ctx, req);
    const html = Buffer.from("<!DOCTYPE html><html><head><title>CrateDB Admin UI</title></head><body></body></html>\n");
    return { status: 200, headers: [["content-type", "text/html"], ["content-length", String(html.length)]], body: html };
  }
  if (path === "/admin" || path === "/_plugin/crate-admin") return emptyReply(307, [["location", "/"]]);
  if (req.method === "GET") return notFound(url);
  return textReply(403, `POST method is not allowed for [${url}]`);
}

export function notFound(url: string): Reply {
  const path = url.split("?")[0] ?? url;
  return textReply(404, `Requested file [${path.replace(/^\//, "")}] was not found`);
}
