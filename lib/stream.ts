/**
 * Results larger than memory: a server-side cursor read in batches. CrateDB builds each response
 * whole before sending it, so a stream is `DECLARE <name> NO SCROLL CURSOR WITH HOLD FOR <query>`,
 * then `FETCH <batchSize> FROM <name>` until fewer rows come back, then `CLOSE <name>`, all on one
 * session (a cursor lives on its HTTP connection). `WITH HOLD` because CrateDB allows no other cursor
 * outside `BEGIN`; `NO SCROLL` because a scrollable cursor keeps every passed row in memory.
 *
 * RowStream is made synchronously by `stream()` and checks its arguments at once; what runs the
 * cursor (stream-run.ts) is loaded when the stream is first iterated.
 */
import { InterfaceError, ProgrammingError } from "./errors.js";
import { lazy } from "./lazy.js";
import type { RequestOptions } from "./options.js";
import { checkRequestOptions } from "./resolve.js";
import type { StreamHost, StreamState } from "./stream-run.js";
import type { ColType } from "./types.js";
import { leadingKeyword } from "./statements.js";
import { hide, inspectAs } from "./inspect.js";

/** Options of `stream()`. */
export interface StreamOptions extends RequestOptions {
  /**
   * Rows per `FETCH`: the most rows held in memory at once (per batch).
   * @default 1000
   */
  batchSize?: number;
}

const run = /* @__PURE__ */ lazy(() => import("./stream-run.js"), "stream");
const DONE: IteratorResult<never, undefined> = { done: true, value: undefined };

/**
 * The rows of a query, read through a server-side cursor as they are consumed. Iterate it once,
 * by row (`for await (const row of stream)`) or by batch (`for await (const rows of stream.batches())`).
 * While the consumer handles one batch the next is already being fetched (at most two in memory).
 * The cursor and the stream's session are closed when the rows are exhausted, on `break`, on a throw
 * in the loop, on an abort of `signal`, and by `close()`. Only the consumer's own `break`/`return`
 * ends an unfinished stream quietly: an abort rejects the iteration with the signal's reason, and
 * `close()` from outside with a `ProgrammingError`, so that a cut-off result never looks complete.
 */
export class RowStream<R = unknown[]> implements AsyncIterable<R> {
  /** @internal */
  readonly state: StreamState;

  /** @internal Use `conn.stream()` or `session.stream()`. */
  constructor(open: () => StreamHost, stmt: string, args: unknown[] | undefined, opts: StreamOptions | undefined,
    private readonly defaultTimeout?: number) {
    if (typeof stmt !== "string" || stmt.trim() === "") throw new InterfaceError("The statement must be a non-empty string");
    const first = leadingKeyword(stmt);
    if (first === "WITH") {
      throw new ProgrammingError("stream() cannot run a query that starts with WITH: CrateDB's DECLARE does not accept one. " +
        "Move the WITH into a subquery (SELECT * FROM (WITH … SELECT …) AS t) or use query()");
    }
    if (first !== "SELECT" && first !== "VALUES") throw new ProgrammingError(`stream() takes a query (SELECT or VALUES), not ${first ?? "this statement"}`);
    if (args !== undefined && !Array.isArray(args)) throw new InterfaceError("stream() arguments must be an array");
    const { batchSize = 1000, ...rest } = opts ?? {};
    if (typeof batchSize !== "number" || !Number.isInteger(batchSize) || batchSize < 1) {
      throw new InterfaceError(`stream() option 'batchSize' must be a positive integer, got ${String(batchSize)}`);
    }
    this.state = {
      stmt, args, batchSize, opts: checkRequestOptions(rest), open, name: "", host: undefined, started: false, declared: false,
      pending: undefined, stopped: undefined, closing: undefined, onAbort: undefined, columns: [], types: [], count: 0,
    };
    hide(this, "state"); // its session and arguments
    inspectAs(this, "RowStream"); // util.inspect / console.log show what toJSON() shows
  }

  /** Column names; known once the first batch arrived, `[]` before. */
  get cols(): string[] {
    return this.state.columns;
  }

  /** Column types; known once the first batch arrived, `[]` before. */
  get colTypes(): ColType[] {
    return this.state.types;
  }

  /** Rows received so far. */
  get rowcount(): number {
    return this.state.count;
  }

  /** The rows in batches of at most `batchSize`. */
  async *batches(): AsyncGenerator<R[], void, undefined> {
    const state = this.state;
    if (state.started) throw new ProgrammingError("A stream can be iterated only once");
    state.started = true;
    yield* (run.now ?? (await run.within(state.opts.timeout ?? this.defaultTimeout, state.opts.signal))).batches<R>(state);
  }

  /** The rows one by one. */
  [Symbol.asyncIterator](): AsyncIterator<R> {
    const batches = this.batches();
    let batch: R[] = [];
    let i = 0;
    const pull = async (): Promise<IteratorResult<R, undefined>> => {
      for (;;) {
        const r = await batches.next();
        if (r.done === true) return DONE;
        if (r.value.length === 0) continue;
        batch = r.value;
        i = 1;
        return { done: false, value: batch[0] as R };
      }
    };
    return {
      // Rows of a batch already in memory need no async function frame.
      next: () => (i < batch.length ? Promise.resolve({ done: false, value: batch[i++] as R }) : pull()),
      return: async () => {
        batch = [];
        await batches.return(undefined);
        await this.finish();
        return DONE;
      },
    };
  }

  /**
   * Stops the stream from outside: closes the cursor and the stream's own session. An iteration in
   * progress rejects with a `ProgrammingError`; use `break` in the loop to end it quietly. Idempotent.
   */
  close(): Promise<void> {
    this.state.stopped ??= { error: new ProgrammingError("The stream was closed (close()) before its rows were read to the end") };
    return this.finish();
  }

  /** Ends the stream. Before stream-run.ts is loaded there is no session or listener to release. */
  private finish(): Promise<void> {
    const loaded = run.now;
    return loaded !== undefined ? loaded.finish(this.state) : (this.state.closing ??= Promise.resolve());
  }

  /** `await using rows = conn.stream(…)` closes the stream at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.finish();
  }

  /** What `JSON.stringify(stream)` shows: its state (never its session, arguments or a secret). */
  toJSON(): { batchSize: number; cols: string[]; rowcount: number; started: boolean; closed: boolean } {
    const s = this.state;
    return { batchSize: s.batchSize, cols: s.columns, rowcount: s.count, started: s.started, closed: s.closing !== undefined || s.stopped !== undefined };
  }
}
