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
import type { ClusterOptions, Fault, NodeStats, SeenRequest } from "../cluster-api.js";
import type { ServerCerts } from "./certs.js";
import { executes, FaultBook, syntheticReply, writeReply, writeWithFault } from "./faults.js";
import { BlobBody, handleBlob, writeBlobReply, type BlobNode } from "./blobs.js";
import { admit, authenticate, corsHeaders, notFound, route, type NodeContext, type RequestInfo } from "./http.js";
import { textReply, type Reply } from "./reply.js";
import { jobKilled, type Job, type JobNode } from "./jobs.js";
import { errorReply, queryFlag, statementOf } from "./sql-http.js";
import type { Db, Session } from "./sql.js";

/** What a node shares with its cluster. */
export interface ClusterShared {
  options: ClusterOptions;
  db: Db;
  faults: FaultBook;
  log: SeenRequest[];
  certs: ServerCerts | undefined;
  nodeUrl(node: number): string;
  /** `nodeUrl(node)` while that node is listening, else undefined (blob redirects). */
  liveNodeUrl(node: number): string | undefined;
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
  /** How `sys.jobs.node` names this node. */
  readonly ref: JobNode;

  constructor(
    readonly index: number,
    readonly name: string,
    private readonly cluster: ClusterShared,
  ) {
    this.ref = { index, id: crypto.randomUUID().replace(/-/g, "").slice(0, 22), name };
  }

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
    const handle = (expectContinue: boolean) => (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.onRequest(req, res, expectContinue).catch((e: unknown) => {
        if (!res.headersSent && !res.destroyed) writeReply(res, textReply(500, String(e), true));
      });
    };
    server.on("request", handle(false));
    // `Expect: 100-continue`: a blob PUT decides itself (CrateDB may answer 307/404/401 instead); others continue at once.
    server.on("checkContinue", handle(true));
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
      this.sessions.get(s)?.cursors?.closeAll(); // the session ends with its connection, and its cursors with it
      this.sessions.delete(s);
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
    existing?.cursors?.closeAll(); // a new user on the connection starts a new session
    const created: Session = { schema: defaultSchema || "doc", user, node: this.ref };
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

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse, expectContinue: boolean): Promise<void> {
    const socket = req.socket as AnySocket;
    this.disarmIdle(socket);
    this.stats.requests++;
    const blobUrl = this.stripPrefix(req.url ?? "/");
    if (blobUrl?.startsWith("/_blobs")) return this.onBlobRequest(req, res, blobUrl, expectContinue);
    if (expectContinue) res.writeContinue();
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
    const seen = this.record(req, res, body, wire.length);
    const info: RequestInfo = { method: req.method ?? "GET", url, headers: req.headers, body, clientCertCn: this.clientCertCn(socket) };
    const o = this.cluster.options;
    const stripped = this.stripPrefix(url);
    // A browser's CORS preflight is its own traffic, not the request under test (requests() hides it
    // too): faults never fire on it, so a fault set up for the next query hits that query.
    const preflight = o.cors !== undefined && req.method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    const fault = preflight ? undefined : this.cluster.faults.take(this.index, url, () => statementOf(body));

    if (fault && !executes(fault) && (await this.answerInstead(fault, req, res, socket, seen, info, stripped ?? url))) return;
    let held: Job | undefined;
    if (fault?.kind === "job" && decodeError === undefined && stripped?.startsWith("/_sql")) {
      const user = authenticate(o, info).user;
      const stmt = statementOf(body);
      if (user !== null && stmt !== undefined) {
        held = this.cluster.db.jobs.begin(this.ref, user, stmt, fault.planMs ?? 30);
        const killedBy = await this.cluster.db.jobs.hold(held, fault.ms);
        if (killedBy !== undefined) {
          seen.user = user;
          const killed = errorReply(jobKilled(killedBy), queryFlag(stripped, "error_trace"));
          killed.headers.push(...corsHeaders(o, req.headers));
          writeReply(res, killed);
          return;
        }
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
        job: (user, stmt) => {
          const jobs = this.cluster.db.jobs;
          const job = held ?? jobs.begin(this.ref, user, stmt);
          held = undefined;
          return () => jobs.end(job);
        },
      };
      const r = route(ctx, { ...info, url: stripped });
      reply = r.reply;
      seen.user = r.user;
    }
    if (req.method === "HEAD") reply.noBody = true;
    if (fault) await writeWithFault(req, res, reply, fault);
    else writeReply(res, reply);
  }

  /** Add a request to the cluster's log; its status is filled in when the response has been sent. */
  private record(req: http.IncomingMessage, res: http.ServerResponse, body: string, wireBytes: number): SeenRequest {
    const socket = req.socket as AnySocket;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(", ") : v;
    }
    const seen: SeenRequest = {
      node: this.index,
      connection: this.connIds.get(socket) ?? 0,
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers,
      body,
      wireBytes,
      user: null,
      status: null,
    };
    this.cluster.log.push(seen);
    res.on("finish", () => {
      seen.status = res.statusCode;
      this.armIdle(socket);
    });
    return seen;
  }

  /**
   * A fault that replaces the answer (reset, hang, status, html, respond, redirect): answers without
   * executing and returns true; false when the fault has no reply of its own. `drain` reads a body
   * that was not read yet (blobs stream theirs).
   */
  private async answerInstead(fault: Fault, req: http.IncomingMessage, res: http.ServerResponse, socket: Socket, seen: SeenRequest,
    info: RequestInfo, path: string, drain?: () => Promise<unknown>): Promise<boolean> {
    const o = this.cluster.options;
    seen.user = authenticate(o, info).user;
    if (fault.kind === "reset-before-headers") {
      socket.destroy();
      return true;
    }
    if (fault.kind === "hang") return true; // the socket is destroyed by stopNode / cluster close
    await drain?.();
    if (fault.kind === "redirect" && fault.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
    const synthetic = syntheticReply(fault, (n) => this.cluster.nodeUrl(n), path);
    if (!synthetic) return false;
    if (!synthetic.headers.some(([k]) => k === "access-control-allow-origin")) synthetic.headers.push(...corsHeaders(o, req.headers));
    writeReply(res, synthetic);
    return true;
  }

  private clientCertCn(socket: AnySocket): string | undefined {
    const tlsSocket = socket as TLSSocket;
    return tlsSocket.encrypted && tlsSocket.authorized ? (tlsSocket.getPeerCertificate()?.subject?.CN as string | undefined) : undefined;
  }

  /**
   * `/_blobs…` (§5). Streamed: unlike other requests the body is not read up front but by the blob handler
   * (logged as `"<N bytes>"`). Same order otherwise: faults (rules with a `path` such as "/_blobs"), CORS gate and
   * auth (`admit`), then `handleBlob`; a GET is written from the stored Buffer with backpressure.
   */
  private async onBlobRequest(req: http.IncomingMessage, res: http.ServerResponse, stripped: string, expectContinue: boolean): Promise<void> {
    const socket = req.socket as AnySocket;
    const seen = this.record(req, res, "", 0);
    const body = new BlobBody(req, res, seen, expectContinue);
    const o = this.cluster.options;
    const method = req.method ?? "GET";
    const info: RequestInfo = { method, url: stripped, headers: req.headers, body: "", clientCertCn: this.clientCertCn(socket) };
    const preflight = o.cors !== undefined && method === "OPTIONS" && req.headers["access-control-request-method"] !== undefined;
    const fault = preflight ? undefined : this.cluster.faults.take(this.index, req.url ?? "/", () => undefined);

    if (fault && !executes(fault) && (await this.answerInstead(fault, req, res, socket, seen, info, stripped, () => body.read().catch(() => 0)))) return;

    const admitted = admit(o, info);
    seen.user = admitted.user;
    let reply: Reply;
    if (admitted.reply) {
      reply = admitted.reply;
    } else {
      const node: BlobNode = {
        options: o,
        db: this.cluster.db,
        index: this.index,
        nodeCount: o.nodes ?? 1,
        liveNodeUrl: (i) => this.cluster.liveNodeUrl(i),
      };
      try {
        reply = await handleBlob(node, method, stripped, req.headers, body);
        // Count (and discard) a body the handler did not want, unless the client still waits for `100 Continue`.
        if (body.coming) await body.read();
      } catch (e) {
        reply = textReply(500, e instanceof Error ? e.message : String(e), true); // e.g. a broken gzip body
      }
      reply.headers.push(...corsHeaders(o, req.headers));
    }
    if (method === "HEAD") reply.noBody = true;
    if (fault) await writeWithFault(req, res, reply, fault);
    else await writeBlobReply(res, reply);
  }
}

/** Netty's `HttpContentDecompressor`: gzip/x-gzip/deflate/x-deflate are inflated, other encodings pass through. */
export function decodeBody(wire: Buffer, encoding: string | undefined): Buffer {
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
