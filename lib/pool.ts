/**
 * ServerPool: round robin over active servers, an inactive list ordered by failure time, and
 * `retryInterval`; servers can be added and removed (node discovery). Pure logic: no I/O, the clock is injected.
 */

interface Inactive<S> {
  server: S;
  since: number;
}

/** Pool events, for the logger. */
export type PoolEvent<S> = { type: "removed"; server: S; reason: string } | { type: "restored"; server: S };

export class ServerPool<S> {
  private readonly active: S[];
  private readonly inactive: Array<Inactive<S>> = [];

  constructor(
    servers: readonly S[],
    private readonly retryInterval: number,
    private readonly now: () => number = Date.now,
    private readonly onEvent: (event: PoolEvent<S>) => void = () => {},
  ) {
    this.active = [...servers];
  }

  /** The servers in rotation, in the order they will be tried. */
  activeServers(): readonly S[] {
    this.restoreDue();
    return [...this.active];
  }

  /** The total number of servers (active and inactive). */
  get size(): number {
    return this.active.length + this.inactive.length;
  }

  /**
   * The server for the next attempt, rotated to the end. Due inactive servers are put back first
   * (after every active one); when none is active, the one that failed longest ago is used.
   */
  next(): S {
    this.restoreDue();
    if (this.active.length === 1) return this.active[0] as S;
    if (this.active.length === 0) {
      const oldest = this.inactive.shift();
      if (oldest === undefined) throw new Error("ServerPool is empty");
      this.active.push(oldest.server);
    }
    const server = this.active.shift() as S;
    this.active.push(server);
    return server;
  }

  /** Takes a server out of the rotation for `retryInterval` (refreshing the time if it is already out). */
  markFailed(server: S, reason: string): void {
    const i = this.active.indexOf(server);
    if (i >= 0) {
      this.active.splice(i, 1);
    } else {
      const j = this.inactive.findIndex((e) => e.server === server);
      if (j < 0) return;
      this.inactive.splice(j, 1);
    }
    this.inactive.push({ server, since: this.now() });
    if (i >= 0) this.onEvent({ type: "removed", server, reason });
  }

  /**
   * Adds a server to the rotation, after every active one (as a restored server re-enters).
   * A server already in the pool, active or inactive, is left where it is.
   */
  add(server: S): void {
    if (this.active.includes(server) || this.inactive.some((e) => e.server === server)) return;
    this.restoreDue(); // servers due before now re-enter first
    this.active.push(server);
  }

  /** Removes a server for good, active or inactive. A later `markFailed` of it is ignored. */
  remove(server: S): boolean {
    const i = this.active.indexOf(server);
    if (i >= 0) {
      this.active.splice(i, 1);
      return true;
    }
    const j = this.inactive.findIndex((e) => e.server === server);
    if (j < 0) return false;
    this.inactive.splice(j, 1);
    return true;
  }

  private restoreDue(): void {
    if (this.inactive.length === 0) return;
    const now = this.now();
    while (this.inactive.length > 0) {
      const oldest = this.inactive[0] as Inactive<S>;
      if (oldest.since + this.retryInterval > now) break;
      this.inactive.shift();
      this.active.push(oldest.server);
      this.onEvent({ type: "restored", server: oldest.server });
    }
  }
}
