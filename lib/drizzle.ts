/**
 * `cratedb-fetch/drizzle`: Drizzle ORM over a cratedb-fetch connection, through `drizzle-orm/pg-proxy`.
 *
 * The pg-proxy callback gets `method: "all"` when Drizzle maps rows by position (CrateDB's rows as they are)
 * and `"execute"` otherwise (rows as objects). TIMESTAMP and DATE values arrive as epoch milliseconds;
 * they are handed over as `Date`, which Drizzle's `timestamp()`/`date()` columns pass through (both modes).
 * Statements pg-proxy runs with `"execute"` (insert/update/delete without `returning`, `db.execute()`) resolve
 * to the rows array, the one place pg-proxy passes through: it carries CrateDB's `rowcount` as `rowCount`.
 * drizzle-orm is a peer dependency: only this subpath imports it.
 */
import type { Assume, DrizzleConfig } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as pgProxy, type RemoteCallback } from "drizzle-orm/pg-proxy";
import type { RequestOptions } from "./options.js";
import type { SqlResult } from "./result.js";
import type { ColType } from "./types.js";

/** What the Drizzle callback needs of a connection (a `Connection`, a session, or a wrapper). */
export interface DrizzleQueryable {
  query<R = unknown[]>(stmt: string, args?: unknown[], opts?: RequestOptions): Promise<SqlResult<R>>;
}

// TIMESTAMP WITH TIME ZONE (11), TIMESTAMP WITHOUT TIME ZONE (15), DATE (24): epoch ms.
const TIME_TYPES = new Set<ColType>([11, 15, 24]);

function needsDate(t: ColType | undefined): boolean {
  return t !== undefined && (typeof t === "number" ? TIME_TYPES.has(t) : needsDate(t[1]));
}

function toDate(v: unknown, t: ColType): unknown {
  if (v === null || v === undefined) return v;
  if (Array.isArray(v) && typeof t !== "number") return v.map((x) => toDate(x, t[1]));
  return typeof v === "number" ? new Date(v) : v;
}

/** Rows with epoch-ms time values as `Date` (array rows keep their positions). */
function withDates(res: SqlResult<unknown[]>, objects: boolean): unknown[] {
  const cols = res.colTypes.flatMap((t, i) => (needsDate(t) ? [i] : []));
  if (cols.length === 0) return objects ? res.rows.map((row) => toRecord(res.cols, row)) : res.rows;
  return res.rows.map((row) => {
    for (const i of cols) row[i] = toDate(row[i], res.colTypes[i] as ColType);
    return objects ? toRecord(res.cols, row) : row;
  });
}

function toRecord(cols: readonly string[], row: readonly unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < cols.length; i++) Object.defineProperty(o, cols[i] as string, { value: row[i], enumerable: true, writable: true, configurable: true });
  return o;
}

/**
 * What a statement without `returning` resolves to: the rows (none for DML) and, as node-postgres and
 * Neon name it, `rowCount`: the rows CrateDB's `rowcount` reports as inserted, updated or deleted (for a
 * SELECT, the rows returned). Not enumerable, so the array prints and compares as before.
 */
export type CrateDBDrizzleRows<T> = T[] & { readonly rowCount?: number };

/** Drizzle's query-result kind for {@link drizzle}: pg-proxy's (rows as objects), with `rowCount`. */
export interface CrateDBQueryResultHKT extends PgQueryResultHKT {
  type: CrateDBDrizzleRows<Assume<this["row"], { [column: string]: any }>>;
}

/** The database {@link drizzle} returns: pg-proxy's, with `rowCount` on the result of statements without `returning`. */
export type CrateDBDrizzleDatabase<TSchema extends Record<string, unknown> = Record<string, never>> = PgDatabase<CrateDBQueryResultHKT, TSchema>;

/**
 * The `drizzle-orm/pg-proxy` callback for a connection. Errors reject with cratedb-fetch's classes
 * (never an empty result). `opts` (e.g. a `timeout`) applies to every query.
 *
 * @example
 * ```ts
 * import { drizzle } from "drizzle-orm/pg-proxy";
 * const db = drizzle(createDrizzleCallback(conn));
 * ```
 */
export function createDrizzleCallback(connection: DrizzleQueryable, opts?: Omit<RequestOptions, "rowMode">): RemoteCallback {
  return async (stmt, params, method) => {
    // Rows are fetched as arrays and turned into objects after the time values (one decoding path).
    const res = await connection.query(stmt, params, { ...opts, rowMode: "array" });
    const rows = withDates(res, method !== "all");
    // pg-proxy hands an "execute" result's rows array to the caller as is ("all" rows are mapped into a new
    // one): the count rides on it. -1 (unknown) is left out.
    if (method === "execute" && res.rowcount >= 0) Object.defineProperty(rows, "rowCount", { value: res.rowcount, enumerable: false });
    return { rows };
  };
}

/**
 * A Drizzle database on a cratedb-fetch connection.
 *
 * @example
 * ```ts
 * import { connect } from "cratedb-fetch";
 * import { drizzle } from "cratedb-fetch/drizzle";
 * const db = drizzle(connect("http://localhost:4200"));
 * const rows = await db.select().from(users).where(eq(users.id, 1));
 * const { rowCount } = await db.update(users).set({ name: "Ada" }).where(eq(users.id, 1)); // 1
 * ```
 */
export function drizzle<TSchema extends Record<string, unknown> = Record<string, never>>(
  connection: DrizzleQueryable, config?: DrizzleConfig<TSchema>,
): CrateDBDrizzleDatabase<TSchema> {
  // A PgRemoteDatabase at run time; only the result type says more (the rowCount the callback adds).
  return pgProxy<TSchema>(createDrizzleCallback(connection), config) as unknown as CrateDBDrizzleDatabase<TSchema>;
}
