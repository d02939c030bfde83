/**
 * SELECT in the fake: a `RowSource` (columns, types, and an iterator of rows) for tables, the `sys` tables and
 * the table function `generate_series(start, stop)`. Table results are computed up front; `generate_series` is
 * lazy (one row per `next()`), so a cursor over a million rows costs nothing until it is fetched.
 */
import { JsonNumber, type JsonValue } from "./json.js";
import { compare, evaluate, guessType, typeOf, type ColType, type EvalContext, type Expr } from "./sql-expr.js";
import { errors } from "./sql-lexer.js";
import type { SelectStmt, TableRef, Where } from "./sql-parse.js";
import type { Db, Session, Table } from "./sql.js";

export interface RowSource {
  cols: string[];
  colTypes: ColType[];
  rows: Iterator<JsonValue[]>;
}

export const SERIES_COL = "generate_series";

export function baseContext(args: JsonValue[], session: Session): EvalContext {
  return { args, schema: session.schema, user: session.user };
}

/** A table by name: the `sys` tables are computed per query, others live in `db.tables`. */
export function resolveTable(t: TableRef, session: Session, db: Db): Table {
  const name = `${t.schema ?? session.schema}.${t.name}`;
  if (name === "sys.cluster") return { columns: ["name"], rows: [[db.clusterName]] };
  if (name === "sys.nodes") return { columns: ["name", "rest_url"], rows: db.liveNodes().map((n) => [n.name, n.restUrl]) };
  if (name === "sys.jobs") {
    const rows = db.jobs.visible().map((j) => {
      const node = new Map<string, JsonValue>([["id", j.nodeId], ["name", j.nodeName]]);
      return [j.id, j.user, node, j.stmt, new JsonNumber(String(j.started))];
    });
    return { columns: ["id", "username", "node", "stmt", "started"], types: [4, 4, 12, 4, 11], rows };
  }
  const found = db.tables.get(name);
  if (!found) throw errors.relationUnknown(name);
  return found;
}

/** Column names an expression refers to (checked up front, also when there are no rows). */
export function columnsOf(e: Expr, out: string[] = []): string[] {
  if (e.k === "col") out.push(e.name);
  else if (e.k === "call") e.args.forEach((a) => columnsOf(a, out));
  else if (e.k === "bin" || e.k === "cmp") (columnsOf(e.a, out), columnsOf(e.b, out));
  return out;
}

/** A row matcher for `where` over rows of `columns`. */
export function matcher(columns: string[], where: Where, ctx: EvalContext): (row: JsonValue[]) => boolean {
  for (const e of where) for (const c of columnsOf(e)) if (!columns.includes(c)) throw errors.columnUnknown(c);
  if (where.length === 0) return () => true;
  return (row) => {
    const rowCtx: EvalContext = { ...ctx, col: (n) => row[columns.indexOf(n)] ?? null };
    return where.every((e) => evaluate(e, rowCtx) === true);
  };
}

const isCount = (e: Expr | "*"): boolean => e !== "*" && e.k === "fn" && e.name === "count";

