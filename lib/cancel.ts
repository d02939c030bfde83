/**
 * Server-side cancellation. Closing an HTTP connection does not stop a CrateDB statement, and the job
 * id is never sent to the client. So a statement sent with a signal or timeout carries a trailing
 * marker comment (kept verbatim in `sys.jobs.stmt`); when the caller gives up, the job is looked up by
 * that marker and killed (`KILL ?`, users may kill their own jobs since CrateDB 4.3). Best effort:
 * it never delays the caller's rejection, and its outcome is logged at debug level. Loaded (a chunk of its
 * own) the first time a statement is sent that may need a kill.
 */
import type { Kit } from "./kit.js";
import type { Logger } from "./options.js";
import type { Answer, Requester, RequestSpec } from "./request.js";
import type { ServerEntry } from "./servers.js";
import { uuid } from "./uuid.js";

/**
 * Where a connection (and its sessions) keep their canceller: made on the first kill, so that a
 * connection that never kills holds none, and `close()` waits only for kills that were started.
 */
export interface Kills {
  readonly kit: Kit;
  readonly requester: Requester;
  readonly logger: Logger;
  readonly redact: (text: string) => string;
  canceller?: Canceller;
}

function cancellerOf(kills: Kills): Canceller {
  return (kills.canceller ??= new Canceller(kills.kit, kills.requester, kills.logger, kills.redact));
}

/**
 * Sends a statement with a marker (loaded by Queryable for statements sent with a signal or timeout
 * and `killOnAbort`): `encode` makes the request body from the marked statement (gzipped when
 * compressed), `send` sends a body under `scope`. When the caller gives up, the statement is killed.
 */
export function sendMarked(kills: Kills, stmt: string, encode: (marked: string) => string | Promise<Uint8Array>,
  send: (body: string | Uint8Array, scope: CancelScope) => Promise<Answer>, signal: AbortSignal | undefined): Promise<Answer> {
  const render = (id: string): string | Promise<Uint8Array> => encode(withMarker(stmt, id));
  const scope = new CancelScope(kills, render);
  const first = render(scope.id);
  const sent = typeof first === "string" ? send(first, scope) : first.then((bytes) => send(bytes, scope));
  return sent.catch((err: unknown) => {
    scope.gaveUp(signal);
    throw err;
  });
}

const JSON_HEADERS: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
// The needle is built by concat() at run time, so this lookup never finds itself.
const LOOKUP = "SELECT id FROM sys.jobs WHERE strpos(stmt, concat('/* cratedb-fetch:', ?, ' */')) > 0";
// A job shows in sys.jobs only once planned: look again a few times before giving up.
const LOOKUP_DELAYS = [0, 50, 100, 200, 400];
// Short: a lookup that hangs is tried again, and close() waits for kills at most 2 s.
const KILL_TIMEOUT = 1_000;

/** The statement with its marker; after the statement, so error positions do not move. */
export function withMarker(stmt: string, id: string): string {
  return `${stmt}\n/* cratedb-fetch:${id} */`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills the jobs of a marked statement; pending kills are awaited by `Connection.close()`. */
export class Canceller {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly kit: Kit, private readonly requester: Requester, private readonly logger: Logger,
    private readonly redact: (text: string) => string) {}

  /** Starts killing the statement marked `id` (ask `server` first when known, then any node). Never rejects. */
  kill(id: string, server: ServerEntry | undefined, why: string): void {
    const task = this.run(id, server, why).catch((err: unknown) => {
      this.debug(`cancel ${id}: could not kill (${this.redact(err instanceof Error ? err.message : String(err))})`);
    });
    this.pending.add(task);
    void task.finally(() => this.pending.delete(task));
  }

  /** Waits for kills in flight (each bounded by its timeouts). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async run(id: string, server: ServerEntry | undefined, why: string): Promise<void> {
    let failure: unknown;
    // The node that ran the statement is asked first; once it fails, any node (sys.jobs lists the jobs of
    // the whole cluster, and KILL works from any node).
    let target = server;
    for (const delay of LOOKUP_DELAYS) {
      if (delay > 0) await sleep(delay);
      let ids: string[];
      try {
        ids = await this.sql(LOOKUP, [id], target);
      } catch (err) {
        // A 503, a reset, a hang on the node: look again. Anything else (the connection closed, a refused
        // lookup) will not get better.
        if (!(err instanceof this.kit.ConnectionError)) throw err;
        failure = err;
        target = undefined;
        continue;
      }
      if (ids.length === 0) continue;
      for (const job of ids) {
        await this.sql("KILL ?", [job], target).catch((err: unknown) => {
          if (!(err instanceof this.kit.ConnectionError)) throw err;
          return this.sql("KILL ?", [job], undefined);
        });
      }
      this.debug(`cancel ${id} (${why}): killed ${ids.length === 1 ? "job" : "jobs"} ${ids.join(", ")}`);
      return;
    }
    if (failure !== undefined) throw failure;
    this.debug(`cancel ${id} (${why}): no running job found (it finished or never started)`);
  }

  /** Both statements may be sent again: a lookup reads, and a second KILL of a job finds nothing to kill. */
  private async sql(stmt: string, args: unknown[], server: ServerEntry | undefined): Promise<string[]> {
    const spec: RequestSpec = {
      method: "POST", path: "/_sql", headers: JSON_HEADERS, body: JSON.stringify({ stmt, args }),
      retrySafe: true, schema: true, timeout: KILL_TIMEOUT,
    };
    if (server !== undefined) spec.pinned = server;
    const { body } = await this.kit.readJson(await this.requester.send(spec), { int64: "string", numeric: "string" });
    const rows = Array.isArray(body.rows) ? (body.rows as unknown[][]) : [];
    return rows.map((r) => String(r[0]));
  }

  private debug(message: string): void {
    this.logger.debug?.call(this.logger, message);
  }
}

/**
 * One cancellable statement: its marker, the request carrying it, and what to kill when it gives up.
 * An attempt that timed out after it was sent is killed at once, and a retry (a read with
 * `retryOnTimeout`, on the next node) gets a new marker so that the kill cannot reach it; a gzipped
 * body is compressed again with the new marker.
 */
export class CancelScope {
  /** The marker of the attempt being sent. */
  id: string = uuid();
  private spec: RequestSpec | undefined;

  /** `render` makes the request body for a marker (the statement with it, gzipped when compressed). */
  constructor(private readonly kills: Kills, private readonly render: (id: string) => Uint8Array | string | Promise<Uint8Array | string>) {}

  /** Follows `spec`: the request loop reports its attempts' timeouts here. */
  attach(spec: RequestSpec): void {
    this.spec = spec;
    spec.onAttemptTimeout = (server) => this.attemptTimedOut(spec, server);
  }

  private async attemptTimedOut(spec: RequestSpec, server: ServerEntry): Promise<void> {
    cancellerOf(this.kills).kill(this.id, server, "timed out");
    this.id = uuid();
    spec.body = await this.render(this.id);
  }

  /** The request rejected: kill what may still run (nothing when no attempt reached a server). */
  gaveUp(signal: AbortSignal | undefined): void {
    const server = this.spec?.sentTo;
    if (signal?.aborted && server !== undefined) cancellerOf(this.kills).kill(this.id, server, "aborted");
  }
}
