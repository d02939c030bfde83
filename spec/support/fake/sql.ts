/**
 * The fake's tiny SQL engine. Tables are cluster-wide, in memory, qualified with the session schema (`doc.t`).
 *
 * Supported (case-insensitive):
 * - `SELECT <expr>[, …]` without FROM: integer/decimal/string/boolean/null literals, `?`/`$N` placeholders
 *   (column named by the placeholder text), `current_schema[()]`, `current_user`/`user`/`session_user`.
 * - `SELECT * | col[, …] | count(*) FROM t [WHERE c = expr [AND …]] [ORDER BY c [ASC|DESC], …] [LIMIT n]`,
 *   also `sys.cluster` (name) and `sys.nodes` (name, rest_url = `127.0.0.1:PORT`; running nodes only).
 * - `INSERT INTO t (c, …) VALUES (…)[, (…)] [ON CONFLICT … DO NOTHING]` (creates a missing table; first column = PK).
 * - `UPDATE t SET c = expr[, …] [WHERE …]`, `DELETE FROM t [WHERE …]`.
 * - `CREATE TABLE [IF NOT EXISTS] t (…)`, `DROP TABLE [IF EXISTS] t`, `REFRESH TABLE t[, …]`.
 * - `CREATE BLOB TABLE [blob.]t [CLUSTERED INTO n SHARDS] [WITH (…)]`, `DROP BLOB TABLE [IF EXISTS] [blob.]t`
 *   (the blobs themselves are served over HTTP by `blobs.ts`; blob tables are not queryable with SELECT here).
 * - `SET [SESSION|LOCAL] search_path TO|= a[, …]` (other settings accepted and ignored), `BEGIN`, `COMMIT`/`END`
 *   (tracked per session only for cursors).
 * - Expressions (`sql-expr.ts`): `+ - * /`, comparisons in WHERE, `strpos`, `concat`.
 * - `FROM generate_series(start, stop)` (column `generate_series`, bigint; lazy: `sql-select.ts`), `sys.jobs`.
 * - Cursors (`cursors.ts`): `DECLARE c [NO] [SCROLL] CURSOR [WITH|WITHOUT HOLD] FOR SELECT …`, `FETCH [n | ALL | NEXT |
 *   FORWARD n] FROM c`, `CLOSE c | ALL`. `KILL ? | '<uuid>'` (`jobs.ts`; `KILL ALL` is rejected).
 */
import { CursorRegistry, declareOutsideTransaction, SessionCursors } from "./cursors.js";
import { killTarget, type JobBook, type JobNode } from "./jobs.js";
import { type JsonValue } from "./json.js";
import { evaluate, sameValue, type ColType, type EvalContext, type Expr } from "./sql-expr.js";
import { errors, SqlError } from "./sql-lexer.js";
import { parseSql, type Stmt, type TableRef } from "./sql-parse.js";
import { baseContext, matcher, resolveTable, selectSource } from "./sql-select.js";

export { parseSql, type Stmt } from "./sql-parse.js";
export { SqlError } from "./sql-lexer.js";
export { guessType, type ColType } from "./sql-expr.js";

export interface Table {
  columns: string[];
  /** Declared column types (the `sys` tables); others are guessed from the values. */
  types?: ColType[];
  rows: JsonValue[][];
}

export interface Db {
  tables: Map<string, Table>;
  /** Blob tables (`blob.<name>`) keyed by `<name>`: digest → content. */
  blobs: Map<string, Map<string, Buffer>>;
  clusterName: string;
  /** The nodes listening right now (`sys.nodes`): name and HTTP publish address `127.0.0.1:PORT` (no scheme). */
  liveNodes(): Array<{ name: string; restUrl: string }>;
  /** Running and past jobs (`sys.jobs`, `KILL`). */
  jobs: JobBook;
  /** Cursor counters across all sessions. */
  cursors: CursorRegistry;
}

export interface Session {
  schema: string;
  user: string;
  /** The node the session lives on (KILL records it). */
  node?: JobNode;
  /** Between BEGIN and COMMIT/END (only matters for DECLARE … WITHOUT HOLD). */
  inTransaction?: boolean;
  /** Created on the first DECLARE; closed with the session. */
  cursors?: SessionCursors;
}

export type SqlResult =
  | { kind: "rows"; cols: string[]; colTypes: ColType[]; rows: JsonValue[][] }
  | { kind: "count"; rowcount: number };

/** Does the statement produce a result set (relevant for bulk requests)? */
export function returnsRows(stmt: Stmt): boolean {
  return stmt.k === "select" || stmt.k === "fetch";
}

