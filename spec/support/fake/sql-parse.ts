/**
 * Parser for the fake's SQL subset (see `sql.ts` for the list). Anything outside the subset fails with
 * CrateDB's `SQLParseException[line 1:N: mismatched input '…' expecting {…}]` (400 / 4000).
 */
import { Cursor, SqlError, tokenize } from "./sql-lexer.js";
import { condition, expr, type Expr } from "./sql-expr.js";

export type { Expr } from "./sql-expr.js";

export interface TableRef {
  schema: string | undefined;
  name: string;
  /** A table function in FROM: `generate_series(start, stop)`. */
  fn?: { name: "generate_series"; args: Expr[] };
}

export interface SelectItem {
  expr: Expr | "*";
  name: string;
}

/** Conditions joined by AND (each must evaluate to true). */
export type Where = Expr[];

export interface SelectStmt {
  k: "select";
  items: SelectItem[];
  from: TableRef | undefined;
  where: Where;
  order: Array<{ col: string; desc: boolean }>;
  limit: number | undefined;
}

export type Stmt =
  | SelectStmt
  | { k: "insert"; table: TableRef; cols: string[]; values: Expr[][]; onConflictDoNothing: boolean }
  | { k: "update"; table: TableRef; sets: Array<[string, Expr]>; where: Where }
  | { k: "delete"; table: TableRef; where: Where }
  | { k: "create"; table: TableRef; ifNotExists: boolean; cols: string[] }
  | { k: "drop"; table: TableRef; ifExists: boolean }
  | { k: "create-blob"; table: TableRef }
  | { k: "drop-blob"; table: TableRef; ifExists: boolean }
  | { k: "refresh"; tables: TableRef[] }
  | { k: "set"; name: string; values: Expr[] }
  | { k: "tx"; op: "begin" | "commit" }
  /** `DECLARE name [ASENSITIVE|INSENSITIVE] [NO] [SCROLL] CURSOR [WITH|WITHOUT HOLD] FOR <select>` */
  | { k: "declare"; name: string; hold: boolean; scroll: boolean; query: SelectStmt }
  /** `FETCH [n | ALL | NEXT | FORWARD [n | ALL]] FROM|IN name` */
  | { k: "fetch"; name: string; count: number | "all" }
  /** `CLOSE name | ALL` (name undefined = ALL) */
  | { k: "close"; name: string | undefined }
  /** `KILL ? | $1 | '<uuid>' | ALL` */
  | { k: "kill"; job: Expr | "all" };

export function parseSql(src: string): Stmt {
  const c = new Cursor(src, tokenize(src));
  if (c.atEnd()) c.fail();
  const stmt = statement(c);
  c.accept(";");
  if (!c.atEnd()) {
    const t = c.peek();
    throw new SqlError(
      400,
      4000,
      "ParsingException",
      `line 1:${(t?.start ?? 0) + 1}: mismatched input '${t ? src.slice(t.start, t.end) : ""}' expecting <EOF>`,
    );
  }
  return stmt;
}

