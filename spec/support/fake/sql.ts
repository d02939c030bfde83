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
 * - `SET [SESSION|LOCAL] search_path TO|= a[, …]` (other settings accepted and ignored), `BEGIN`, `COMMIT`.
 */
import { JsonNumber, stringify, type JsonValue } from "./json.js";
import { errors, SqlError } from "./sql-lexer.js";
import { parseSql, type Expr, type Stmt, type TableRef, type Where } from "./sql-parse.js";

export { parseSql, type Stmt } from "./sql-parse.js";
export { SqlError } from "./sql-lexer.js";

export interface Table {
  columns: string[];
  rows: JsonValue[][];
}

export interface Db {
  tables: Map<string, Table>;
  /** Blob tables (`blob.<name>`) keyed by `<name>`: digest → content. */
  blobs: Map<string, Map<string, Buffer>>;
  clusterName: string;
  /** The nodes listening right now (`sys.nodes`): name and HTTP publish address `127.0.0.1:PORT` (no scheme). */
  liveNodes(): Array<{ name: string; restUrl: string }>;
}

export interface Session {
  schema: string;
  user: string;
}

/** A `col_types` entry: a type id, or `[100, inner]` for arrays. */
export type ColType = number | [number, ColType];

export type SqlResult =
  | { kind: "rows"; cols: string[]; colTypes: ColType[]; rows: JsonValue[][] }
  | { kind: "count"; rowcount: number };

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

/** CrateDB's `DataTypes.guessType` as far as the fake needs it. */
export function guessType(v: JsonValue): ColType {
  if (v === null) return 0;
  if (typeof v === "boolean") return 3;
  if (typeof v === "string") return 4;
  if (v instanceof JsonNumber) {
    if (!v.isInteger) return 6;
    const n = BigInt(v.text);
    return n >= INT32_MIN && n <= INT32_MAX ? 9 : 10;
  }
  if (Array.isArray(v)) {
    const first = v.find((x) => x !== null);
    return [100, first === undefined ? 0 : guessType(first)];
  }
  return 12;
}

/** Does the statement produce a result set (relevant for bulk requests)? */
export function returnsRows(stmt: Stmt): boolean {
  return stmt.k === "select";
}

export function execute(stmt: Stmt, args: JsonValue[], session: Session, db: Db): SqlResult {
  const ev = (e: Expr, row?: (col: string) => JsonValue): JsonValue => {
    switch (e.k) {
      case "lit":
        return e.v;
      case "param": {
        if (e.n < 1 || e.n > args.length) {
          throw errors.parse(`The query contains a parameter placeholder $${e.n}, but there are only ${args.length} parameter values`);
        }
        return args[e.n - 1] as JsonValue;
      }
      case "fn":
        if (e.name === "current_schema") return session.schema;
        if (e.name === "current_user") return session.user;
        throw errors.parse("count(*) is only supported with FROM");
      case "col":
        if (!row) throw errors.columnUnknown(e.name);
        return row(e.name);
    }
  };
  const qualify = (t: TableRef): string => `${t.schema ?? session.schema}.${t.name}`;
  const table = (t: TableRef): Table => {
    const name = qualify(t);
    if (name === "sys.cluster") return { columns: ["name"], rows: [[db.clusterName]] };
    if (name === "sys.nodes") return { columns: ["name", "rest_url"], rows: db.liveNodes().map((n) => [n.name, n.restUrl]) };
    const found = db.tables.get(name);
    if (!found) throw errors.relationUnknown(name);
    return found;
  };
  const matcher = (tbl: Table, where: Where) => {
    const conds = where.map(({ col, expr }) => ({ idx: colIndex(tbl, col), value: ev(expr) }));
    return (row: JsonValue[]) => conds.every(({ idx, value }) => sameValue(row[idx] ?? null, value));
  };

  switch (stmt.k) {
    case "select": {
      if (!stmt.from) {
        if (stmt.items.some((i) => i.expr === "*")) throw errors.parse("SELECT * with no tables specified is not valid");
        const row = stmt.items.map((i) => ev(i.expr as Expr));
        return { kind: "rows", cols: stmt.items.map((i) => i.name), colTypes: row.map(guessType), rows: [row] };
      }
      const tbl = table(stmt.from);
      const match = matcher(tbl, stmt.where);
      let rows = tbl.rows.filter(match);
      if (stmt.items.some((i) => i.expr !== "*" && i.expr.k === "fn" && i.expr.name === "count")) {
        const row = stmt.items.map((i) => (i.expr !== "*" && i.expr.k === "fn" && i.expr.name === "count" ? new JsonNumber(String(rows.length)) : null));
        if (row.includes(null)) throw errors.parse("'count(*)' cannot be mixed with other columns without GROUP BY");
        return { kind: "rows", cols: stmt.items.map((i) => i.name), colTypes: row.map(() => 10), rows: [row] };
      }
      for (const { col, desc } of [...stmt.order].reverse()) {
        const idx = colIndex(tbl, col);
        rows = [...rows].sort((a, b) => compare(a[idx] ?? null, b[idx] ?? null) * (desc ? -1 : 1));
      }
      if (stmt.limit !== undefined) rows = rows.slice(0, stmt.limit);
      const cols: string[] = [];
      const getters: Array<(r: JsonValue[]) => JsonValue> = [];
      for (const item of stmt.items) {
        if (item.expr === "*") {
          tbl.columns.forEach((c, idx) => {
            cols.push(c);
            getters.push((r) => r[idx] ?? null);
          });
          continue;
        }
        const e = item.expr;
        cols.push(item.name);
        if (e.k === "col") {
          const idx = colIndex(tbl, e.name);
          getters.push((r) => r[idx] ?? null);
        } else {
          const v = ev(e);
          getters.push(() => v);
        }
      }
      const out = rows.map((r) => getters.map((g) => g(r)));
      const colTypes = cols.map((_, i) => {
        const v = out.map((r) => r[i] ?? null).find((x) => x !== null);
        return v === undefined ? 0 : guessType(v);
      });
      return { kind: "rows", cols, colTypes, rows: out };
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
      const match = matcher(tbl, stmt.where);
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
      const match = matcher(tbl, stmt.where);
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
    case "noop":
      return { kind: "count", rowcount: 0 };
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

function sameValue(a: JsonValue, b: JsonValue): boolean {
  if (a instanceof JsonNumber && b instanceof JsonNumber) {
    if (a.isInteger && b.isInteger) return BigInt(a.text) === BigInt(b.text);
    return a.toNumber() === b.toNumber();
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return a === b;
  return stringify(a) === stringify(b);
}

function compare(a: JsonValue, b: JsonValue): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1; // NULLS LAST
  if (a instanceof JsonNumber && b instanceof JsonNumber) return a.toNumber() - b.toNumber();
  const x = String(a instanceof JsonNumber ? a.text : a);
  const y = String(b instanceof JsonNumber ? b.text : b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isSqlError(e: unknown): e is SqlError {
  return e instanceof SqlError;
}