export function execute(stmt: Stmt, args: JsonValue[], session: Session, db: Db): SqlResult {
  const ctx: EvalContext = baseContext(args, session);
  const ev = (e: Expr): JsonValue => evaluate(e, ctx);
  const qualify = (t: TableRef): string => `${t.schema ?? session.schema}.${t.name}`;
  const table = (t: TableRef) => resolveTable(t, session, db);

  switch (stmt.k) {
    case "select": {
      const src = selectSource(stmt, args, session, db);
      return { kind: "rows", cols: src.cols, colTypes: src.colTypes, rows: Array.from({ [Symbol.iterator]: () => src.rows }) };
    }
    case "declare": {
      if (!stmt.hold && !session.inTransaction) throw declareOutsideTransaction();
      const cursors = (session.cursors ??= new SessionCursors(db.cursors));
      cursors.declare(stmt.name, selectSource(stmt.query, args, session, db), stmt.hold);
      return { kind: "count", rowcount: 0 };
    }
    case "fetch": {
      if (!session.cursors) throw errors.parse(`No cursor named \`${stmt.name}\` available`);
      return session.cursors.fetch(stmt.name, stmt.count);
    }
    case "close": {
      if (stmt.name !== undefined && !session.cursors) throw errors.parse(`No cursor named \`${stmt.name}\` available`);
      session.cursors?.close(stmt.name);
      return { kind: "count", rowcount: 1 };
    }
    case "tx":
      if (stmt.op === "commit") session.cursors?.commit();
      session.inTransaction = stmt.op === "begin";
      return { kind: "count", rowcount: 0 };
    case "kill": {
      if (stmt.job === "all") throw errors.unsupported("The fake does not implement KILL ALL (cratedb-fetch never sends it)");
      const id = killTarget(ev(stmt.job));
      return { kind: "count", rowcount: db.jobs.kill(id, session.node?.index ?? 0, session.user) ? 1 : 0 };
    }
    case "insert": {
      const name = qualify(stmt.table);
      let tbl = db.tables.get(name);
      if (!tbl) {
        tbl = { columns: [...stmt.cols], rows: [] };
        db.tables.set(name, tbl);
      }
      for (const c of stmt.cols) {
        if (!tbl.columns.includes(c)) {
          tbl.columns.push(c);
          for (const r of tbl.rows) r.push(null);
        }
      }
      let count = 0;
      for (const values of stmt.values) {
        const row: JsonValue[] = tbl.columns.map(() => null);
        stmt.cols.forEach((c, i) => {
          row[tbl.columns.indexOf(c)] = ev(values[i] as Expr);
        });
        if (tbl.rows.some((r) => sameValue(r[0] ?? null, row[0] ?? null))) {
          if (stmt.onConflictDoNothing || stmt.values.length > 1) continue;
          throw errors.duplicateKey();
        }
        tbl.rows.push(row);
        count++;
      }
      return { kind: "count", rowcount: count };
    }
    case "update": {
      const tbl = table(stmt.table);
      const sets = stmt.sets.map(([c, e]) => [colIndex(tbl, c), ev(e)] as const);
      const match = matcher(tbl.columns, stmt.where, ctx);
      let n = 0;
      for (const r of tbl.rows) {
        if (!match(r)) continue;
        for (const [idx, v] of sets) r[idx] = v;
        n++;
      }
      return { kind: "count", rowcount: n };
    }
    case "delete": {
      const tbl = table(stmt.table);
      const match = matcher(tbl.columns, stmt.where, ctx);
      const before = tbl.rows.length;
      tbl.rows = tbl.rows.filter((r) => !match(r));
      return { kind: "count", rowcount: before - tbl.rows.length };
    }
    case "create": {
      const name = qualify(stmt.table);
      if (db.tables.has(name)) {
        if (!stmt.ifNotExists) throw errors.relationExists(name);
      } else {
        db.tables.set(name, { columns: stmt.cols, rows: [] });
      }
      return { kind: "count", rowcount: 1 };
    }
    case "drop": {
      const name = qualify(stmt.table);
      if (!db.tables.delete(name) && !stmt.ifExists) throw errors.relationUnknown(name);
      return { kind: "count", rowcount: 1 };
    }
    case "create-blob": {
      const name = blobTableName(stmt.table);
      if (db.blobs.has(name)) throw errors.relationExists(`blob.${name}`);
      db.blobs.set(name, new Map());
      return { kind: "count", rowcount: 1 };
    }
    case "drop-blob": {
      const name = blobTableName(stmt.table);
      if (!db.blobs.delete(name) && !stmt.ifExists) throw errors.relationUnknown(`blob.${name}`);
      return { kind: "count", rowcount: 1 };
    }
    case "refresh":
      for (const t of stmt.tables) table(t);
      return { kind: "count", rowcount: 1 };
    case "set": {
      if (stmt.name === "search_path") {
        const first = ev(stmt.values[0] as Expr);
        if (typeof first !== "string") throw errors.parse(`Invalid value for search_path: ${String(first)}`);
        session.schema = first;
      }
      return { kind: "count", rowcount: 0 };
    }
  }
}

/** Parse then execute (a convenience for single requests). */
export function run(src: string, args: JsonValue[], session: Session, db: Db): SqlResult {
  return execute(parseSql(src), args, session, db);
}

/** CrateDB's `BlobTableAnalyzer.tableToIdent`: blob tables live in schema `blob`, whatever the session schema. */
function blobTableName(t: TableRef): string {
  if (t.schema !== undefined && t.schema !== "blob") {
    throw new SqlError(400, 4000, "IllegalArgumentException", `The Schema "${t.schema}" isn't valid in a [CREATE | ALTER] BLOB TABLE clause`);
  }
  return t.name;
}

function colIndex(tbl: Table, col: string): number {
  const idx = tbl.columns.indexOf(col);
  if (idx < 0) throw errors.columnUnknown(col);
  return idx;
}

export function isSqlError(e: unknown): e is SqlError {
  return e instanceof SqlError;
}