export function selectSource(stmt: SelectStmt, args: JsonValue[], session: Session, db: Db): RowSource {
  const ctx = baseContext(args, session);
  if (!stmt.from) {
    if (stmt.items.some((i) => i.expr === "*")) throw errors.parse("SELECT * with no tables specified is not valid");
    const row = stmt.items.map((i) => evaluate(i.expr as Expr, ctx));
    return { cols: stmt.items.map((i) => i.name), colTypes: row.map(guessType), rows: [row][Symbol.iterator]() };
  }
  const series = stmt.from.fn !== undefined;
  const tbl: Table = series ? { columns: [SERIES_COL], types: [10], rows: [] } : resolveTable(stmt.from, session, db);
  const match = matcher(tbl.columns, stmt.where, ctx);
  const all: Iterable<JsonValue[]> = series ? seriesRows(stmt.from.fn?.args ?? [], ctx) : tbl.rows;

  if (stmt.items.some((i) => isCount(i.expr))) {
    if (stmt.items.some((i) => !isCount(i.expr))) throw errors.parse("'count(*)' cannot be mixed with other columns without GROUP BY");
    let n = 0;
    for (const r of all) if (match(r)) n++;
    const row = stmt.items.map(() => new JsonNumber(String(n)));
    return { cols: stmt.items.map((i) => i.name), colTypes: row.map(() => 10), rows: [row][Symbol.iterator]() };
  }

  const cols: string[] = [];
  const getters: Array<(r: JsonValue[]) => JsonValue> = [];
  const declared: Array<ColType | undefined> = [];
  const colIndex = (name: string): number => {
    const idx = tbl.columns.indexOf(name);
    if (idx < 0) throw errors.columnUnknown(name);
    return idx;
  };
  for (const item of stmt.items) {
    if (item.expr === "*") {
      tbl.columns.forEach((c, idx) => {
        cols.push(c);
        getters.push((r) => r[idx] ?? null);
        declared.push(tbl.types?.[idx]);
      });
      continue;
    }
    const e = item.expr;
    cols.push(item.name);
    if (e.k === "col") {
      const idx = colIndex(e.name);
      getters.push((r) => r[idx] ?? null);
      declared.push(tbl.types?.[idx]);
      continue;
    }
    for (const c of columnsOf(e)) colIndex(c);
    getters.push((r) => evaluate(e, { ...ctx, col: (n) => r[tbl.columns.indexOf(n)] ?? null }));
    declared.push(tbl.types ? typeOf(e, args, (n) => tbl.types?.[colIndex(n)] ?? 0) : undefined);
  }
  for (const { col } of stmt.order) colIndex(col);
  const project = (r: JsonValue[]) => getters.map((g) => g(r));

  if (series && stmt.order.length === 0) {
    return { cols, colTypes: declared.map((t) => t ?? 0), rows: lazyRows(all, match, project, stmt.limit) };
  }
  let rows = [...all].filter(match);
  for (const { col, desc } of [...stmt.order].reverse()) {
    const idx = colIndex(col);
    rows = [...rows].sort((a, b) => compare(a[idx] ?? null, b[idx] ?? null) * (desc ? -1 : 1));
  }
  if (stmt.limit !== undefined) rows = rows.slice(0, stmt.limit);
  const out = rows.map(project);
  const colTypes = cols.map((_, i) => {
    const t = declared[i];
    if (t !== undefined) return t;
    const v = out.map((r) => r[i] ?? null).find((x) => x !== null);
    return v === undefined ? 0 : guessType(v);
  });
  return { cols, colTypes, rows: out[Symbol.iterator]() };
}

function* lazyRows(all: Iterable<JsonValue[]>, match: (r: JsonValue[]) => boolean, project: (r: JsonValue[]) => JsonValue[],
  limit: number | undefined): Generator<JsonValue[]> {
  if (limit === 0) return;
  let n = 0;
  for (const r of all) {
    if (!match(r)) continue;
    yield project(r);
    if (limit !== undefined && ++n >= limit) return;
  }
}

/** `generate_series(start, stop)` with integer bounds: one `[value]` row at a time, never a materialised list. */
function seriesRows(argExprs: Expr[], ctx: EvalContext): Iterable<JsonValue[]> {
  const [a, b] = argExprs.map((e) => evaluate(e, ctx));
  if (!(a instanceof JsonNumber) || !(b instanceof JsonNumber) || !a.isInteger || !b.isInteger) {
    throw errors.unsupported("The fake's generate_series takes two integer arguments");
  }
  return series(BigInt(a.text), BigInt(b.text));
}

function* series(start: bigint, stop: bigint): Generator<JsonValue[]> {
  if (start >= BigInt(Number.MIN_SAFE_INTEGER) && stop <= BigInt(Number.MAX_SAFE_INTEGER)) {
    for (let i = Number(start), end = Number(stop); i <= end; i++) yield [new JsonNumber(String(i))];
    return;
  }
  for (let i = start; i <= stop; i++) yield [new JsonNumber(i.toString())];
}
