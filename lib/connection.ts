/** Connection: the pool of servers, sessions, serverInfo, blobs, close; query/bulk/cursor/stream from Queryable. */
import { BlobContainer } from "./blob.js";
import type { Discovery } from "./discover.js";
import { InterfaceError, NotSupportedError, ProgrammingError } from "./errors.js";
import { waitAtMost } from "./deadline.js";
import { kit } from "./kit.js";
import { lazy } from "./lazy.js";
import type { Logger, RequestOptions, ResolvedOptions } from "./options.js";
import { Queryable } from "./queryable.js";
import { checkRequestOptions } from "./resolve.js";
import { Requester, type ServerSource, type ServerSourceFactory } from "./request.js";
import type { ServerInfo } from "./server-info.js";
import { Session } from "./session.js";
import type { StreamHost } from "./stream-run.js";
import type { Transport } from "./transport.js";
import { hide, inspectAs } from "./inspect.js";

const CLOSE_WAIT_FOR_KILLS = 2_000;

/** The logger's levels, silenced once `gate.on` is false (levels the user left out stay absent). */
function quietAfterClose(logger: Logger, gate: { on: boolean }): Logger {
  const quiet: Logger = {};
  for (const level of ["debug", "info", "warn"] as const) {
    const fn = logger[level];
    if (fn !== undefined) quiet[level] = (message: string) => void (gate.on && fn.call(logger, message));
  }
  return quiet;
}

const discovery = /* @__PURE__ */ lazy(() => import("./discover.js"), "node discovery");
const info = /* @__PURE__ */ lazy(() => import("./server-info.js"), "server info");

/**
 * Node discovery as the request loop's server source, with discover.ts loaded (a chunk of its own)
 * at connect(), and only when the `discover` option is set. The first request starts discovery.
 */
function discoverySource(options: ResolvedOptions, intervalMs: number): ServerSourceFactory {
  const loading = discovery.load();
  return (requester) => {
    let real: Discovery | undefined;
    let started = false;
    let stopped = false;
    const create = (m: typeof import("./discover.js")): void => {
      if (stopped) return;
      real = new m.Discovery(kit, requester, options, intervalMs);
      if (started) real.start();
    };
    // Discovery's first refresh takes the first server of the rotation (the first request starts it, and
    // the refresh picks its server before that request does): until the module is here, requests wait.
    let ready: Promise<void> | undefined;
    if (discovery.now !== undefined) create(discovery.now);
    else {
      ready = loading.then(create, (err: unknown) => {
        const why = options.redactor.redact(err instanceof Error ? err.message : String(err));
        options.logger.warn?.call(options.logger, `node discovery could not be loaded, keeping the configured servers: ${why}`);
      }).then(() => void (ready = undefined));
    }
    const source: ServerSource = {
      get servers() {
        return real?.servers ?? options.servers;
      },
      // Within the request's timeout and signal: a request's deadline holds from the call.
      wait: (ms, signal) => (ready === undefined ? undefined : waitAtMost(ready, ms, signal)),
      start() {
        started = true;
        real?.start();
      },
      stop() {
        stopped = true;
        real?.stop();
      },
    };
    return source;
  };
}

/**
 * A connection to a CrateDB cluster: a pool of servers used round robin with failover.
 * Created by `connect()`, which does no I/O. Rows are decoded per the connection's options.
 *
 * @example
 * ```ts
 * const conn = connect("http://localhost:4200", { schema: "doc" });
 * const { rows } = await conn.query("SELECT name FROM sys.cluster");
 * await conn.close();
 * ```
 */
export class Connection extends Queryable {
  private readonly transport: Transport;
  private isClosed = false;
  private readonly sessions = new Set<Session>();
  private readonly logging: { on: boolean };

  /** @internal Use `connect()`. */
  constructor(options: ResolvedOptions, transport: Transport) {
    // Work that outlives close() (a kill still looking up its job, a request in flight) logs nothing after it.
    const logging = { on: true };
    options.logger = quietAfterClose(options.logger, logging);
    const discover = options.discover;
    // Discovery is a layer: the request loop only sees a server source.
    const requester = new Requester(options, transport, discover === undefined ? undefined : discoverySource(options, discover.intervalMs));
    // The canceller is made on the first kill (cancel.ts), shared with the sessions.
    super(options, requester, { kit, requester, logger: options.logger, redact: (text) => options.redactor.redact(text) });
    this.transport = transport;
    this.logging = logging;
    hide(this, "transport", "sessions", "logging");
    inspectAs(this, "Connection"); // util.inspect / console.log show what toJSON() shows
  }

  /** Every configured server, normalised, without credentials. */
  get servers(): readonly string[] {
    return this.requester.urls;
  }

