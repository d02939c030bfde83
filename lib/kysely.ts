/**
 * `cratedb-fetch/kysely`: a Kysely dialect over a cratedb-fetch connection.
 *
 * PostgreSQL's query compiler (CrateDB takes its `$n` placeholders), an adapter without transactional DDL
 * and without advisory locks, an information_schema introspector, and a driver that sends every query
 * through `query()`. Kysely is a peer dependency: only this subpath imports it.
 */
import {
  PostgresAdapter, PostgresQueryCompiler, sql, type CompiledQuery, type DatabaseConnection, type DatabaseIntrospector,
  type Dialect, type DialectAdapter, type Driver, type Kysely, type MigrationLockOptions, type QueryCompiler, type QueryResult,
} from "kysely";
import { NotSupportedError } from "./errors.js";
import { CrateDBIntrospector } from "./kysely-introspector.js";
import type { RequestOptions } from "./options.js";
import type { SqlResult } from "./result.js";

export { CrateDBIntrospector } from "./kysely-introspector.js";

/** What the dialect needs of a connection: `query()`, and `stream()` for `streamQuery` (a Connection or Session has both). */
export interface KyselyQueryable {
  query<R = unknown[]>(stmt: string, args?: unknown[], opts?: RequestOptions): Promise<SqlResult<R>>;
  /** Optional: batches of rows through a server-side cursor (sessions). */
  stream?: (stmt: string, args?: unknown[], opts?: { batchSize?: number; signal?: AbortSignal; rowMode?: "array" | "object" }) =>
    AsyncIterable<unknown> & { batches(): AsyncIterable<unknown[]> };
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

const DML = new Set(["InsertQueryNode", "UpdateQueryNode", "DeleteQueryNode", "MergeQueryNode"]);
const DML_TEXT = /^\s*(?:\/\*[\s\S]*?\*\/\s*|--[^\n]*\n\s*)*(?:insert|update|delete)\b/i;

/** One Kysely "connection": a view of the cratedb-fetch connection (which pools sockets itself). */
export class CrateDBKyselyConnection implements DatabaseConnection {
  private readonly conn: KyselyQueryable;

  constructor(conn: KyselyQueryable) {
    this.conn = conn;
  }

  async executeQuery<R>(compiled: CompiledQuery, options?: { signal?: AbortSignal | undefined }): Promise<QueryResult<R>> {
    const opts: RequestOptions = { rowMode: "object" };
    if (options?.signal !== undefined) opts.signal = options.signal;
    const res = await this.conn.query<R>(compiled.sql, [...compiled.parameters], opts);
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
    for await (const rows of this.conn.stream(compiled.sql, [...compiled.parameters], opts).batches()) yield { rows: rows as R[] };
  }
}

/** Sends every query through `query()`; transactions throw `NotSupportedError`. */
export class CrateDBDriver implements Driver {
  private readonly conn: KyselyQueryable;

  constructor(config: CrateDBDialectConfig) {
    this.conn = config.connection;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return new CrateDBKyselyConnection(this.conn);
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
