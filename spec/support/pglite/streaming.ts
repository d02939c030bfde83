/**
 * CrateDB cursors and `generate_series` on PGlite.
 *
 * - `DECLARE c [NO] [SCROLL] CURSOR WITH HOLD FOR <select>` → PostgreSQL's `DECLARE "<session>_c" NO SCROLL CURSOR
 *   WITH HOLD FOR …`: PGlite is ONE PostgreSQL session for every HTTP connection, so each connection's cursor names
 *   are prefixed with a per-session id, and the connection's cursors are closed when its socket closes (as CrateDB
 *   ends the session). PostgreSQL materialises a WITH HOLD cursor's rows when the DECLARE commits: a cursor over a
 *   million rows costs that much once, at DECLARE (CrateDB and the fake produce them per FETCH).
 * - `WITHOUT HOLD` (the default) is rejected with CrateDB's 4004: `BEGIN` is a no-op here, so there is never a
 *   transaction block to declare it in.
 * - `FETCH [n | ALL | NEXT | FORWARD n|ALL] FROM|IN c` → `FETCH FORWARD n FROM "<session>_c"`; `CLOSE c | ALL` closes
 *   only this connection's cursors. Errors as CrateDB: "No cursor named `c` available", "Cursor `c` already exists".
 * - `generate_series(a, b)` in FROM with literal or parameter bounds gets `::bigint` bounds, so its column is
 *   bigint (col_types 10) as the fake's; PostgreSQL would say integer for integer literals.
 */
import { SqlError } from "../fake/sql-lexer.js";
import { identName, quoteIdent, tokenize, translate, type Tok } from "./translate.js";

export type CursorPlan =
  | { kind: "declare"; name: string; sql: string; names: Array<string | undefined> | undefined }
  | { kind: "fetch"; name: string; count: number | "all" }
  | { kind: "close"; name: string | undefined };

/** Per-connection cursors: CrateDB name → PostgreSQL name and CrateDB column names. */
export interface SessionCursors {
  prefix: string;
  open: Map<string, { pg: string; names: Array<string | undefined> | undefined }>;
}

let sessionSeq = 0;
export const newSessionCursors = (): SessionCursors => ({ prefix: `crate_s${++sessionSeq}_`, open: new Map() });

const significant = (t: Tok) => t.k !== "ws" && t.k !== "comment";
const parseError = (msg: string) => new SqlError(400, 4000, "SQLParseException", msg);
export const noCursor = (name: string): SqlError => parseError(`No cursor named \`${name}\` available`);

/** A cursor statement's plan, or undefined for any other statement. */
export function cursorPlan(stmt: string): CursorPlan | undefined {
  const toks = tokenize(stmt);
  const sig = toks.filter(significant);
  const w = (i: number) => (sig[i]?.k === "id" ? sig[i]?.lc : undefined);
  const name = (i: number): string => {
    const t = sig[i];
    if (!t || (t.k !== "id" && t.k !== "qid")) throw parseError(`line 1: mismatched input '${t?.t ?? "<EOF>"}' expecting an identifier`);
    return identName(t);
  };
  if (w(0) === "close") return { kind: "close", name: w(1) === "all" ? undefined : name(1) };
  if (w(0) === "fetch") {
    let i = 1;
    let count: number | "all" = 1;
    if (w(i) === "next") i++;
    else if (w(i) === "forward" || w(i) === "all" || sig[i]?.k === "num") {
      if (w(i) === "forward") i++;
      if (w(i) === "all") (count = "all"), i++;
      else if (sig[i]?.k === "num" && /^[0-9]+$/.test(sig[i]?.t ?? "")) (count = Number(sig[i]?.t)), i++;
    } else if (w(i) !== "from" && w(i) !== "in") {
      throw new SqlError(400, 4004, "UnsupportedFeatureException", "Only FETCH [n | ALL | NEXT | FORWARD n] is supported by the test server");
    }
    if (w(i) !== "from" && w(i) !== "in") throw parseError(`line 1: mismatched input '${sig[i]?.t ?? "<EOF>"}' expecting 'FROM'`);
    return { kind: "fetch", name: name(i + 1), count };
  }
  if (w(0) !== "declare") return undefined;
  const cursorName = name(1);
  const forAt = sig.findIndex((t, j) => j > 1 && t.k === "id" && t.lc === "for");
  if (forAt < 0) throw parseError("line 1: mismatched input '<EOF>' expecting 'FOR'");
  const options = sig.slice(2, forAt).map((t) => t.lc);
  const hold = options.join(" ").includes("with hold");
  if (w(forAt + 1) !== "select") {
    throw parseError(`line 1: mismatched input '${sig[forAt + 1]?.t ?? "<EOF>"}' expecting 'SELECT'`);
  }
  if (!hold) throw new SqlError(400, 4004, "UnsupportedFeatureException", "DECLARE CURSOR can only be used in transaction blocks");
  const query = toks.slice(toks.indexOf(sig[forAt] as Tok) + 1).map((t) => t.t).join("");
  const plan = translate(query);
  if (plan.kind !== "pg") throw parseError("DECLARE needs a SELECT");
  return { kind: "declare", name: cursorName, sql: plan.sql, names: plan.names };
}

