/// <reference types="node" />
/**
 * The Node transport: `node:http`/`node:https` with one keep-alive Agent per origin. On Node 20
 * this is ~1.7× faster than `fetch` for small requests (docs/runtimes.md §5) and is the only way
 * to apply CA, client certificates, verification and TCP keepalive per connection.
 */
import type * as FsModule from "node:fs";
import type * as HttpModule from "node:http";
import type * as HttpsModule from "node:https";
import type { Socket } from "node:net";
import type * as TlsModule from "node:tls";
import type * as CryptoModule from "node:crypto";
import type * as ZlibModule from "node:zlib";
import { InterfaceError } from "../errors.js";
import { builtin } from "./node-builtin.js";
import { nodeSessions } from "./sessions.js";
import { webStream } from "./node-stream.js";
import type { Platform, TlsSocketOptions } from "../options.js";
import { TransportError, toTransportError, type Transport, type TransportRequest, type TransportResponse } from "../transport.js";

// Free sockets are closed after this idle time, before typical load-balancer idle timeouts
// (AWS ALB 60 s, nginx 75 s, Azure 4 min) and like undici's default, so stale sockets are rare.
const IDLE_SOCKET_MS = 4_000;
const SWEEP_MS = 500;
const DEFAULT_KEEPIDLE_MS = 60_000;

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
const CAN_TUNE_PROBES = major > 26 || (major === 26 && minor >= 4);

/** Node: every option can be honoured, except keepalive interval/count before Node 26.4. */
export const nodePlatform: Platform = {
  name: `Node.js ${process.versions.node}`,
  readFile: (path) => fsModule().readFileSync(path, "utf8"),
  unsupported(option, o) {
    if (o.fetch !== undefined && option !== "discover") return "with a custom 'fetch', TLS and socket options belong to that fetch";
    if ((option === "socketTcpKeepintvl" || option === "socketTcpKeepcnt") && !CAN_TUNE_PROBES) {
      return "Node.js before 26.4 cannot set the TCP keepalive probe interval or count per socket (socketTcpKeepidle works)";
    }
    return undefined;
  },
};

const IGNORE = (): void => undefined;

interface Target {
  origin: string;
  secure: boolean;
  protocol: string;
  hostname: string;
  port: number;
  /** Path and query. */
  path: string;
}

// node:https (with tls), zlib, stream and crypto cost ~20 ms to load: load them when first needed,
// so that importing the package stays cheap for plain-http users (see node-builtin.ts).
const lazy = <T>(id: string): (() => T) => {
  let mod: T | undefined;
  return () => (mod ??= builtin(id) as T);
};
const httpModule = lazy<typeof HttpModule>("node:http");
const httpsModule = lazy<typeof HttpsModule>("node:https");
const fsModule = lazy<typeof FsModule>("node:fs");
const tlsModule = lazy<typeof TlsModule>("node:tls");
const cryptoModule = lazy<typeof CryptoModule>("node:crypto");
const zlibModule = lazy<typeof ZlibModule>("node:zlib");

type AgentOptions = HttpsModule.AgentOptions & { tcpKeepalive: boolean; keepidle: number; interval?: number; count?: number };

function applyKeepalive(socket: Socket, o: AgentOptions): void {
  if (!o.tcpKeepalive) {
    socket.setKeepAlive(false);
  } else if (o.interval !== undefined || o.count !== undefined) {
    // Node ≥ 26.4 takes interval and count as extra arguments (not in @types/node 20).
    (socket.setKeepAlive as (...args: unknown[]) => Socket)(true, o.keepidle, o.interval, o.count);
  } else {
    socket.setKeepAlive(true, o.keepidle);
  }
}

const TLS_KEYS = ["rejectUnauthorized", "minVersion", "ciphers", "ca", "cert", "key"] as const;

/**
 * The options an Agent is given: only what it uses. Agent.addRequest copies all of its options into
 * every request's options (`{ ...options, ...this.options }`), so our own keepalive keys and, for
 * plain http, the TLS keys would cost a few µs per request for nothing.
 */
