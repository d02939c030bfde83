/**
 * What the layers over a connection or a session (Cursor, RowStream and its engine) use of it. Queryable
 * implements it; the layers import this contract, not Queryable, so that none of them points back up.
 */
import type { RequestOptions, ResolvedOptions } from "./options.js";
import type { Answer } from "./request.js";
import type { SqlResult } from "./result.js";

/** A connection or a session, as the layers over it see it. */
export interface Runner {
  /** @internal */
  readonly options: ResolvedOptions;
  /** True after `close()` (and, for a session, once its connection is closed). */
  readonly closed: boolean;
  /** @internal Throws the ProgrammingError for a closed connection or session. */
  ensureOpen(): void;
  /** @internal Sends one SQL request (see Queryable.runSql). */
  runSql(stmt: string, payload: { args?: unknown[]; bulk_args?: unknown[][] }, opts: RequestOptions, since?: number): Promise<Answer>;
  /** @internal Sends a statement and decodes its answer, traced when anyone listens (see Queryable.traced). */
  traced<T extends { rowcount: number; duration: number }>(stmt: string, argsCount: number, bulkSize: number | undefined,
    opts: RequestOptions, since: number | undefined, send: (since: number | undefined) => Promise<Answer>, decode: (answer: Answer) => T | Promise<T>): Promise<T>;
  /** Runs one statement with optional positional parameters. */
  query<R = unknown[]>(stmt: string, args?: unknown[], opts?: RequestOptions): Promise<SqlResult<R>>;
}
