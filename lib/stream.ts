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
import { hide, inspectable } from "./inspect.js";

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

/**
 * The rows of a query, read through a server-side cursor as they are consumed. Iterate it once,
 * by row (`for await (const row of stream)`) or by batch (`for await (const rows of stream.batches())`).
 * The cursor and the stream's session are closed when the rows are exhausted, on `break`, on a throw
 * in the loop, on an abort of `signal`, and by `close()`.
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
  private inFlight = false;
  private closing: Promise<void> | undefined;
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
    this.opts.signal?.addEventListener("abort", () => void this.close(), { once: true });
    hide(this, "open", "host", "opts", "args");
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
    if (this.closing !== undefined) return;
    const { signal } = this.opts;
    try {
      if (signal?.aborted) throw signal.reason;
      const host = (this.host = this.open());
      const runner = host.runner;
      const rowMode = this.opts.rowMode ?? runner.options.rowMode;
      await this.send(`DECLARE ${this.name} NO SCROLL CURSOR WITH HOLD FOR ${this.stmt}`, this.args, rowMode);
      this.declared = true;
      for (;;) {
        if (signal?.aborted) throw signal.reason;
        const res = await this.send(`FETCH ${this.batchSize} FROM ${this.name}`, undefined, rowMode);
        if (this.count === 0 && res.cols.length > 0) {
          this.columns = res.cols;
          this.types = res.colTypes;
        }
        this.count += res.rows.length;
        if (res.rows.length > 0) yield res.rows;
        if (res.rows.length < this.batchSize || this.closing !== undefined) break;
      }
    } finally {
      await this.close();
    }
  }

  /** Sends one statement of the stream through the session's `query()` (so it is traced like any query). */
  private async send(stmt: string, args: unknown[] | undefined, rowMode: RowMode): Promise<SqlResult<R>> {
    this.inFlight = true;
    try {
      return await (this.host as StreamHost).runner.query<R>(stmt, args, { ...this.opts, rowMode });
    } finally {
      this.inFlight = false;
    }
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
        await this.close();
        return DONE;
      },
    };
  }

  /** Closes the cursor and the stream's own session. Idempotent; safe at any time. */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    const host = this.host;
    if (host === undefined) return;
    try {
      // With a request in flight the socket is being torn down (abort): the cursor goes with it.
      if (this.declared && !this.inFlight && !host.runner.closed) {
        await host.runner.query(`CLOSE ${this.name}`, undefined, this.opts.timeout === undefined ? {} : { timeout: this.opts.timeout });
      }
    } catch {
      // The session is lost or closed: the server dropped the cursor with its connection.
    } finally {
      await host.release();
    }
  }

  /** `await using rows = conn.stream(…)` closes the stream at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What `JSON.stringify(stream)` shows: its state (never its session, arguments or a secret). */
  toJSON(): { batchSize: number; cols: string[]; rowcount: number; started: boolean; closed: boolean } {
    return { batchSize: this.batchSize, cols: this.columns, rowcount: this.count, started: this.started, closed: this.closing !== undefined };
  }

  // `util.inspect(stream)` and `console.log(stream)` (Node, Bun, Deno) show what toJSON() shows.
  static {
    inspectable(this, "RowStream");
  }
}