function agentOptions(o: AgentOptions, secure: boolean): HttpsModule.AgentOptions {
  const a: HttpsModule.AgentOptions = { keepAlive: o.keepAlive, keepAliveMsecs: o.keepAliveMsecs };
  // Node's defaults (maxSockets Infinity, maxFreeSockets 256, scheduling "lifo") need no key.
  if (o.maxSockets !== Infinity) a.maxSockets = o.maxSockets;
  if (o.maxFreeSockets !== 256) a.maxFreeSockets = o.maxFreeSockets;
  if (o.scheduling !== "lifo") a.scheduling = o.scheduling;
  if (secure) for (const k of TLS_KEYS) if (o[k] !== undefined) (a as Record<string, unknown>)[k] = o[k];
  return a;
}

function makeAgent(Base: typeof HttpModule.Agent, o: AgentOptions, secure: boolean): HttpModule.Agent {
  const options = agentOptions(o, secure);
  // The base class already sets SO_KEEPALIVE with keepAliveMsecs (= the idle time) on every idle
  // socket; only other settings need a second call.
  if (o.tcpKeepalive && o.interval === undefined && o.count === undefined) return new Base(options);
  class KeepaliveAgent extends Base {
    // The base class turns TCP keepalive on with its own delay whenever a socket goes idle.
    // (@types/node says void; Node returns whether the socket may be kept, so pass it on.)
    override keepSocketAlive(socket: Socket): void {
      const keep = super.keepSocketAlive(socket) as unknown;
      applyKeepalive(socket, o);
      return keep as void;
    }
  }
  return new KeepaliveAgent(options);
}

function decompress(body: Buffer, encoding: string | undefined): Promise<Buffer> {
  const enc = encoding?.trim().toLowerCase();
  if (enc === undefined || enc === "" || enc === "identity") return Promise.resolve(body);
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer): void => (err ? reject(err) : resolve(out));
    const zlib = zlibModule();
    if (enc === "gzip" || enc === "x-gzip") zlib.gunzip(body, done);
    else if (enc === "deflate") zlib.inflate(body, (err, out) => (err ? zlib.inflateRaw(body, done) : resolve(out)));
    else if (enc === "br") zlib.brotliDecompress(body, done);
    else reject(new Error(`unsupported content-encoding '${enc}'`));
  });
}

export class NodeTransport implements Transport {
  private readonly agents = new Map<string, HttpModule.Agent>();
  private readonly base: AgentOptions;
  private readonly configured = new WeakSet<Socket>();

  private readonly freshSocketsForWrites: boolean;

