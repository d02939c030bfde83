/**
 * The request loop: attempts, failover, backoff, per-attempt timeout, redirects and retry safety.
 *
 * Rules (API.md, Failover): fail over when the request cannot have reached a server or the server
 * said 503/509 (or 502/504 for read-only statements: a gateway may have handed a write to a backend);
 * after a possible delivery re-send only read-only statements; every attempt
 * after the first counts against `maxRetries`; with `backoffFactor` 0 stop once every server failed.
 */
import { ConnectionError, CrateDBError, ProgrammingError } from "./errors.js";
import type { ResolvedOptions } from "./options.js";
import { ServerHeaders } from "./headers.js";
import { Timeout, backoffDelay, sleep, withDeadline } from "./deadline.js";
import { ServerPool } from "./pool.js";
import type { ServerEntry } from "./servers.js";
import { TransportError, toTransportError, type Transport, type TransportRequest, type TransportResponse } from "./transport.js";

const FAILOVER_STATUS = new Set([502, 503, 504, 509]);
/** Statuses a proxy sends after it may have forwarded the request. */
const GATEWAY_STATUS = new Set([502, 504]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/** One logical request. */
export interface RequestSpec {
  method: string;
  /** Path and query after the server's prefix, e.g. `/_sql?types=true`. */
  path: string;
  body?: Uint8Array | string;
  headers: Record<string, string>;
  /** May be re-sent after a possible delivery (read-only statements, GET, HEAD). */
  retrySafe: boolean;
  /** Send only to this server: no failover. */
  pinned?: ServerEntry;
  /** Send `Default-Schema` (SQL, yes; blobs, no). */
  schema: boolean;
  signal?: AbortSignal;
  timeout?: number;
  /** When the call began, if it waited (for a layer to load) before sending: the first attempt's deadline holds from then. */
  since?: number;
  /** Hand the final body over as a stream (the timeout then covers the response head only). */
  stream?: boolean;
  /** Send on a session's own socket instead of the pool's. */
  session?: SessionLink;
  /** Set by the loop: the server of the latest attempt. */
  lastServer?: ServerEntry;
  /** Set by the loop: the server of the latest attempt that may have reached it (cancellation kills there). */
  sentTo?: ServerEntry;
  /** Called when an attempt timed out after it was sent to `server`, before any retry (kills its job, re-marks the body). */
  onAttemptTimeout?: (server: ServerEntry) => Promise<void>;
}

/**
 * A session's socket and node (a layer: session-link.ts). The node is chosen by the pool on the session's
 * first request, with failover only while no request has reached a node; after that every request goes
 * to that node on that socket, and a broken socket loses the session for good.
 */
export interface SessionLink {
  /** The socket's transport. */
  readonly transport: Transport;
  /** The node, once a request reached it. */
  readonly server: ServerEntry | undefined;
  /** Set when the session's socket broke: every later request rejects with it. */
  readonly lost: ConnectionError | undefined;
  /** An answer came from `server`: bind to it if the request may have run there, else move on to a new socket. */
  answered(server: ServerEntry, mayHaveRun: boolean): void;
  /** A failure below HTTP (`what` says which, redacted): the error that loses the session, or undefined when it stays. */
  broke(server: ServerEntry, te: TransportError, what: string): ConnectionError | undefined;
}

/** A response with the server that produced it. */
export interface Answer extends TransportResponse {
  server: string;
  /** Removes the connection's secrets from text taken from this answer (servers may echo them). */
  redact: (text: string) => string;
  /** Attempts this request took (1: no retry), for tracing. */
  attempt?: number;
}

/**
 * A layer that adds servers to the rotation (node discovery): the full Connection injects it, so the
 * request loop itself imports no feature. Started on the first request, stopped at close.
 */
export interface ServerSource {
  /** The configured servers, then the ones the layer found. */
  readonly servers: readonly ServerEntry[];
  /**
   * While the layer is not ready to start (e.g. its module is loading): a wait for it that ends within the
   * request's timeout `ms` (true: ready; false: the time ran out) and rejects when `signal` aborts (deadline.ts
   * `waitAtMost`); undefined once ready.
   */
  wait?(ms: number | undefined, signal: AbortSignal | undefined): Promise<boolean> | undefined;
  start(): void;
  stop(): void;
}

/** What a server-source layer is made from: the request loop it sends through. */
export type ServerSourceFactory = (requester: Requester) => ServerSource;

export class Requester {
  readonly pool: ServerPool<ServerEntry>;
  private readonly headers: ServerHeaders;

  private readonly redact: (text: string) => string;
  /** Node discovery (or another server source), when the connection composed one in. */
  private readonly discovery: ServerSource | undefined;

  constructor(private readonly opts: ResolvedOptions, private readonly transport: Transport, source?: ServerSourceFactory) {
    this.redact = (text) => opts.redactor.redact(text);
    this.headers = new ServerHeaders(opts);
    this.pool = new ServerPool(opts.servers, opts.retryInterval, Date.now, (event) => {
      const warn = opts.logger.warn;
      if (warn === undefined) return;
      if (event.type === "removed") warn.call(opts.logger, `server removed: ${event.server.url} (${opts.redactor.redact(event.reason)})`);
      else warn.call(opts.logger, `server restored: ${event.server.url}`);
    });
    // After the pool: a source adds its servers to it.
    this.discovery = source?.(this);
  }

  /** Every server: the configured ones, then the discovered ones. */
  get servers(): readonly ServerEntry[] {
    return this.discovery?.servers ?? this.opts.servers;
  }

  /** What a connection's `servers` shows: every server's URL, without credentials. */
  get urls(): readonly string[] {
    return this.servers.map((s) => s.url);
  }

  /** What a connection's `activeServers` shows: the URLs in rotation, in the order they will be tried. */
  get activeUrls(): readonly string[] {
    return this.pool.activeServers().map((s) => s.url);
  }

  /** Stops node discovery (the transport is closed by its owner). */
  close(): void {
    this.discovery?.stop();
  }

  /** Refuses every later request: the transport is closed, and work that outlives close() must not reopen sockets. */
  shut(): void {
    this.isShut = true;
  }

  private isShut = false;

  /** Sends a request through the pool, returning the first answer that is not a failover status. */
  async send(spec: RequestSpec): Promise<Answer> {
    if (this.isShut) throw new ProgrammingError("Connection closed");
    const source = this.discovery;
    // The first attempt's deadline holds from the call: waits for layers (before this, or for the server
    // source here) count against it.
    const ms = spec.timeout ?? this.opts.timeout;
    let firstEnds = ms === undefined || spec.since === undefined ? undefined : spec.since + ms;
    if (source !== undefined) {
      const called = spec.since ?? Date.now();
      const waiting = source.wait?.(ms === undefined ? undefined : ms - (Date.now() - called), spec.signal);
      if (waiting !== undefined) {
        const ready = await waiting;
        if (this.isShut) throw new ProgrammingError("Connection closed");
        if (ms !== undefined) firstEnds = called + ms;
        if (!ready || (firstEnds !== undefined && Date.now() >= firstEnds)) {
          // Like an expiry in a queue: nothing was sent, no server is to blame.
          throw new ConnectionError(`Request timed out after ${ms} ms while node discovery was loading: it was not sent`);
        }
      }
      source.start();
    }
    if (firstEnds !== undefined && Date.now() >= firstEnds) {
      throw new ConnectionError(`Request timed out after ${ms} ms while cratedb-fetch was loading a module: it was not sent`);
    }
    const { maxRetries, backoffFactor } = this.opts;
    let failed: Set<ServerEntry> | undefined;
    let last: ConnectionError | undefined;
    const session = spec.session;
    let attempt = 0;
    let single = false;
    for (let retries = 0; ; ) {
      if (spec.signal?.aborted) throw spec.signal.reason;
      if (session?.lost !== undefined) throw session.lost;
      const pinned = spec.pinned ?? session?.server;
      const server = pinned ?? this.pool.next();
      spec.lastServer = server;
      let counted = true;
      attempt++;
      try {
        const answer = await this.follow(server, spec, attempt === 1 ? firstEnds : undefined);
        const failover = FAILOVER_STATUS.has(answer.status);
        // A node that answered 503/509 (or a gateway status for a read) did not run the request.
        session?.answered(server, !failover || (GATEWAY_STATUS.has(answer.status) && !spec.retrySafe));
        if (!failover) return ((answer.attempt = attempt), answer);
        void answer.stream?.cancel().catch(() => undefined);
        const why = `${answer.status} ${answer.statusText}`.trim();
        if (GATEWAY_STATUS.has(answer.status) && !spec.retrySafe) {
          // A gateway answered: it may have handed the request to a backend that ran it.
          if (!pinned) this.pool.markFailed(server, why);
          throw new ConnectionError(
            `${server.url} answered ${why} from a gateway: the statement may have been executed; ` +
            "it was not re-sent because it is not read-only", { status: answer.status, server: server.url });
        }
        last = new ConnectionError(`${server.url} answered ${why}`, { status: answer.status, server: server.url });
        if (pinned) throw last;
        this.pool.markFailed(server, why);
      } catch (err) {
        // Queued or still connecting: nothing reached the server (a transport that cannot tell says sent).
        spec.sentTo = err instanceof TransportError && !err.sent ? spec.sentTo : server;
        if (spec.signal?.aborted) throw spec.signal.reason;
        if (err instanceof CrateDBError) throw err;
        const te = err instanceof TransportError ? err : toTransportError(err);
        const timeout = te.cause instanceof Timeout ? te.cause : undefined;
        const what = timeout === undefined ? this.opts.redactor.redact(te.message)
          : `timed out after ${timeout.ms} ms${te.sent || te.code === "EQUEUED" || te.code === "ELOADING" ? "" : " while connecting"}`;
        if (timeout !== undefined && (te.code === "EQUEUED" || te.code === "ELOADING")) {
          // Never left the queue (a full pool, a busy session) or waited for the session's socket module: nothing
          // was sent, the server is not to blame.
          const where = te.code === "ELOADING" ? "while cratedb-fetch's session socket module was loading"
            : `while queued behind other requests${session === undefined ? "" : " of its session"}`;
          throw new ConnectionError(`Request to ${server.url} ${what} ${where}: it was not sent`, { server: server.url, cause: te });
        }
        // After it was sent, an expiry is the statement running out of time, not a dead server: kill it there.
        const statementTimeout = timeout !== undefined && te.sent;
        if (statementTimeout) await spec.onAttemptTimeout?.(server);
        const lost = session?.broke(server, te, what);
        if (lost !== undefined) throw lost;
        if (statementTimeout && (pinned !== undefined || !this.opts.retryOnTimeout || !spec.retrySafe)) {
          const ran = spec.retrySafe ? "" : "it may have been executed; ";
          const killed = spec.onAttemptTimeout === undefined ? "it may still be running on the server" : "its job is being killed on the server (killOnAbort)";
          const why = pinned !== undefined ? "" : !spec.retrySafe ? " because it is not read-only" : " (retryOnTimeout is off)";
          throw new ConnectionError(`Statement on ${server.url} ${what} after it was sent: ${ran}${killed}; it was not re-sent${why}`,
            { server: server.url, cause: te });
        }
        if (pinned) throw new ConnectionError(`Server ${server.url} not available: ${what}`, { server: server.url, cause: te });
        // A stale keep-alive socket says nothing about the server, nor does a statement that ran out of
        // time; any other failure takes it out (some runtimes, e.g. workerd, report a refused connection like a reset).
        const stale = te.sent && te.reused && timeout === undefined;
        if (!stale && !statementTimeout) this.pool.markFailed(server, what);
        if (te.sent && !spec.retrySafe) {
          throw new ConnectionError(
            `Connection to ${server.url} failed after the request was sent (${what}): the statement may have been executed; ` +
            "it was not re-sent because it is not read-only", { server: server.url, cause: te });
        }
        last = new ConnectionError(`${server.url}: ${what}`, { server: server.url, cause: te });
        if (stale) counted = false;
        single = timeout !== undefined && attempt === 1;
      }
      if (counted) (failed ??= new Set()).add(server);
      if (retries >= maxRetries || (backoffFactor === 0 && (failed?.size ?? 0) >= this.pool.size)) break;
      retries++;
      const delay = backoffDelay(retries, backoffFactor);
      if (delay > 0) await sleep(delay, spec.signal);
    }
    const lastError = last as ConnectionError;
    // One expiry is reported as itself, not as a cluster without servers.
    if (single && attempt === 1) throw lastError;
    throw new ConnectionError(`No more servers available, exception from last server: ${lastError.message}`, {
      server: lastError.server as string, cause: lastError, ...(lastError.status === undefined ? {} : { status: lastError.status }),
    });
  }

  /**
   * One attempt, following redirects (pinned to their targets). Its deadline (`ends`, else the timeout from
   * now) holds across the hops.
   */
  private async follow(server: ServerEntry, spec: RequestSpec, ends?: number): Promise<Answer> {
    let url = this.headers.url(server, spec.path);
    let origin = server.url;
    let headers = this.headers.for(server, spec.headers, spec.schema);
    const ms = spec.timeout ?? this.opts.timeout;
    if (ends === undefined && ms !== undefined) ends = Date.now() + ms;
    for (let hops = 0; ; hops++) {
      let res: TransportResponse;
      try {
        res = await this.once(url, spec, headers, ends);
      } catch (err) {
        if (hops === 0 || spec.signal?.aborted) throw err;
        const te = toTransportError(err);
        // It reached the redirect target and ran out of time there: the attempt's expiry after sending (the loop
        // kills the job, and re-sends only a read with retryOnTimeout), not a target that is unavailable.
        if (te.cause instanceof Timeout && te.sent) throw te;
        const what = te.cause instanceof Timeout ? `timed out after ${(te.cause as Timeout).ms} ms` : this.opts.redactor.redact(te.message);
        throw new ConnectionError(`Redirect target ${origin} not available: ${what}`, { server: origin, cause: te });
      }
      if (res.status === 0) {
        throw new ProgrammingError(`${origin} answered with a redirect that this runtime hides from JavaScript (an opaque redirect: ` +
          "no status, no Location): use the URL it redirects to in servers", { server: origin });
      }
      const location = REDIRECT_STATUS.has(res.status) ? res.header("location") : null;
      if (location !== null || (hops > 0 && FAILOVER_STATUS.has(res.status))) void res.stream?.cancel().catch(() => undefined);
      if (location === null) {
        if (hops > 0 && FAILOVER_STATUS.has(res.status)) {
          throw new ConnectionError(`Redirect target ${origin} answered ${res.status} ${res.statusText}`.trim(), { status: res.status, server: origin });
        }
        // The transport's response object is ours: extend it rather than copy it.
        return Object.assign(res, { server: origin, redact: this.redact });
      }
      if (hops >= MAX_REDIRECTS) throw new ProgrammingError(`Too many redirects (more than ${MAX_REDIRECTS}) for ${server.url + spec.path}`, { server: origin, status: res.status });
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new ProgrammingError(`Invalid redirect location from ${origin}`, { server: origin, status: res.status });
      }
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new ProgrammingError(`Refusing to follow a redirect to ${next.protocol} from ${origin}`, { server: origin, status: res.status });
      }
      // Never send credentials over an https → http downgrade (this hop or any later one).
      if (url.startsWith("https:") && next.protocol === "http:" && headers.authorization !== undefined) {
        const { authorization: _dropped, ...rest } = headers;
        headers = rest;
      }
      next.username = "";
      next.password = "";
      url = next.href;
      origin = `${next.protocol}//${next.host}`;
    }
  }

  /** One HTTP exchange with the per-attempt timeout and the caller's signal. */
  // Not async: the common case (no timeout, no signal) returns the transport's promise untouched,
  // saving the extra promise hops of async wrappers on every request.
  private once(url: string, spec: RequestSpec, headers: Record<string, string>, ends: number | undefined): Promise<TransportResponse> {
    const ms = spec.timeout ?? this.opts.timeout;
    if (spec.signal === undefined && ms === undefined) return this.exchange(url, spec, headers, undefined);
    return withDeadline(ms, spec.signal, (signal) => this.exchange(url, spec, headers, signal), ends === undefined ? ms : ends - Date.now());
  }

  private exchange(url: string, spec: RequestSpec, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<TransportResponse> {
    const req: TransportRequest = { url, method: spec.method, headers, idempotent: spec.retrySafe };
    if (signal !== undefined) req.signal = signal;
    if (spec.body !== undefined) req.body = spec.body;
    if (spec.stream === true) req.stream = true;
    const transport = spec.session?.transport ?? this.transport;
    const debug = this.opts.logger.debug;
    if (debug === undefined) return transport.request(req);
    const started = Date.now();
    return transport.request(req).then((res) => {
      debug.call(this.opts.logger, `${spec.method} ${url} → ${res.status} in ${Date.now() - started} ms`);
      return res;
    });
  }
}
