/**
 * Bun: by default Bun's own fetch with a `Bun.FetchSession` per Connection. CrateDB keeps a session
 * per HTTP connection (`Default-Schema` is applied only when it starts, `SET` persists on it), so a
 * Connection's sockets must be its own and be released by close(): plain fetch pools connections
 * process-wide, but a FetchSession's keep-alive pool is never shared with another session or with
 * plain fetch, and its close() closes the idle ones. At 32 requests in flight Bun's fetch is about
 * twice as fast as Bun's node:http (bench, runtimes).
 *
 * Bun's node:http (an Agent per Connection) is used where FetchSession cannot do what is asked:
 * `poolSize` (a session has no connection limit), `socketKeepalive: false` or `socketTcpKeepidle`
 * (Bun's fetch keeps TCP keepalive on with a 60 s idle time, like our default), TLS material
 * (`caCert`/`certFile`/`keyFile`, parsed at connect() by the Node transport so that a broken one
 * fails there), and a Bun without `FetchSession`. `sslRelaxMinimumVersion` uses plain fetch with
 * `tls.minVersion` (numeric), because Bun's node:https (BoringSSL) cannot lower the security level
 * for TLS 1.0/1.1. Sessions (`conn.session()`) always get a socket of their own (node:net).
 */
import { readFileSync } from "node:fs";
import type { Platform, ResolvedOptions } from "../options.js";
import { FetchTransport, type FetchLike, type Transport, type TransportRequest, type TransportResponse } from "../transport.js";
import { NodeTransport } from "./node.js";
import { nodeSessions } from "./sessions.js";

const TLS1_0 = 0x0301;
const TLS1_2 = 0x0303;
/** Idle keep-alive sockets are closed after this time, as the Node transport does (runtime/node.ts). */
const IDLE_SOCKET_MS = 4_000;
const SWEEP_MS = 500;

interface FetchSession {
  readonly fetch: FetchLike;
  /** Closes the idle connections of the session's pool; requests in flight finish. */
  close(): void;
}
type FetchSessionClass = new (init: Record<string, unknown>) => FetchSession;

/**
 * A FetchTransport on a FetchSession of its own. close() closes the session's idle sockets; a request
 * still in flight then returns its socket to the pool when it finishes, so it closes them again.
 *
 * Bun closes a session's idle sockets only on a coarse timer (measured with Bun 1.4.5: after 8–16 s,
 * whatever `keepAlive.idleTimeout` says), later than a typical 5 s server or proxy idle timeout. So a
 * sweep every SWEEP_MS closes them once the transport has had nothing in flight for IDLE_SOCKET_MS
 * (the Node transport closes each socket after that idle time; here it is the whole pool).
 */
class SessionTransport extends FetchTransport {
  private inFlight = 0;
  private closed = false;
  private idleSince = 0;
  private sweeper: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly session: FetchSession, pin: () => Transport) {
    super(session.fetch, { pin });
  }

  override request(req: TransportRequest): Promise<TransportResponse> {
    this.inFlight++;
    if (this.sweeper === undefined && !this.closed) this.startSweeper();
    return super.request(req).finally(() => {
      if (--this.inFlight > 0) return;
      this.idleSince = Date.now();
      if (this.closed) this.session.close();
    });
  }

  private startSweeper(): void {
    this.sweeper = setInterval(() => {
      if (this.inFlight > 0 || Date.now() - this.idleSince < IDLE_SOCKET_MS - SWEEP_MS / 2) return;
      this.session.close();
      this.stopSweeper(); // the next request starts it again
    }, SWEEP_MS);
    (this.sweeper as { unref?: () => void }).unref?.();
  }

  private stopSweeper(): void {
    if (this.sweeper !== undefined) clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  override async close(): Promise<void> {
    this.closed = true;
    this.stopSweeper();
    this.session.close();
  }
}

export const bunPlatform: Platform = {
  name: `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`,
  readFile: (path) => readFileSync(path, "utf8"),
  unsupported(option, o) {
    if (o.fetch !== undefined && option !== "discover") return "with a custom 'fetch', TLS and socket options belong to that fetch";
    if (option === "socketTcpKeepintvl" || option === "socketTcpKeepcnt") {
      return "Bun cannot set the TCP keepalive probe interval or count (socketTcpKeepidle works)";
    }
    if (o.sslRelaxMinimumVersion && (option === "poolSize" || option === "socketKeepalive" || option === "socketTcpKeepidle")) {
      return "with sslRelaxMinimumVersion Bun's fetch is used, which has no pool or keepalive options";
    }
    return undefined;
  },
};

export function bunTransport(o: ResolvedOptions): Transport {
  if (o.fetch !== undefined) return new FetchTransport(o.fetch);
  if (!o.sslRelaxMinimumVersion) {
    const Session = (globalThis as unknown as { Bun?: { FetchSession?: FetchSessionClass } }).Bun?.FetchSession;
    const needsNodeHttp = o.poolSize !== undefined || !o.socketKeepalive || o.socketTcpKeepidle !== undefined ||
      o.caCert !== undefined || o.certFile !== undefined || o.keyFile !== undefined;
    if (Session === undefined || needsNodeHttp) return new NodeTransport(o);
    const tls: Record<string, unknown> = { minVersion: TLS1_2 };
    if (!o.verifySslCert) tls.rejectUnauthorized = false;
    // idleTimeout is in seconds (measured: 1–4 close at Bun's 8 s tick, 10 at 16 s, 300 not within 20 s).
    const session = new Session({ keepAlive: { idleTimeout: IDLE_SOCKET_MS / 1000, maxIdleSockets: 256 }, tls });
    return new SessionTransport(session, nodeSessions(o));
  }
  const tls: Record<string, unknown> = { minVersion: TLS1_0 };
  if (o.caCert !== undefined) tls.ca = o.caCert;
  if (o.certFile !== undefined) tls.cert = o.certFile;
  if (o.keyFile !== undefined) tls.key = o.keyFile;
  if (!o.verifySslCert) tls.rejectUnauthorized = false;
  return new FetchTransport(undefined, { init: { tls }, pin: nodeSessions(o) });
}