  /** `freshSocketsForWrites`: send non-idempotent requests on a new socket each (see runtime/deno.ts). */
  constructor(opts: TlsSocketOptions, extra: { freshSocketsForWrites?: boolean } = {}) {
    this.freshSocketsForWrites = extra.freshSocketsForWrites === true;
    this.pin = nodeSessions(opts);
    this.base = {
      keepAlive: true,
      keepAliveMsecs: opts.socketTcpKeepidle ?? DEFAULT_KEEPIDLE_MS,
      maxSockets: opts.poolSize ?? Infinity,
      maxFreeSockets: opts.poolSize ?? 256,
      scheduling: "lifo",
      tcpKeepalive: opts.socketKeepalive,
      keepidle: opts.socketTcpKeepidle ?? DEFAULT_KEEPIDLE_MS,
      rejectUnauthorized: opts.verifySslCert,
      minVersion: opts.sslRelaxMinimumVersion ? "TLSv1" : "TLSv1.2",
    };
    if (opts.socketTcpKeepintvl !== undefined) this.base.interval = opts.socketTcpKeepintvl;
    if (opts.socketTcpKeepcnt !== undefined) this.base.count = opts.socketTcpKeepcnt;
    // OpenSSL 3 refuses TLS 1.0/1.1 at its default security level.
    if (opts.sslRelaxMinimumVersion) this.base.ciphers = "DEFAULT:@SECLEVEL=0";
    if (opts.caCert !== undefined) this.base.ca = opts.caCert;
    if (opts.certFile !== undefined) this.base.cert = opts.certFile;
    if (opts.keyFile !== undefined) this.base.key = opts.keyFile;
    // Parse the PEM material now, so that a broken certificate or a key that does not match fails
    // at connect() instead of at the first request.
    if (this.base.ca !== undefined || this.base.cert !== undefined) {
      try {
        // OpenSSL skips CA blocks it cannot parse, so parse every certificate explicitly.
        for (const pem of [opts.caCert, opts.certFile]) {
          for (const block of pem?.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []) new (cryptoModule().X509Certificate)(block);
        }
        if (opts.keyFile !== undefined) cryptoModule().createPrivateKey(opts.keyFile);
        tlsModule().createSecureContext({ ca: this.base.ca, cert: this.base.cert, key: this.base.key });
      } catch (err) {
        throw new InterfaceError(`Invalid TLS material in caCert/certFile/keyFile: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
    }
  }

  private agentFor(target: Target): HttpModule.Agent {
    let agent = this.agents.get(target.origin);
    if (agent === undefined) {
      agent = makeAgent(target.secure ? httpsModule().Agent : httpModule().Agent, this.base, target.secure);
      this.agents.set(target.origin, agent);
      this.startSweeper();
    }
    return agent;
  }

  // The caller's headers (a few shared objects) plus Accept-Encoding; node:http copies them, never changes them.
  private readonly withEncoding = new WeakMap<Record<string, string>, Record<string, string>>();

  // Requests go to a handful of URLs: parse each once.
  private readonly targets = new Map<string, Target>();

  private target(href: string): Target {
    let t = this.targets.get(href);
    if (t === undefined) {
      const url = new URL(href);
      t = {
        origin: url.origin, secure: url.protocol === "https:", protocol: url.protocol,
        hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port), path: url.pathname + url.search,
      };
      if (this.targets.size > 256) this.targets.clear();
      this.targets.set(href, t);
    }
    return t;
  }

  request(req: TransportRequest): Promise<TransportResponse> {
    return new Promise((resolve, reject) => {
      // The listeners below stay on a kept-alive socket's last response until its next request: reaching the
      // promise's own resolve/reject from there would keep the settled promise, and so the whole body of the
      // last response, alive per idle socket. Once settled, the bindings they share point at nothing.
      const release = (): void => {
        resolve = IGNORE;
        reject = IGNORE;
      };
      const target = this.target(req.url);
      const secure = target.secure;
      let headers = this.withEncoding.get(req.headers);
      if (headers === undefined) this.withEncoding.set(req.headers, (headers = { ...req.headers, "accept-encoding": "gzip, deflate" }));
      // Encode a text body once (Buffer.byteLength and end(string) would each encode it). end(body)
      // before the head is sent makes node:http send Content-Length itself.
      const body = typeof req.body === "string" ? Buffer.from(req.body) : req.body;
      let connected = false;
      let assigned = false;
      let reused = false;
      let settled = false;
      const fail = (err: unknown, sent: boolean): void => {
        if (settled) return;
        settled = true;
        req.signal?.removeEventListener("abort", onAbort);
        const te = toTransportError(err);
        reject(new TransportError(te.message, sent && te.sent, te.code, err, reused));
        release();
      };
      const onAbort = (): void => {
        // No socket yet: the request waited for a free one in a full pool (poolSize).
        fail(new TransportError("aborted", connected, assigned ? "ABORT_ERR" : "EQUEUED", req.signal?.reason), connected);
        outgoing.destroy();
      };
      const fresh = this.freshSocketsForWrites && !req.idempotent;
      if (fresh) headers = { ...headers, connection: "close" };
      const agent = fresh ? makeAgent(secure ? httpsModule().Agent : httpModule().Agent, { ...this.base, keepAlive: false }, secure) : this.agentFor(target);
      let outgoing: HttpModule.ClientRequest;
      try {
        outgoing = (secure ? httpsModule() : httpModule()).request({
          protocol: target.protocol, hostname: target.hostname, port: target.port, path: target.path, method: req.method, headers, agent,
        });
      } catch (err) {
        // node:http validates the request head synchronously: nothing was sent.
        reject(new TransportError(err instanceof Error ? err.message : String(err), false, (err as { code?: string }).code, err));
        release();
        return;
      }
      outgoing.on("socket", (socket: Socket) => {
        assigned = true;
        reused = outgoing.reusedSocket;
        if (!this.configured.has(socket)) {
          this.configured.add(socket);
          applyKeepalive(socket, this.base);
        }
        if (!socket.connecting && (reused || !secure)) connected = true;
        else socket.once(secure ? "secureConnect" : "connect", () => (connected = true));
      });
      outgoing.on("error", (err) => fail(err, connected));
      outgoing.on("response", (res) => {
        // res.headers is built on first use: most answers never need it.
        const header = (name: string): string | null => {
          const v = res.headers[name.toLowerCase()];
          return v === undefined ? null : Array.isArray(v) ? v.join(", ") : v;
        };
        if (req.stream === true) {
          settled = true;
          req.signal?.removeEventListener("abort", onAbort);
          const enc = contentEncoding(res);
          const zlib = enc === "gzip" || enc === "deflate" ? zlibModule() : undefined;
          const stream = webStream(res, zlib === undefined ? undefined : enc === "gzip" ? zlib.createGunzip() : zlib.createInflate());
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? "", header, body: new Uint8Array(0), stream });
          release();
          return;
        }
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (err) => fail(new TransportError(`response body incomplete: ${err.message}`, true, "ECONNRESET", err), true));
        res.on("close", () => {
          if (!res.complete) fail(new TransportError("response body incomplete: connection closed", true, "ECONNRESET"), true);
        });
        res.on("end", () => {
          if (settled) return;
          if (!res.complete) return fail(new TransportError("response body incomplete: connection closed", true, "ECONNRESET"), true);
          const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
          chunks.length = 0; // the kept-alive socket must not keep a large body reachable
          const encoding = contentEncoding(res);
          const done = (body: Buffer): void => {
            if (settled) return;
            settled = true;
            req.signal?.removeEventListener("abort", onAbort);
            resolve({
              status: res.statusCode ?? 0,
              statusText: res.statusMessage ?? "",
              header,
              body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength),
            });
            release();
          };
          if (encoding === undefined || encoding === "identity") return done(raw);
          decompress(raw, encoding).then(done, (err: unknown) =>
            fail(new TransportError(`cannot decode response body: ${err instanceof Error ? err.message : String(err)}`, true, "EDECODE", err), true));
        });
      });
      if (req.signal !== undefined) {
        if (req.signal.aborted) return onAbort();
        req.signal.addEventListener("abort", onAbort, { once: true });
      }
      outgoing.end(body === undefined || Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });
  }

  /** A transport on one socket of its own, for a session. */
  readonly pin: () => Transport;

  async close(): Promise<void> {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  // Idle keep-alive sockets are closed after IDLE_SOCKET_MS, before a proxy's or load balancer's idle
  // timeout can reset them under a request. A sweep every SWEEP_MS instead of the Agent's `timeout`
  // option, which re-arms a socket timer on every request (a measurable share of a point query).
  private sweeper: ReturnType<typeof setInterval> | undefined;
  private readonly idleSince = new WeakMap<Socket, { bytes: number; since: number }>();

  private startSweeper(): void {
    if (this.sweeper !== undefined) return;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
    this.sweeper.unref?.();
  }

  private sweep(): void {
    const now = Date.now();
    for (const agent of this.agents.values()) {
      for (const sockets of Object.values(agent.freeSockets)) {
        for (const socket of sockets ?? []) {
          // A socket that moved bytes since the last sweep was in use: its idle time starts now.
          const bytes = socket.bytesRead + socket.bytesWritten;
          const seen = this.idleSince.get(socket);
          if (seen === undefined || seen.bytes !== bytes) this.idleSince.set(socket, { bytes, since: now });
          else if (now - seen.since >= IDLE_SOCKET_MS - SWEEP_MS / 2) socket.destroy();
        }
      }
    }
  }
}

/** The Content-Encoding of an answer, read from the raw header list (no res.headers object needed). */
function contentEncoding(res: HttpModule.IncomingMessage): string | undefined {
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 16 && name.toLowerCase() === "content-encoding") return raw[i + 1];
  }
  return undefined;
}