/** The PostgreSQL statement for a plan (after the session's cursor bookkeeping said it is valid). */
export function pgCursorSql(plan: CursorPlan, cursors: SessionCursors): { sql: string; pgName: string | undefined } {
  switch (plan.kind) {
    case "declare": {
      if (cursors.open.has(plan.name)) throw parseError(`Cursor \`${plan.name}\` already exists`);
      const pgName = cursors.prefix + plan.name;
      return { sql: `DECLARE ${quoteIdent(pgName)} NO SCROLL CURSOR WITH HOLD FOR ${plan.sql}`, pgName };
    }
    case "fetch": {
      const c = cursors.open.get(plan.name);
      if (!c) throw noCursor(plan.name);
      return { sql: `FETCH FORWARD ${plan.count === "all" ? "ALL" : plan.count} FROM ${quoteIdent(c.pg)}`, pgName: c.pg };
    }
    case "close": {
      if (plan.name !== undefined && !cursors.open.has(plan.name)) throw noCursor(plan.name);
      return { sql: "", pgName: undefined };
    }
  }
}

const BOUND_PREV = new Set(["from", "join", ","]);

/** `generate_series(1, $1)` in FROM → `generate_series((1)::bigint, ($1)::bigint)` (bounds that are literals or parameters). */
export function rewriteSeries(toks: Tok[]): Tok[] {
  const out: Tok[] = [];
  let prev: Tok | undefined;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Tok;
    out.push(t);
    if (t.k === "id" && t.lc === "generate_series" && prev && BOUND_PREV.has(prev.lc)) {
      const args = seriesArgs(toks, i + 1);
      if (args) {
        for (let j = i + 1; j <= args.close; j++) {
          const a = args.bounds.find((b) => b.from === j);
          if (a) out.push({ k: "p", t: "(", lc: "(" });
          out.push(toks[j] as Tok);
          if (args.bounds.some((b) => b.to === j)) out.push({ k: "p", t: ")::bigint", lc: ")::bigint" });
        }
        i = args.close;
      }
    }
    if (significant(t)) prev = t;
  }
  return out;
}

/** Token ranges of the bounds in `( a , b )` starting at `open` when both are numbers or parameters. */
function seriesArgs(toks: Tok[], start: number): { bounds: Array<{ from: number; to: number }>; close: number } | undefined {
  const idx: number[] = [];
  for (let j = start; j < toks.length; j++) if (significant(toks[j] as Tok)) idx.push(j);
  const at = (k: number) => toks[idx[k] ?? -1];
  if (at(0)?.t !== "(") return undefined;
  const bounds: Array<{ from: number; to: number }> = [];
  let k = 1;
  for (;;) {
    const first = k;
    if (at(k)?.t === "-") k++;
    const v = at(k);
    if (!v || !(v.k === "num" || v.k === "qmark" || v.k === "param")) return undefined;
    bounds.push({ from: idx[first] as number, to: idx[k] as number });
    k++;
    if (at(k)?.t === ",") {
      k++;
      continue;
    }
    if (at(k)?.t === ")" && bounds.length === 2) return { bounds, close: idx[k] as number };
    return undefined;
  }
}