  /** The servers currently in rotation, in the order they will be tried. */
  get activeServers(): readonly string[] {
    return this.requester.activeUrls;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** @internal */
  ensureOpen(): void {
    if (this.isClosed) throw new ProgrammingError("Connection closed");
  }

  /** @internal The pool, not a session. */
  protected get link(): undefined {
    return undefined;
  }

  /** @internal Each stream of a Connection runs on a session of its own, made when it is iterated. */
  protected streamHost(): () => StreamHost {
    // The session is made when iteration starts: a stream that is rejected or never iterated holds none.
    // Its transport is made now (no socket yet), so that a platform that cannot pin refuses at stream().
    const pin = this.ensurePinnable();
    let first: Transport | undefined = pin();
    return () => {
      this.ensureOpen();
      const session = this.register(new Session(this.options, this.requester, this.kills, () => {
        const transport = first ?? pin();
        first = undefined;
        return transport;
      }, this));
      return { runner: session, release: () => session.close() };
    };
  }

  /**
   * A session: every request on one HTTP connection to one node, so that `SET`, `search_path` and
   * cursors carry over between its requests. Close it (or use `await using`) to release its socket.
   * `NotSupportedError` where the runtime cannot pin requests to a socket (browsers, a custom `fetch`).
   *
   * @example
   * ```ts
   * await using s = conn.session();
   * await s.query("SET statement_timeout = '5s'");
   * await s.query("SELECT * FROM big_table LIMIT 10");
   * ```
   */
  session(): Session {
    this.ensureOpen();
    return this.register(new Session(this.options, this.requester, this.kills, this.ensurePinnable(), this));
  }

  private register(session: Session): Session {
    this.sessions.add(session);
    return session;
  }

  private ensurePinnable(): () => Transport {
    if (this.transport.pin === undefined) {
      throw new NotSupportedError("Sessions need every request on one HTTP connection (CrateDB keeps a session per connection), " +
        "and requests made through a custom 'fetch' option (or plain fetch on a runtime this package has no entry for) " +
        "cannot be pinned to a connection");
    }
    return () => (this.transport.pin as () => Transport)();
  }

  /**
   * Runs `fn` with a new session and closes the session afterwards, also when `fn` throws.
   *
   * @example
   * ```ts
   * const rows = await conn.withSession(async (s) => {
   *   await s.query("SET search_path TO sales");
   *   return (await s.query("SELECT * FROM orders")).rows;
   * });
   * ```
   */
  async withSession<T>(fn: (session: Session) => Promise<T>): Promise<T> {
    if (typeof fn !== "function") throw new InterfaceError("withSession() takes a function");
    const session = this.session();
    try {
      return await fn(session);
    } finally {
      await session.close();
    }
  }

  /** @internal A session closed itself. */
  forget(session: Session): void {
    this.sessions.delete(session);
  }

  /**
   * Asks a node about itself (`GET /`). With a server, only that server is asked (no failover);
   * without, the pool picks one.
   */
  async serverInfo(server?: string, opts?: RequestOptions): Promise<ServerInfo> {
    this.ensureOpen();
    const o = checkRequestOptions(opts);
    if (info.now !== undefined) return info.now.serverInfo(kit, this.requester, server, o);
    // Loading the layer is part of the call: its deadline and signal hold, and count from now.
    const since = Date.now();
    return (await info.within(o.timeout ?? this.options.timeout, o.signal)).serverInfo(kit, this.requester, server, o, since);
  }

  /** A container for the BLOB table `name`. */
  getBlobContainer(name: string): BlobContainer {
    this.ensureOpen();
    return new BlobContainer(name, this);
  }

  /** @internal The request loop, for blobs. */
  get requests(): Requester {
    return this.requester;
  }

  /** Does nothing: CrateDB has no transactions. Throws when the connection is closed. */
  commit(): void {
    this.ensureOpen();
  }

  /**
   * Releases sockets and closes open sessions (and their streams' cursors). Waits up to 2 s for kills
   * of aborted statements still in flight. Idempotent; any later call throws `ProgrammingError("Connection closed")`. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.requester.close();
    await Promise.all([...this.sessions].map((s) => s.close()));
    // Kills of cancelled statements still looking up their job: give them a moment, not forever.
    const canceller = this.kills.canceller;
    if (canceller !== undefined) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([canceller.settle(), new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_FOR_KILLS)))]);
      clearTimeout(timer);
    }
    this.requester.shut();
    await this.transport.close();
    this.logging.on = false;
  }

  /** `await using conn = connect(…)` closes the connection at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What `JSON.stringify(conn)` shows: the servers (without credentials) and the state, never a secret. */
  toJSON(): { servers: readonly string[]; activeServers: readonly string[]; closed: boolean; sessions: number } {
    return { servers: this.servers, activeServers: this.activeServers, closed: this.isClosed, sessions: this.sessions.size };
  }
}
