/**
 * `cratedb-fetch/kysely`: a Kysely dialect over a cratedb-fetch connection.
 *
 * PostgreSQL's query compiler (CrateDB takes its `$n` placeholders), an adapter without transactional DDL
 * and without advisory locks, an information_schema introspector, and a driver that sends every query
 * through `query()` and hands TIMESTAMP values over as `Date`. Kysely (0.28 or 0.29) is a peer dependency:
 * only this subpath imports it, and it uses nothing 0.29 added.
 */
import {
  PostgresAdapter, PostgresQueryCompiler, sql, type CompiledQuery, type DatabaseConnection, type DatabaseIntrospector,
  type Dialect, type DialectAdapter, type Driver, type Kysely, type MigrationLockOptions, type QueryCompiler, type QueryResult,
} from "kysely";
import { InterfaceError, NotSupportedError } from "./errors.js";
import { CrateDBIntrospector } from "./kysely-introspector.js";
import type { RequestOptions } from "./options.js";
import type { SqlResult } from "./result.js";
import type { ColType } from "./types.js";

export { CrateDBIntrospector } from "./kysely-introspector.js";

/** What the dialect needs of a connection: `query()`, and `stream()` for `streamQuery` (a Connection or Session has both). */
export interface KyselyQueryable {
  query<R = unknown[]>(stmt: string, args?: unknown[], opts?: RequestOptions): Promise<SqlResult<R>>;
  /** Optional: batches of rows through a server-side cursor (sessions). */
  stream?: (stmt: string, args?: unknown[], opts?: { batchSize?: number; signal?: AbortSignal; rowMode?: "array" | "object" }) =>
    AsyncIterable<unknown> & { batches(): AsyncIterable<unknown[]>; readonly cols?: string[]; readonly colTypes?: ColType[] };
}

/** Options of {@link CrateDBDialect}. */
export interface CrateDBDialectConfig {
  /** The connection every query goes through (from `connect()`). `db.destroy()` does not close it. */
  connection: KyselyQueryable;
  /**
   * The Migrator's table, refreshed (`REFRESH TABLE`) before each migration run so that it sees the rows
   * of runs that ended less than a refresh interval ago. Set it when you pass `migrationTableName` to the Migrator.
   * @default "kysely_migration"
   */
  migrationTableName?: string;
  /**
   * TIMESTAMP (WITH and WITHOUT TIME ZONE) and DATE values, epoch milliseconds on the wire, come back as
   * `Date`, as they do with Kysely's PostgreSQL dialect (arrays of them element by element). `false` keeps
   * the numbers. A value the connection's own `converter` already turned into something else (a `Date`, a
   * string) is left as it is.
   * @default true
   * @example
   * ```ts
   * new CrateDBDialect({ connection: conn, dates: false }); // created_at: 1709210096789
   * ```
   */
  dates?: boolean;
}

const TX_MESSAGE = "CrateDB has no transactions (BEGIN/COMMIT are ignored and there is no ROLLBACK): " +
  "run the statements without db.transaction()";

/**
 * The CrateDB adapter: PostgreSQL's, without transactional DDL (the Migrator then runs without a
 * transaction) and without `pg_advisory_lock` (CrateDB has none). The migration lock is a no-op: run one
 * Migrator at a time. Acquiring it refreshes the migration table so earlier runs are visible.
 */
export class CrateDBAdapter extends PostgresAdapter {
  private readonly migrationTable: string;

  constructor(migrationTableName = "kysely_migration") {
    super();
    this.migrationTable = migrationTableName;
  }

  override get supportsTransactionalDdl(): boolean {
    return false;
  }

  override async acquireMigrationLock(db: Kysely<any>, opt: MigrationLockOptions): Promise<void> {
    const quote = (s: string): string => `"${s.replace(/"/g, '""')}"`;
    const schema = opt.lockTableSchema === undefined ? "" : `${quote(opt.lockTableSchema)}.`;
    const tables = [opt.lockTable, this.migrationTable].map((t) => schema + quote(t)).join(", ");
    await sql.raw(`REFRESH TABLE ${tables}`).execute(db);
  }

  override async releaseMigrationLock(_db: Kysely<any>, _opt: MigrationLockOptions): Promise<void> {
    // No lock was taken (see acquireMigrationLock).
  }
}

// TIMESTAMP WITH TIME ZONE (11), TIMESTAMP WITHOUT TIME ZONE (15), DATE (24): epoch ms.
const TIME_TYPES: ReadonlySet<ColType> = new Set<ColType>([11, 15, 24]);
const isTime = (t: ColType | undefined): boolean => t !== undefined && (typeof t === "number" ? TIME_TYPES.has(t) : isTime(t[1]));

function toDate(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toDate);
  // Only numbers (and bigints, with int64: "bigint"): anything else is a connection converter's choice.
  return typeof v === "number" || typeof v === "bigint" ? new Date(Number(v)) : v;
}

