/**
 * A session: requests pinned to one HTTP connection on one node. CrateDB keeps a SQL session per
 * HTTP connection, so `SET`, `search_path`, `BEGIN` and cursors carry over from one request of a
 * session to the next, and to no other session or Connection.
 */
import type { Kills } from "./cancel.js";
import { ProgrammingError } from "./errors.js";
import type { ResolvedOptions } from "./options.js";
import { Queryable } from "./queryable.js";
import type { Requester, SessionLink } from "./request.js";
import { sessionLink } from "./session-link.js";
import type { StreamHost } from "./stream-run.js";
import type { Transport } from "./transport.js";
import { hide, inspectAs } from "./inspect.js";

/** @internal What a session needs from its Connection. */
export interface SessionOwner {
  readonly closed: boolean;
  forget(session: Session): void;
}

/**
 * A SQL session on one socket to one node (from `conn.session()` or `conn.withSession()`).
 * The node is chosen by the connection's pool; until the first request reaches a node, the session
 * fails over like any request. After that, a broken connection is a `ConnectionError` saying the
 * session is lost: it is never silently reconnected, since its settings and cursors are gone.
 * Requests of a session are sent one at a time, in the order they were made (concurrent calls queue).
 *
 * @example
 * ```ts
 * await using session = conn.session();
 * await session.query("SET search_path TO analytics");
 * const { rows } = await session.query("SELECT count(*) FROM events"); // analytics.events
 * ```
 */
export class Session extends Queryable {
  private readonly sessionLink: SessionLink;
  private isClosed = false;

  /** @internal Use `conn.session()`. */
  constructor(options: ResolvedOptions, requester: Requester, kills: Kills, pin: () => Transport, private readonly owner: SessionOwner) {
    super(options, requester, kills);
    this.sessionLink = sessionLink(pin);
    hide(this, "sessionLink", "owner");
    inspectAs(this, "Session"); // util.inspect / console.log show what toJSON() shows
  }

  /** True after `close()`, after the connection's `close()`, or once the session is lost. */
  get closed(): boolean {
    return this.isClosed || this.owner.closed || this.sessionLink.lost !== undefined;
  }

  /** The node this session is on (`scheme://host:port[/prefix]`), once its first request reached it. */
  get server(): string | undefined {
    return this.sessionLink.server?.url;
  }

  /** @internal */
  ensureOpen(): void {
    if (this.owner.closed) throw new ProgrammingError("Connection closed");
    if (this.isClosed) throw new ProgrammingError("Session closed");
    if (this.sessionLink.lost !== undefined) throw this.sessionLink.lost;
  }

  /** @internal */
  protected get link(): SessionLink {
    return this.sessionLink;
  }

  /** @internal Streams of a session run on the session itself. */
  protected streamHost(): () => StreamHost {
    return () => ({ runner: this, release: async () => undefined });
  }

  /** Closes the session's socket (the server drops its settings and cursors). Idempotent. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.owner.forget(this);
    await this.sessionLink.transport.close();
  }

  /** `await using session = conn.session()` closes the session at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What `JSON.stringify(session)` shows: its node (without credentials) and the state, never a secret. */
  toJSON(): { server: string | undefined; closed: boolean; lost: boolean } {
    return { server: this.server, closed: this.closed, lost: this.sessionLink.lost !== undefined };
  }
}
