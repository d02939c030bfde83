/** Cursor: the PEP 249 surface over query results. */
import type { Runner } from "./runner.js";
import { InterfaceError, ProgrammingError } from "./errors.js";
import { toBulkResult, toSqlResult, type BulkItem } from "./result.js";
import { kit } from "./kit.js";
import { lazy } from "./lazy.js";
import type { ColType, Converter } from "./types.js";
import { hide, inspectAs } from "./inspect.js";

// The parameter rewriting (`%(name)s`), loaded by the first execute: a chunk of its own.
const paramsLayer = /* @__PURE__ */ lazy(() => import("./params.js"), "cursor parameters");

/** A PEP 249 column description: `[name, type, null, null, null, null, null]`. */
export type ColumnDescription = [string, ColType | null, null, null, null, null, null];

interface CursorResult {
  cols: string[];
  colTypes: ColType[];
  rows: unknown[][];
  rowcount: number;
  duration: number;
}

/**
 * A PEP 249 cursor. `execute` sends a statement; `fetchone`/`fetchmany`/`fetchall` read the rows
 * it returned. Parameters are an array (`?`, `$1`) or an object for `%(name)s` placeholders.
 *
 * @example
 * ```ts
 * const cur = conn.cursor();
 * await cur.execute("SELECT name FROM t WHERE kind = %(kind)s", { kind: "planet" });
 * for (const [name] of cur) console.log(name);
 * ```
 */
export class Cursor {
  /** Rows `fetchmany()` returns when no size is given. @default 1 */
  arraysize = 1;
  private result: CursorResult | undefined;
  private position = 0;
  private isClosed = false;

  /** @internal Use `conn.cursor()`. */
  constructor(readonly connection: Runner, private readonly converter: Converter | undefined) {
    hide(this, "connection", "converter", "result");
    inspectAs(this, "Cursor"); // util.inspect / console.log show what toJSON() shows
  }

  /** Rows returned or affected by the last execute; −1 when there is none or the cursor is closed. */
  get rowcount(): number {
    return this.isClosed || this.result === undefined ? -1 : this.result.rowcount;
  }

  /** Server-side duration of the last execute in ms; −1 when there is none or the cursor is closed. */
  get duration(): number {
    return this.isClosed || this.result === undefined ? -1 : this.result.duration;
  }

  /** One 7-tuple per column (with the column type), or `null` before any execute and after close. */
  get description(): ColumnDescription[] | null {
    if (this.isClosed || this.result === undefined) return null;
    const { cols, colTypes } = this.result;
    return cols.map((name, i) => [name, colTypes[i] ?? null, null, null, null, null, null]);
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** When the call began, if the parameters layer is still to load: the call's deadline counts from then. */
  private since(): number | undefined {
    return paramsLayer.now === undefined ? Date.now() : undefined;
  }

  private ensureUsable(): void {
    this.connection.ensureOpen();
    if (this.isClosed) throw new ProgrammingError("Cursor closed");
  }

  /**
   * Executes a statement. With `bulkParams` the statement runs once per row (as `executemany`).
   * Giving both non-empty `params` and `bulkParams` throws `InterfaceError`.
   */
  async execute(stmt: string, params?: unknown[] | Record<string, unknown> | null, bulkParams?: unknown[][] | Array<Record<string, unknown>> | null): Promise<void> {
    const since = this.since();
    const p = paramsLayer.now ?? (await paramsLayer.within(this.connection.options.timeout, undefined));
    this.ensureUsable();
    const hasParams = params !== undefined && params !== null && (!Array.isArray(params) || params.length > 0);
    if (bulkParams !== undefined && bulkParams !== null) {
      if (hasParams && (!Array.isArray(bulkParams) || bulkParams.length > 0)) {
        throw new InterfaceError("Give either parameters or bulk parameters, not both");
      }
      await this.executemany(stmt, bulkParams);
      return;
    }
    const prepared = p.prepareParams(kit, stmt, params);
    const payload = prepared.args === undefined ? {} : { args: prepared.args };
    const conn = this.connection;
    const res = await conn.traced(prepared.stmt, prepared.args?.length ?? 0, undefined, {}, since, (from) => conn.runSql(prepared.stmt, payload, {}, from),
      (answer) => toSqlResult<unknown[]>(answer, conn.options, this.converter, "array"));
    this.result = res;
    this.position = 0;
  }

  /** Executes a statement once per row of parameters in one bulk request; returns the items. */
  async executemany(stmt: string, seq: unknown[][] | Array<Record<string, unknown>>): Promise<BulkItem[]> {
    const since = this.since();
    const p = paramsLayer.now ?? (await paramsLayer.within(this.connection.options.timeout, undefined));
    this.ensureUsable();
    const prepared = p.prepareBulk(kit, stmt, seq);
    const conn = this.connection;
    const bulk = await conn.traced(prepared.stmt, 0, prepared.bulkArgs.length, {}, since, (from) => conn.runSql(prepared.stmt, { bulk_args: prepared.bulkArgs }, {}, from),
      (answer) => toBulkResult(answer, conn.options));
    this.result = { cols: bulk.cols, colTypes: [], rows: [], rowcount: bulk.rowcount, duration: bulk.duration };
    this.position = 0;
    return bulk.results;
  }

  private rows(): unknown[][] {
    if (this.isClosed) throw new ProgrammingError("Cursor closed");
    if (this.result === undefined) throw new ProgrammingError("No result available. execute() or executemany() must be called first.");
    return this.result.rows;
  }

  /** The next row, or `null` when there is none left. */
  fetchone(): unknown[] | null {
    const rows = this.rows();
    return this.position < rows.length ? (rows[this.position++] as unknown[]) : null;
  }

  /** Up to `size` rows (default `arraysize`); `0` means every row left. */
  fetchmany(size: number = this.arraysize): unknown[][] {
    const rows = this.rows();
    if (typeof size !== "number" || Number.isNaN(size)) throw new InterfaceError("fetchmany() size must be a number");
    if (size < 0) return [];
    const end = size === 0 ? rows.length : Math.min(rows.length, this.position + Math.floor(size));
    const out = rows.slice(this.position, end);
    this.position = Math.max(this.position, end);
    return out;
  }

  /** Every row left. */
  fetchall(): unknown[][] {
    return this.fetchmany(0);
  }

  /** Iterates over the rows left. */
  *[Symbol.iterator](): IterableIterator<unknown[]> {
    for (let row = this.fetchone(); row !== null; row = this.fetchone()) yield row;
  }

  /** Iterates over the rows left, for `for await` loops written for streams too. */
  async *[Symbol.asyncIterator](): AsyncIterableIterator<unknown[]> {
    for (let row = this.fetchone(); row !== null; row = this.fetchone()) yield row;
  }

  /** Closes the cursor (synchronous). Rows are dropped; `rowcount`/`duration` become −1. */
  close(): void {
    this.isClosed = true;
    this.result = undefined;
  }

  /** What `JSON.stringify(cursor)` shows: the state (never its connection, rows or a secret). */
  toJSON(): { closed: boolean; rowcount: number; duration: number; arraysize: number; columns: string[] | null } {
    return { closed: this.isClosed, rowcount: this.rowcount, duration: this.duration, arraysize: this.arraysize, columns: this.description?.map((d) => d[0]) ?? null };
  }
}