/** Turns the time columns of object rows into `Date`s, in place. */
function withDates(rows: unknown[], cols: readonly string[] | undefined, types: readonly ColType[] | undefined): void {
  if (cols === undefined || types === undefined) return;
  const keys = cols.filter((_, i) => isTime(types[i]));
  if (keys.length === 0) return;
  // Rows are objects with own properties (a column named __proto__ too, see toObject), so plain
  // assignment sets the property and never the prototype.
  for (const row of rows as Array<Record<string, unknown>>) for (const k of keys) row[k] = toDate(row[k]);
}

const DML = new Set(["InsertQueryNode", "UpdateQueryNode", "DeleteQueryNode", "MergeQueryNode"]);
const DML_TEXT = /^\s*(?:\/\*[\s\S]*?\*\/\s*|--[^\n]*\n\s*)*(?:insert|update|delete)\b/i;

/** One Kysely "connection": a view of the cratedb-fetch connection (which pools sockets itself). */
export class CrateDBKyselyConnection implements DatabaseConnection {
  private readonly conn: KyselyQueryable;
  private readonly dates: boolean;

  constructor(conn: KyselyQueryable, dates = true) {
    this.conn = conn;
    this.dates = dates;
  }

  async executeQuery<R>(compiled: CompiledQuery, options?: { signal?: AbortSignal | undefined }): Promise<QueryResult<R>> {
    const opts: RequestOptions = { rowMode: "object" };
    if (options?.signal !== undefined) opts.signal = options.signal;
    const res = await this.conn.query<R>(compiled.sql, [...compiled.parameters], opts);
    if (this.dates) withDates(res.rows, res.cols, res.colTypes);
    const dml = DML.has(compiled.query.kind) || (compiled.query.kind === "RawNode" && DML_TEXT.test(compiled.sql));
    return dml && res.rowcount >= 0 ? { rows: res.rows, numAffectedRows: BigInt(res.rowcount) } : { rows: res.rows };
  }

  async *streamQuery<R>(compiled: CompiledQuery, chunkSize = 1000, options?: { signal?: AbortSignal | undefined }): AsyncIterableIterator<QueryResult<R>> {
    // A Connection or Session streams through a server-side cursor on a session (see stream()); a bare
    // `{ query }` object cannot.
    if (typeof this.conn.stream !== "function") {
      throw new NotSupportedError("streamQuery() needs a connection with stream() (server-side cursors); use execute() instead");
    }
    const opts: { batchSize: number; rowMode: "object"; signal?: AbortSignal } = { batchSize: chunkSize, rowMode: "object" };
    if (options?.signal !== undefined) opts.signal = options.signal;
    const stream = this.conn.stream(compiled.sql, [...compiled.parameters], opts);
    for await (const rows of stream.batches()) {
      // The stream knows its columns once the first batch arrived.
      if (this.dates) withDates(rows, stream.cols, stream.colTypes);
      yield { rows: rows as R[] };
    }
  }
}

/** Sends every query through `query()`; transactions throw `NotSupportedError`. */
export class CrateDBDriver implements Driver {
  private readonly conn: KyselyQueryable;
  private readonly dates: boolean;

  constructor(config: CrateDBDialectConfig) {
    this.conn = config.connection;
    this.dates = config.dates ?? true;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new CrateDBKyselyConnection(this.conn, this.dates);
  }

  async beginTransaction(): Promise<void> {
    throw new NotSupportedError(TX_MESSAGE);
  }

  async commitTransaction(): Promise<void> {
    throw new NotSupportedError(TX_MESSAGE);
  }

  async rollbackTransaction(): Promise<void> {
    throw new NotSupportedError(TX_MESSAGE);
  }

  async releaseConnection(): Promise<void> {}

  /** Does not close the connection: it belongs to the caller. */
  async destroy(): Promise<void> {}
}

/**
 * A Kysely dialect for CrateDB over cratedb-fetch.
 *
 * @example
 * ```ts
 * import { Kysely } from "kysely";
 * import { connect } from "cratedb-fetch";
 * import { CrateDBDialect } from "cratedb-fetch/kysely";
 * const db = new Kysely<DB>({ dialect: new CrateDBDialect({ connection: connect("http://localhost:4200") }) });
 * const rows = await db.selectFrom("person").selectAll().where("id", "=", 1).execute();
 * ```
 */
export class CrateDBDialect implements Dialect {
  private readonly config: CrateDBDialectConfig;

  constructor(config: CrateDBDialectConfig) {
    // Checked here, before any query, so a typo fails where the dialect is built.
    if (typeof config?.connection?.query !== "function") throw new InterfaceError("CrateDBDialect needs { connection } with a query() method (from connect())");
    if (config.dates !== undefined && typeof config.dates !== "boolean") throw new InterfaceError(`CrateDBDialect option 'dates' must be a boolean, got ${typeof config.dates}`);
    this.config = config;
  }

  createDriver(): Driver {
    return new CrateDBDriver(this.config);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createAdapter(): DialectAdapter {
    return new CrateDBAdapter(this.config.migrationTableName);
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new CrateDBIntrospector(db);
  }
}
