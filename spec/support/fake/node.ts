/**
 * One fake CrateDB node: a `node:http`/`node:https` server on 127.0.0.1 that keeps its port across stop/start,
 * tracks connections (stats, per-connection SQL sessions, idle timeout) and applies faults.
 *
 * Deviation accepted: node:http always writes a `Connection` header (`keep-alive`/`close`); CrateDB sends none.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import * as zlib from "node:zlib";
import type { ClusterOptions, NodeStats, SeenRequest } from "../cluster-api.js";
import type { ServerCerts } from "./certs.js";
import { executes, FaultBook, syntheticReply, writeReply, writeWithFault } from "./faults.js";
import { authenticate, corsHeaders, notFound, route, type NodeContext, type RequestInfo } from "./http.js";
import { textReply, type Reply } from "./reply.js";
import { statementOf } from "./sql-http.js";
import type { Db, Session } from "./sql.js";

/** What a node shares with its cluster. */
export interface ClusterShared {
  options: ClusterOptions;
  db: Db;
  faults: FaultBook;
  log: SeenRequest[];
  certs: ServerCerts | undefined;
  nodeUrl(node: number): string;
}

type AnySocket = Socket | TLSSocket;

export class FakeNode {
  port = 0;
  readonly stats: NodeStats = { connectionsOpened: 0, connectionsOpen: 0, requests: 0 };
  private server: http.Server | undefined;
  private readonly sockets = new Set<AnySocket>();
  private connSeq = 0;
  private readonly connIds = new WeakMap<AnySocket, number>();
  private readonly sessions = new WeakMap<AnySocket, Session>();
  private readonly idle = new WeakMap<AnySocket, NodeJS.Timeout>();