function statement(c: Cursor): Stmt {
  if (c.accept("select")) return select(c);
  if (c.accept("insert", "into")) return insert(c);
  if (c.accept("update")) {
    const table = tableRef(c);
    c.expect("set");
    const sets: Array<[string, Expr]> = [];
    do {
      const col = c.ident();
      c.expect("=");
      sets.push([col, expr(c)]);
    } while (c.accept(","));
    return { k: "update", table, sets, where: where(c) };
  }
  if (c.accept("delete", "from")) {
    const table = tableRef(c);
    return { k: "delete", table, where: where(c) };
  }
  if (c.accept("create", "table")) return create(c);
  if (c.accept("create", "blob", "table")) return createBlob(c);
  if (c.accept("drop", "blob", "table")) {
    const ifExists = c.accept("if", "exists");
    return { k: "drop-blob", table: tableRef(c), ifExists };
  }
  if (c.accept("drop", "table")) {
    const ifExists = c.accept("if", "exists");
    return { k: "drop", table: tableRef(c), ifExists };
  }
  if (c.accept("refresh", "table")) {
    const tables = [tableRef(c)];
    while (c.accept(",")) tables.push(tableRef(c));
    return { k: "refresh", tables };
  }
  if (c.accept("set")) {
    if (!c.accept("session")) c.accept("local");
    const name = c.ident();
    if (!c.accept("to")) c.expect("=");
    const value = (): Expr => {
      const t = c.peek();
      if (t?.kind === "qident" || (t?.kind === "ident" && !["true", "false", "null"].includes(t.value))) return { k: "lit", v: c.ident() };
      return expr(c);
    };
    const values = [value()];
    while (c.accept(",")) values.push(value());
    return { k: "set", name, values };
  }
  if (c.accept("begin") || c.accept("start", "transaction")) {
    while (!c.atEnd() && !c.is(";")) c.next(); // ISOLATION LEVEL …, READ ONLY …: ignored
    return { k: "tx", op: "begin" };
  }
  if (c.accept("commit") || c.accept("end")) return { k: "tx", op: "commit" };
  if (c.accept("declare")) return declare(c);
  if (c.accept("fetch")) return fetch(c);
  if (c.accept("close")) return { k: "close", name: c.accept("all") ? undefined : c.ident() };
  if (c.accept("kill")) return { k: "kill", job: c.accept("all") ? "all" : expr(c) };
  return c.fail();
}

function declare(c: Cursor): Stmt {
  const name = c.ident();
  if (!c.accept("asensitive")) c.accept("insensitive");
  c.accept("binary");
  let scroll = false;
  if (!c.accept("no", "scroll")) scroll = c.accept("scroll");
  c.expect("cursor");
  let hold = false;
  if (c.accept("with", "hold")) hold = true;
  else c.accept("without", "hold");
  c.expect("for");
  c.expect("select"); // the grammar takes `queryNoWith`: WITH … fails here like any other token
  return { k: "declare", name, hold, scroll, query: select(c) };
}

function fetch(c: Cursor): Stmt {
  const count = (): number | "all" => {
    if (c.accept("all")) return "all";
    const t = c.peek();
    if (t?.kind !== "number" || !/^[0-9]+$/.test(t.value)) return c.fail();
    c.next();
    return Number(t.value);
  };
  let n: number | "all" = 1;
  if (c.accept("next")) n = 1;
  else if (c.accept("forward")) n = c.is("from") || c.is("in") ? 1 : count();
  else if (c.is("all") || c.peek()?.kind === "number") n = count();
  else if (["backward", "prior", "first", "last", "absolute", "relative"].some((w) => c.is(w))) {
    throw new SqlError(400, 4004, "UnsupportedFeatureException", "The fake only moves NO SCROLL cursors forward: FETCH [n | ALL | NEXT | FORWARD n]");
  }
  if (!c.accept("from")) c.expect("in");
  return { k: "fetch", name: c.ident(), count: n };
}

function select(c: Cursor): SelectStmt {
  const items: SelectItem[] = [];
  do {
    if (c.accept("*")) {
      items.push({ expr: "*", name: "*" });
      continue;
    }
    const from = c.i;
    const e = expr(c);
    let name = c.text(from, c.i);
    if (e.k === "col") name = e.name;
    if (e.k === "fn") name = e.name === "count" ? "count(*)" : e.name;
    if (c.accept("as")) name = c.ident();
    else if (c.peek()?.kind === "qident" || (c.peek()?.kind === "ident" && !isClauseWord(c))) name = c.ident();
    items.push({ expr: e, name });
  } while (c.accept(","));
  let from: TableRef | undefined;
  if (c.accept("from")) from = tableRef(c);
  const w = where(c);
  const order: Array<{ col: string; desc: boolean }> = [];
  if (c.accept("order", "by")) {
    do {
      const col = c.ident();
      const desc = c.accept("desc");
      if (!desc) c.accept("asc");
      order.push({ col, desc });
    } while (c.accept(","));
  }
  let limit: number | undefined;
  if (c.accept("limit")) {
    const t = c.next();
    if (t.kind !== "number") c.fail();
    limit = Number(t.value);
  }
  return { k: "select", items, from, where: w, order, limit };
}

