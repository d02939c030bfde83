/**
 * Results larger than memory: a server-side cursor read in batches. CrateDB builds each response
 * whole before sending it, so a stream is `DECLARE <name> NO SCROLL CURSOR WITH HOLD FOR <query>`,
 * then `FETCH <batchSize> FROM <name>` until fewer rows come back, then `CLOSE <name>`, all on one
 * session (a cursor lives on its HTTP connection). `WITH HOLD` because CrateDB allows no other cursor
 * outside `BEGIN`; `NO SCROLL` because a scrollable cursor keeps every passed row in memory.
 */
import { uuid } from "./cancel.js";
import { InterfaceError, ProgrammingError } from "./errors.js";
import type { RequestOptions, RowMode } from "./options.js";
import { checkRequestOptions, type Queryable } from "./queryable.js";
import type { SqlResult } from "./result.js";
import { leadingKeyword } from "./statements.js";
import type { ColType } from "./types.js";
import { hide, inspectAs } from "./inspect.js";

/** Options of `stream()`. */
export interface StreamOptions extends RequestOptions {
  /**
   * Rows per `FETCH`: the most rows held in memory at once (per batch).
   * @default 1000
   */
  batchSize?: number;
}

/** @internal A session to run a stream on, and what to do with it afterwards. */
export interface StreamHost {
  runner: Queryable;
  release(): Promise<void>;
}

const DONE: IteratorResult<never, undefined> = { done: true, value: undefined };
const CLOSE_ATTEMPTS = 3;

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
  private readonly stmt: string;
  private readonly args: unknown[] | undefined;
  private readonly batchSize: number;
  private readonly opts: RequestOptions;
  private readonly name = `cratedb_fetch_${uuid().replace(/-/g, "")}`;
  private host: StreamHost | undefined;
  private started = false;
  private declared = false;
  /** The DECLARE or FETCH in flight, settled-safe: closing waits for it before sending CLOSE. */
  private pending: Promise<unknown> | undefined;
  /** Why the stream was stopped from outside (an abort, `close()`): the iteration rejects with it. */
  private stopped: { error: unknown } | undefined;
  private closing: Promise<void> | undefined;
  private onAbort: (() => void) | undefined;
  private columns: string[] = [];
  private types: ColType[] = [];
  private count = 0;

  /** @internal Use `conn.stream()` or `session.stream()`. */
  constructor(private readonly open: () => StreamHost, stmt: string, args: unknown[] | undefined, opts: StreamOptions | undefined) {
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
    this.opts = checkRequestOptions(rest);
    this.stmt = stmt;
    this.args = args;
    this.batchSize = batchSize;
    hide(this, "open", "host", "opts", "args", "pending");
    inspectAs(this, "RowStream"); // util.inspect / console.log show what toJSON() shows
  }

  /** Column names; known once the first batch arrived, `[]` before. */
  get cols(): string[] {
    return this.columns;
  }

  /** Column types; known once the first batch arrived, `[]` before. */
  get colTypes(): ColType[] {
    return this.types;
  }

  /** Rows received so far. */
  get rowcount(): number {
    return this.count;
  }

  /** The rows in batches of at most `batchSize`. */
  async *batches(): AsyncGenerator<R[], void, undefined> {
    if (this.started) throw new ProgrammingError("A stream can be iterated only once");
    this.started = true;
    const { signal } = this.opts;
    try {
      this.check();
      if (signal !== undefined) {
        // Removed again when the stream ends: a long-lived signal must not collect one per stream.
        const onAbort = (): void => this.halt(signal.reason);
        this.onAbort = onAbort;
        signal.addEventListener("abort", onAbort, { once: true });
      }
      const host = (this.host = this.open());
      const rowMode = this.opts.rowMode ?? host.runner.options.rowMode;
      await this.send(`DECLARE ${this.name} NO SCROLL CURSOR WITH HOLD FOR ${this.stmt}`, this.args, rowMode, true);
      this.check();
      const fetch = `FETCH ${this.batchSize} FROM ${this.name}`;
      let next = this.send(fetch, undefined, rowMode, false);
      for (;;) {
        const res = await next;
        this.check();
        if (this.count === 0 && res.cols.length > 0) {
          this.columns = res.cols;
          this.types = res.colTypes;
        }
        this.count += res.rows.length;
        const more = res.rows.length >= this.batchSize;
        // Fetch the next batch while the consumer handles this one.
        if (more) next = this.send(fetch, undefined, rowMode, false);
        if (res.rows.length > 0) yield res.rows;
        this.check();
        if (!more) break;
      }
    } finally {
      await this.finish();
    }
  }

  /** Throws why the stream was stopped from outside, if it was. */
  private check(): void {
    const { signal } = this.opts;
    if (this.stopped === undefined && signal?.aborted) this.stopped = { error: signal.reason };
    if (this.stopped !== undefined) throw this.stopped.error;
  }

  /** Sends one statement of the stream through the session's `query()` (so it is traced like any query). */
  private send(stmt: string, args: unknown[] | undefined, rowMode: RowMode, declare: boolean): Promise<SqlResult<R>> {
    const sent = (this.host as StreamHost).runner.query<R>(stmt, args, { ...this.opts, rowMode });
    const done = declare ? sent.then((res) => ((this.declared = true), res)) : sent;
    // A prefetch may fail before the consumer asks for it: it is handled (rethrown) when awaited.
    this.pending = done.catch(() => undefined);
    return done;
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
    this.halt(new ProgrammingError("The stream was closed (close()) before its rows were read to the end"));
    return this.finish();
  }

  private halt(error: unknown): void {
    this.stopped ??= { error };
    void this.finish();
  }

  /** Ends the stream: waits for a request in flight, closes the cursor, releases the session. */
  private finish(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    if (this.onAbort !== undefined) this.opts.signal?.removeEventListener("abort", this.onAbort);
    this.onAbort = undefined;
    const host = this.host;
    if (host === undefined) return;
    try {
      // A DECLARE or FETCH still running would answer after CLOSE on another request: wait for it.
      await this.pending;
      if (this.declared) await this.closeCursor(host);
    } finally {
      await host.release();
    }
  }

  /** CLOSE, retried on a live session; when it still fails the cursor goes with the session, and it is logged. */
  private async closeCursor(host: StreamHost): Promise<void> {
    const runner = host.runner;
    const opts = this.opts.timeout === undefined ? {} : { timeout: this.opts.timeout };
    for (let attempt = 1; ; attempt++) {
      // A closed or lost session took its cursors with its connection.
      if (runner.closed) return;
      try {
        await runner.query(`CLOSE ${this.name}`, undefined, opts);
        return;
      } catch (err) {
        if (runner.closed) return;
        if (attempt >= CLOSE_ATTEMPTS) {
          const why = runner.options.redactor.redact(err instanceof Error ? err.message : String(err));
          runner.options.logger.warn?.call(runner.options.logger, `stream: CLOSE ${this.name} failed ${attempt} times (${why}); ` +
            "the cursor stays open on the server until its session is closed");
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }

  /** `await using rows = conn.stream(…)` closes the stream at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.finish();
  }

  /** What `JSON.stringify(stream)` shows: its state (never its session, arguments or a secret). */
  toJSON(): { batchSize: number; cols: string[]; rowcount: number; started: boolean; closed: boolean } {
    return { batchSize: this.batchSize, cols: this.columns, rowcount: this.count, started: this.started, closed: this.closing !== undefined || this.stopped !== undefined };
  }
}