  constructor(
    readonly index: number,
    readonly name: string,
    private readonly cluster: ClusterShared,
  ) {}

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const o = this.cluster.options;
    const base: http.ServerOptions = { requestTimeout: 0, headersTimeout: 0, requireHostHeader: false, noDelay: true };
    let server: http.Server;
    if (o.tls) {
      const certs = this.cluster.certs;
      if (!certs) throw new Error("TLS cluster without certificates");
      const mode = o.clientCert ?? "none";
      const min = o.tlsVersions?.min;
      const opts: https.ServerOptions = {
        ...base,
        key: certs.serverKey,
        cert: certs.serverCert,
        ca: [certs.ca],
        requestCert: mode !== "none",
        rejectUnauthorized: mode === "required",
        ALPNProtocols: ["http/1.1"],
        ...(min ? { minVersion: min } : {}),
        ...(o.tlsVersions?.max ? { maxVersion: o.tlsVersions.max } : {}),
        // OpenSSL 3 refuses TLS 1.0/1.1 at the default security level.
        ...(min === "TLSv1" || min === "TLSv1.1" ? { ciphers: "DEFAULT:@SECLEVEL=0" } : {}),
      };
      server = https.createServer(opts);
      server.on("secureConnection", (s: TLSSocket) => this.opened(s));
      server.on("tlsClientError", () => {});
    } else {
      server = http.createServer(base);
    }
    server.keepAliveTimeout = 0; // CrateDB http.read_timeout = 0: idle keep-alive sockets are never closed
    server.on("connection", (s: Socket) => {
      this.track(s);
      if (!o.tls) this.opened(s);
    });
    server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.onRequest(req, res).catch((e: unknown) => {
        if (!res.headersSent && !res.destroyed) writeReply(res, textReply(500, String(e), true));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Close the listener and destroy every open socket (keep-alive and hanging ones included). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private track(s: AnySocket): void {
    this.sockets.add(s);
    s.on("close", () => this.sockets.delete(s));
  }

  private opened(s: AnySocket): void {
    this.track(s);
    this.connIds.set(s, ++this.connSeq);
    this.stats.connectionsOpened++;
    this.stats.connectionsOpen++;
    s.on("close", () => {
      this.stats.connectionsOpen--;
      this.disarmIdle(s);
    });
    this.armIdle(s);
  }

  private armIdle(s: AnySocket): void {
    const ms = this.cluster.options.idleTimeout;
    if (!ms || ms <= 0 || s.destroyed) return;
    this.disarmIdle(s);
    const t = setTimeout(() => s.destroy(), ms);
    t.unref();
    this.idle.set(s, t);
  }

  private disarmIdle(s: AnySocket): void {
    const t = this.idle.get(s);
    if (t) clearTimeout(t);
    this.idle.delete(s);
  }

  /** The per-connection session; `Default-Schema` only counts when it is created (or the user changed). */
  private session(s: AnySocket, user: string, defaultSchema: string | undefined): Session {
    const existing = this.sessions.get(s);
    if (existing && existing.user === user) return existing;
    const created: Session = { schema: defaultSchema || "doc", user };
    this.sessions.set(s, created);
    return created;
  }

  /** Strip the cluster's path prefix; undefined when the request does not carry it. */
  private stripPrefix(url: string): string | undefined {
    const prefix = this.cluster.options.pathPrefix ?? "";
    if (prefix === "") return url;
    if (url === prefix) return "/";
    if (url.startsWith(prefix + "/")) return url.slice(prefix.length);
    if (url.startsWith(prefix + "?")) return "/" + url.slice(prefix.length);
    return undefined;
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const socket = req.socket as AnySocket;
    this.disarmIdle(socket);
    this.stats.requests++;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const wire = Buffer.concat(chunks);
    let decoded: Buffer | undefined;
    let decodeError: string | undefined;
    try {
      decoded = decodeBody(wire, req.headers["content-encoding"]);
    } catch (e) {
      decodeError = e instanceof Error ? e.message : String(e);
    }
    const body = decoded?.toString("utf8") ?? "";
    const url = req.url ?? "/";
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    }
    const seen: SeenRequest = {
      node: this.index,
      connection: this.connIds.get(socket) ?? 0,
      method: req.method ?? "GET",
      url,
      headers,
      body,
      wireBytes: wire.length,
      user: null,
      status: null,
    };
    this.cluster.log.push(seen);
    res.on("finish", () => {
      seen.status = res.statusCode;
      this.armIdle(socket);
    });

    const tlsSocket = socket as TLSSocket;
    const clientCertCn =
      tlsSocket.encrypted && tlsSocket.authorized ? (tlsSocket.getPeerCertificate()?.subject?.CN as string | undefined) : undefined;
    const info: RequestInfo = { method: req.method ?? "GET", url, headers: req.headers, body, clientCertCn };
    const o = this.cluster.options;
    const stripped = this.stripPrefix(url);
    const fault = this.cluster.faults.take(this.index, url, () => statementOf(body));

    if (fault && !executes(fault)) {
      seen.user = authenticate(o, info).user;
      if (fault.kind === "reset-before-headers") {
        socket.destroy();
        return;
      }
      if (fault.kind === "hang") return; // the socket is destroyed by stopNode / cluster close
      const synthetic = syntheticReply(fault, (n) => this.cluster.nodeUrl(n), stripped ?? url);
      if (synthetic) {
        if (!synthetic.headers.some(([k]) => k === "access-control-allow-origin")) synthetic.headers.push(...corsHeaders(o, req.headers));
        writeReply(res, synthetic);
        return;
      }
    }

    let reply: Reply;
    if (decodeError !== undefined) {
      reply = textReply(500, decodeError, true); // Netty's decompressor failure ends in exceptionCaught → send500
      seen.user = authenticate(o, info).user;
    } else if (stripped === undefined) {
      reply = notFound(url); // a reverse proxy without a matching location
      reply.headers.push(...corsHeaders(o, req.headers));
    } else {
      const ctx: NodeContext = {
        options: o,
        nodeName: this.name,
        db: this.cluster.db,
        session: (user, schema) => this.session(socket, user, schema),
      };
      const r = route(ctx, { ...info, url: stripped });
      reply = r.reply;
      seen.user = r.user;
    }
    if (req.method === "HEAD") reply.noBody = true;
    if (fault) await writeWithFault(req, res, reply, fault);
    else writeReply(res, reply);
  }
}

/** Netty's `HttpContentDecompressor`: gzip/x-gzip/deflate/x-deflate are inflated, other encodings pass through. */
function decodeBody(wire: Buffer, encoding: string | undefined): Buffer {
  const enc = (encoding ?? "").trim().toLowerCase();
  if (wire.length === 0) return wire;
  if (enc === "gzip" || enc === "x-gzip") return zlib.gunzipSync(wire);
  if (enc === "deflate" || enc === "x-deflate") {
    try {
      return zlib.inflateSync(wire);
    } catch {
      return zlib.inflateRawSync(wire);
    }
  }
  return wire;
}