function isClauseWord(c: Cursor): boolean {
  return ["from", "where", "order", "limit"].some((w) => c.is(w));
}

function insert(c: Cursor): Stmt {
  const table = tableRef(c);
  c.expect("(");
  const cols = [c.ident()];
  while (c.accept(",")) cols.push(c.ident());
  c.expect(")", "values");
  const values: Expr[][] = [];
  do {
    c.expect("(");
    const row = [expr(c)];
    while (c.accept(",")) row.push(expr(c));
    c.expect(")");
    if (row.length !== cols.length) {
      throw new SqlError(400, 4000, "SQLParseException", "Number of target columns does not match the number of values");
    }
    values.push(row);
  } while (c.accept(","));
  let onConflictDoNothing = false;
  if (c.accept("on", "conflict")) {
    if (c.accept("(")) {
      while (!c.accept(")")) c.next();
    }
    c.expect("do", "nothing");
    onConflictDoNothing = true;
  }
  return { k: "insert", table, cols, values, onConflictDoNothing };
}

function create(c: Cursor): Stmt {
  const ifNotExists = c.accept("if", "not", "exists");
  const table = tableRef(c);
  c.expect("(");
  const cols: string[] = [];
  let depth = 1;
  let expectName = true;
  while (depth > 0) {
    const t = c.next();
    if (t.kind === "punct" && t.value === "(") depth++;
    else if (t.kind === "punct" && t.value === ")") depth--;
    else if (depth === 1 && t.kind === "punct" && t.value === ",") {
      expectName = true;
      continue;
    } else if (expectName && depth === 1 && (t.kind === "ident" || t.kind === "qident")) {
      const reserved = t.kind === "ident" && ["primary", "constraint", "index", "check"].includes(t.value);
      if (!reserved) cols.push(t.value);
    }
    expectName = false;
  }
  while (!c.atEnd() && !c.is(";")) c.next(); // CLUSTERED BY, WITH (...), PARTITIONED BY: ignored
  return { k: "create", table, ifNotExists, cols };
}

/** `CREATE BLOB TABLE name [CLUSTERED INTO n SHARDS] [WITH (...)]`: the shard count and properties are ignored. */
function createBlob(c: Cursor): Stmt {
  const table = tableRef(c);
  if (c.accept("clustered", "into")) {
    const t = c.next();
    if (t.kind !== "number" && t.kind !== "param") {
      c.i--;
      c.fail();
    }
    c.expect("shards");
  }
  if (c.accept("with")) {
    c.expect("(");
    for (let depth = 1; depth > 0; ) {
      const t = c.next();
      if (t.kind === "punct" && t.value === "(") depth++;
      else if (t.kind === "punct" && t.value === ")") depth--;
    }
  }
  return { k: "create-blob", table };
}

function where(c: Cursor): Where {
  const out: Where = [];
  if (!c.accept("where")) return out;
  do out.push(condition(c));
  while (c.accept("and"));
  return out;
}

function tableRef(c: Cursor): TableRef {
  const first = c.ident();
  if (first === "generate_series" && c.accept("(")) {
    const args = [expr(c)];
    while (c.accept(",")) args.push(expr(c));
    c.expect(")");
    if (args.length !== 2) throw new SqlError(400, 4004, "UnsupportedFeatureException", "The fake's generate_series takes (start, stop)");
    return { schema: undefined, name: "generate_series", fn: { name: "generate_series", args } };
  }
  if (c.accept(".")) return { schema: first, name: c.ident() };
  return { schema: undefined, name: first };
}
