/**
 * CrateDB SQL → PostgreSQL SQL, as far as the embedded test server needs it (a test double, not CrateDB).
 *
 * - `?` placeholders become `$1`, `$2`, … (outside string literals, quoted identifiers and comments).
 * - Statements PostgreSQL lacks or must not run on a shared session become plans of their own:
 *   `REFRESH TABLE` / `OPTIMIZE TABLE` (existence check only), `SET [SESSION|LOCAL] search_path`
 *   (kept per HTTP connection), other `SET`/`RESET`/`DISCARD`, and `BEGIN`/`START TRANSACTION`/`COMMIT`/`END`/
 *   `ROLLBACK` (no-ops, as in CrateDB), `SHOW TABLES`.
 * - `CREATE TABLE`: CrateDB column types are mapped (`STRING` → text, `OBJECT(…) [AS (…)]` → jsonb,
 *   `GEO_POINT` → point, `GEO_SHAPE` → jsonb, `IP` → inet, `BYTE`/`SHORT` → smallint, `LONG` → bigint,
 *   `FLOAT` → real, `DOUBLE` → double precision, `ARRAY(t)` → t[], `FLOAT_VECTOR(n)` → real[]);
 *   `INDEX …`, `STORAGE WITH (…)`, `CLUSTERED …`, `PARTITIONED BY (…)` and `WITH (…)` are dropped;
 *   generated columns get PostgreSQL's `STORED`. `ALTER TABLE … ADD [COLUMN]` and casts (`::t`, `CAST(x AS t)`,
 *   `TRY_CAST` → `CAST`) map type names the same way.
 */

import { rewriteSeries } from "./streaming.js";

export type TokKind = "ws" | "comment" | "str" | "qid" | "id" | "num" | "qmark" | "param" | "p";

export interface Tok {
  k: TokKind;
  /** Source text. */
  t: string;
  /** Lower-cased text for `id` tokens. */
  lc: string;
  /** Whitespace or a comment came right before this token. */
  sp?: boolean;
}

export class TranslateError extends Error {}

const ID_START = /[\p{L}_]/u;
const ID_PART = /[\p{L}\p{N}_$]/u;

export function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  const push = (k: TokKind, t: string) => {
    const prev = out[out.length - 1];
    out.push({ k, t, lc: k === "id" ? t.toLowerCase() : t, sp: prev !== undefined && !significant(prev) });
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    const start = i;
    if (/\s/.test(c)) {
      while (i < src.length && /\s/.test(src[i] as string)) i++;
      push("ws", src.slice(start, i));
    } else if (c === "-" && src[i + 1] === "-") {
      const nl = src.indexOf("\n", i);
      i = nl < 0 ? src.length : nl;
      push("comment", src.slice(start, i));
    } else if (c === "/" && src[i + 1] === "*") {
      let depth = 1;
      i += 2;
      while (i < src.length && depth > 0) {
        if (src.startsWith("/*", i)) (depth++, (i += 2));
        else if (src.startsWith("*/", i)) (depth--, (i += 2));
        else i++;
      }
      push("comment", src.slice(start, i));
    } else if (c === "'" || (/[eEbBxXnN]/.test(c) && src[i + 1] === "'")) {
      const backslash = c === "e" || c === "E";
      i = c === "'" ? i + 1 : i + 2;
      for (;;) {
        if (i >= src.length) throw new TranslateError("unterminated quoted string");
        const ch = src[i];
        if (backslash && ch === "\\") i += 2;
        else if (ch === "'" && src[i + 1] === "'") i += 2;
        else if (ch === "'") {
          i++;
          break;
        } else i++;
      }
      push("str", src.slice(start, i));
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= src.length) throw new TranslateError("unterminated quoted identifier");
        if (src[i] === '"' && src[i + 1] === '"') i += 2;
        else if (src[i] === '"') {
          i++;
          break;
        } else i++;
      }
      push("qid", src.slice(start, i));
    } else if (c === "$" && /[0-9]/.test(src[i + 1] ?? "")) {
      i++;
      while (/[0-9]/.test(src[i] ?? "")) i++;
      push("param", src.slice(start, i));
    } else if (c === "$") {
      const m = /^\$([\p{L}_][\p{L}\p{N}_]*)?\$/u.exec(src.slice(i));
      if (!m) {
        i++;
        push("p", "$");
        continue;
      }
      const end = src.indexOf(m[0], i + m[0].length);
      if (end < 0) throw new TranslateError("unterminated dollar-quoted string");
      i = end + m[0].length;
      push("str", src.slice(start, i));
    } else if (ID_START.test(c)) {
      while (i < src.length && ID_PART.test(src[i] as string)) i++;
      push("id", src.slice(start, i));
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i)) as RegExpExecArray;
      i += m[0].length;
      push("num", m[0]);
    } else if (c === "?") {
      i++;
      push("qmark", "?");
    } else if (c === ":" && src[i + 1] === ":") {
      i += 2;
      push("p", "::");
    } else {
      i++;
      push("p", c);
    }
  }
  return out;
}

function significant(t: Tok): boolean {
  return t.k !== "ws" && t.k !== "comment";
}

/** An identifier token's name: unquoted ones lower-cased, quoted ones unescaped. */
export function identName(t: Tok): string {
  return t.k === "qid" ? t.t.slice(1, -1).replace(/""/g, '"') : t.lc;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export type Plan =
  /** Run `sql` on PostgreSQL. `names`: CrateDB-style output column names, when they could be derived. */
  | { kind: "pg"; sql: string; names: Array<string | undefined> | undefined; createSchema: string | undefined }
  /** Answer a row count without touching PostgreSQL. */
  | { kind: "noop"; rowcount: number }
  /** `REFRESH TABLE` / `OPTIMIZE TABLE`: check that the tables exist, then answer a row count. */
  | { kind: "refresh"; tables: Array<{ schema: string | undefined; name: string }> }
  /** `SET search_path`: stored in the connection's session. */
  | { kind: "search-path"; schemas: string[] };

/** Translate one CrateDB statement. Throws `TranslateError` for input that cannot be tokenized. */
export function translate(stmt: string): Plan {
  const toks = tokenize(stmt);
  const sig = toks.filter(significant);
  const w = (i: number) => (sig[i]?.k === "id" ? sig[i]?.lc : undefined);
  const first = w(0);
  if (sig.length === 0) return { kind: "pg", sql: stmt, names: undefined, createSchema: undefined };

  // ---- statements with plans of their own
  if (first === "begin" || first === "commit" || first === "end" || first === "rollback" || first === "abort" ||
    (first === "start" && w(1) === "transaction")) {
    return { kind: "noop", rowcount: 0 };
  }
  if (first === "reset" || first === "discard") return { kind: "noop", rowcount: 0 };
  if (first === "set") {
    let i = 1;
    if (w(i) === "session" || w(i) === "local") i++;
    if (w(i) === "search_path") {
      i++;
      if (w(i) === "to" || sig[i]?.t === "=") i++;
      const schemas: string[] = [];
      for (; i < sig.length; i++) {
        const t = sig[i] as Tok;
        if (t.t === "," || t.t === ";") continue;
        if (t.k === "id" && t.lc === "default") schemas.push("doc");
        else if (t.k === "id" || t.k === "qid") schemas.push(identName(t));
        else if (t.k === "str") schemas.push(t.t.slice(1, -1).replace(/''/g, "'"));
        else throw new TranslateError(`unexpected '${t.t}' in SET search_path`);
      }
      return { kind: "search-path", schemas };
    }
    return { kind: "noop", rowcount: 0 }; // CrateDB session settings; PostgreSQL's would leak into other sessions
  }
  if ((first === "refresh" || first === "optimize") && w(1) === "table") {
    const tables: Array<{ schema: string | undefined; name: string }> = [];
    let i = 2;
    while (i < sig.length) {
      const a = sig[i] as Tok;
      if (a.k !== "id" && a.k !== "qid") break;
      if (sig[i + 1]?.t === "." && sig[i + 2]) {
        tables.push({ schema: identName(a), name: identName(sig[i + 2] as Tok) });
        i += 3;
      } else {
        tables.push({ schema: undefined, name: identName(a) });
        i++;
      }
      if (w(i) === "partition") i = skipBalanced(sig, i + 1);
      if (sig[i]?.t === ",") i++;
      else break;
    }
    if (tables.length === 0) throw new TranslateError(`${first?.toUpperCase()} TABLE needs a table name`);
    return { kind: "refresh", tables };
  }
  if (first === "show" && w(1) === "tables") {
    return {
      kind: "pg",
      sql: "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name",
      names: undefined,
      createSchema: undefined,
    };
  }

  // ---- everything else runs on PostgreSQL, rewritten
  let createSchema: string | undefined;
  let body = toks;
  if (first === "alter" && w(1) === "table" && sig.some((t, j) => t.lc === "set" && sig[j + 1]?.t === "(")) {
    return { kind: "noop", rowcount: -1 }; // ALTER TABLE t SET (number_of_replicas = …): CrateDB table settings
  }
  if (first === "create" && w(1) === "table") {
    const r = rewriteCreateTable(toks);
    body = r.toks;
    createSchema = r.schema;
  } else if (first === "alter" && w(1) === "table") {
    body = rewriteAlterAdd(toks);
  }
  body = rewriteSeries(rewriteCasts(body));
  let n = 0;
  const sql = body.map((t) => (t.k === "qmark" ? `$${++n}` : t.t)).join("");
  return { kind: "pg", sql, names: first === "select" ? selectNames(sig) : undefined, createSchema };
}

/** Index after the balanced parenthesised group starting at `i` (which must be `(`), or `i` when there is none. */
function skipBalanced(sig: Tok[], i: number): number {
  if (sig[i]?.t !== "(") return i;
  let depth = 0;
  for (let j = i; j < sig.length; j++) {
    const t = (sig[j] as Tok).t;
    if (t === "(") depth++;
    else if (t === ")" && --depth === 0) return j + 1;
  }
  throw new TranslateError("unbalanced parentheses");
}

// ---------------------------------------------------------------- types

/**
 * Parse a CrateDB type at `sig[i]`; returns PostgreSQL's spelling and the index after it, or undefined when `sig[i]`
 * does not start a type.
 */
function parseType(sig: Tok[], i: number): { pg: string; next: number } | undefined {
  const t = sig[i];
  if (!t || (t.k !== "id" && t.k !== "qid")) return undefined;
  const lc = t.k === "id" ? t.lc : undefined;
  const src = (from: number, to: number) => joinSig(sig.slice(from, to));
  const nextLc = (j: number) => (sig[j]?.k === "id" ? sig[j]?.lc : undefined);
  let pg: string;
  let j = i + 1;
  switch (lc) {
    case "array": {
      if (sig[j]?.t !== "(") return undefined;
      const inner = parseType(sig, j + 1);
      if (!inner || sig[inner.next]?.t !== ")") throw new TranslateError("bad ARRAY(type)");
      pg = `${inner.pg}[]`;
      j = inner.next + 1;
      break;
    }
    case "object":
      j = skipBalanced(sig, j);
      if (nextLc(j) === "as" && sig[j + 1]?.t === "(") j = skipBalanced(sig, j + 1);
      pg = "jsonb";
      break;
    case "geo_shape":
      pg = "jsonb";
      break;
    case "geo_point":
      pg = "point";
      break;
    case "ip":
      pg = "inet";
      break;
    case "string":
      pg = "text";
      break;
    case "long":
      pg = "bigint";
      break;
    case "short":
    case "byte":
      pg = "smallint";
      break;
    case "float":
      pg = "real";
      j = skipBalanced(sig, j);
      break;
    case "double":
      if (nextLc(j) === "precision") j++;
      pg = "double precision";
      break;
    case "float_vector":
      j = skipBalanced(sig, j);
      pg = "real[]";
      break;
    case "timestamp":
    case "time": {
      j = skipBalanced(sig, j);
      if ((nextLc(j) === "with" || nextLc(j) === "without") && nextLc(j + 1) === "time" && nextLc(j + 2) === "zone") j += 3;
      pg = src(i, j);
      break;
    }
    case "character":
    case "char":
    case "bit":
      if (nextLc(j) === "varying") j++;
      j = skipBalanced(sig, j);
      pg = src(i, j);
      break;
    default:
      j = skipBalanced(sig, j);
      pg = src(i, j);
  }
  for (;;) {
    if (sig[j]?.t === "[" && sig[j + 1]?.t === "]") {
      pg += "[]";
      j += 2;
    } else if (nextLc(j) === "array" && sig[j + 1]?.t !== "(") {
      pg += "[]";
      j++;
    } else {
      return { pg, next: j };
    }
  }
}

/** Words that end a column's type and start its constraints. */
const CONSTRAINT_WORDS = new Set(["primary", "not", "null", "default", "generated", "as", "index", "storage", "check",
  "constraint", "references", "unique", "collate", "columnstore"]);

/** One column definition or table constraint of a CREATE TABLE, rewritten; "" drops it. */
function rewriteElement(sig: Tok[]): string {
  const lc = (j: number) => (sig[j]?.k === "id" ? sig[j]?.lc : undefined);
  const text = (from: number, to: number = sig.length) => joinSig(sig.slice(from, to));
  const head = lc(0);
  if (head === "index") return ""; // INDEX name USING FULLTEXT (cols) [WITH (…)]
  if (head === "primary" || head === "constraint" || head === "check" || head === "unique" || head === "foreign") return text(0);
  if (sig.length === 0) return "";
  const name = (sig[0] as Tok).t;
  let i = 1;
  let type = "";
  if (!CONSTRAINT_WORDS.has(lc(1) ?? "")) {
    const parsed = parseType(sig, 1);
    if (parsed) {
      type = parsed.pg;
      i = parsed.next;
    }
  }
  const parts: string[] = [name];
  if (type) parts.push(type);
  while (i < sig.length) {
    const word = lc(i);
    if (word === "index") {
      // INDEX OFF | INDEX USING plain|fulltext [WITH (…)]
      i += lc(i + 1) === "off" ? 2 : 3;
      if (lc(i) === "with") i = skipBalanced(sig, i + 1);
    } else if (word === "storage" && lc(i + 1) === "with") {
      i = skipBalanced(sig, i + 2);
    } else if (word === "columnstore") {
      i++;
    } else if ((word === "generated" && lc(i + 1) === "always" && lc(i + 2) === "as") || word === "as") {
      const exprAt = word === "as" ? i + 1 : i + 3;
      const end = sig[exprAt]?.t === "(" ? skipBalanced(sig, exprAt) : constraintEnd(sig, exprAt);
      const expr = text(exprAt, end);
      parts.push(`GENERATED ALWAYS AS ${sig[exprAt]?.t === "(" ? expr : `(${expr})`} STORED`);
      i = end;
    } else {
      const end = constraintEnd(sig, i + 1);
      parts.push(text(i, end));
      i = end;
    }
  }
  return parts.join(" ");
}

/** Index of the next top-level constraint word at or after `i`. */
function constraintEnd(sig: Tok[], i: number): number {
  let depth = 0;
  for (let j = i; j < sig.length; j++) {
    const t = sig[j] as Tok;
    if (t.t === "(") depth++;
    else if (t.t === ")") depth--;
    else if (depth === 0 && t.k === "id" && CONSTRAINT_WORDS.has(t.lc) && !(t.lc === "null" && sig[j - 1]?.lc === "not")) return j;
  }
  return sig.length;
}

/** Significant tokens joined with one space where the source had whitespace or a comment between them. */
function joinSig(sig: Tok[], text: (t: Tok) => string = (t) => t.t): string {
  return sig.map((t, i) => (i > 0 && t.sp ? " " : "") + text(t)).join("");
}

function rewriteCreateTable(toks: Tok[]): { toks: Tok[]; schema: string | undefined } {
  const sig = toks.filter(significant);
  const lc = (j: number) => (sig[j]?.k === "id" ? sig[j]?.lc : undefined);
  let i = 2;
  if (lc(i) === "if" && lc(i + 1) === "not" && lc(i + 2) === "exists") i += 3;
  const nameStart = i;
  let schema: string | undefined;
  if (sig[i + 1]?.t === "." && sig[i + 2]) {
    schema = identName(sig[i] as Tok);
    i += 3;
  } else {
    i++;
  }
  if (sig[i]?.t !== "(") return { toks, schema }; // CREATE TABLE … AS SELECT: run as written
  const close = skipBalanced(sig, i) - 1;
  // split the element list at top-level commas
  const elements: Tok[][] = [[]];
  let depth = 0;
  for (let j = i + 1; j < close; j++) {
    const t = sig[j] as Tok;
    if (t.t === "(") depth++;
    else if (t.t === ")") depth--;
    if (depth === 0 && t.t === ",") elements.push([]);
    else (elements[elements.length - 1] as Tok[]).push(t);
  }
  const defs = elements.map(rewriteElement).filter((d) => d !== "");
  // Everything after the element list is CrateDB's CLUSTERED / PARTITIONED BY / WITH (…): dropped.
  const sql = `${joinSig(sig.slice(0, nameStart))} ${joinSig(sig.slice(nameStart, i))} (${defs.join(", ")})`;
  return { toks: [{ k: "p", t: sql, lc: sql }], schema };
}

/** `ALTER TABLE t ADD [COLUMN] name type …`: map the type. */
function rewriteAlterAdd(toks: Tok[]): Tok[] {
  const sig = toks.filter(significant);
  const addAt = sig.findIndex((t) => t.k === "id" && t.lc === "add");
  if (addAt < 0) return toks;
  let i = addAt + 1;
  if (sig[i]?.lc === "column") i++;
  if (sig[i]?.lc === "if" && sig[i + 1]?.lc === "not" && sig[i + 2]?.lc === "exists") i += 3;
  const def = rewriteElement(sig.slice(i));
  const sql = `${joinSig(sig.slice(0, i))} ${def}`;
  return [{ k: "p", t: sql, lc: sql }];
}

/** `x::string`, `CAST(x AS long)`, `TRY_CAST(…)`: CrateDB type names → PostgreSQL's. */
function rewriteCasts(toks: Tok[]): Tok[] {
  const out: Tok[] = [];
  const sigIdx: number[] = [];
  toks.forEach((t, i) => significant(t) && sigIdx.push(i));
  const sig = sigIdx.map((i) => toks[i] as Tok);
  let castDepth: number[] = []; // paren depths at which a CAST( … AS type ) is open
  let depth = 0;
  let skipUntil = -1;
  for (let s = 0; s < sig.length; s++) {
    const t = sig[s] as Tok;
    const raw = sigIdx[s] as number;
    if (raw <= skipUntil) continue;
    // whitespace/comments before this token
    const prevRaw = s === 0 ? -1 : (sigIdx[s - 1] as number);
    for (let r = prevRaw + 1; r < raw; r++) if (r > skipUntil) out.push(toks[r] as Tok);
    if (t.k === "id" && (t.lc === "cast" || t.lc === "try_cast") && sig[s + 1]?.t === "(") {
      castDepth.push(depth + 1);
      if (t.lc === "try_cast") {
        out.push({ k: "id", t: "CAST", lc: "cast", sp: t.sp });
        continue;
      }
    }
    if (t.t === "(") depth++;
    if (t.t === ")") {
      if (castDepth[castDepth.length - 1] === depth) castDepth = castDepth.slice(0, -1);
      depth--;
    }
    const typeFollows = t.t === "::" || (t.k === "id" && t.lc === "as" && castDepth[castDepth.length - 1] === depth);
    out.push(t);
    if (typeFollows) {
      const parsed = parseType(sig, s + 1);
      if (parsed && parsed.next > s + 1) {
        out.push({ k: "ws", t: t.t === "::" ? "" : " ", lc: "" }, { k: "p", t: parsed.pg, lc: parsed.pg });
        skipUntil = (sigIdx[parsed.next - 1] as number);
        s = parsed.next - 1;
      }
    }
  }
  const last = sigIdx[sigIdx.length - 1] ?? -1;
  for (let r = Math.max(last, skipUntil) + 1; r < toks.length; r++) out.push(toks[r] as Tok);
  return out;
}

// ---------------------------------------------------------------- output column names

const NOT_ALIAS = new Set(["null", "true", "false", "end", "unknown", "zone", "asc", "desc"]);
const CLAUSE_END = new Set(["from", "where", "group", "having", "order", "limit", "offset", "into", "window", "union",
  "intersect", "except", "fetch", "for"]);

/**
 * CrateDB names an output column without alias after the expression's text (`count(*)`, `1`, `?`); PostgreSQL says
 * `count` / `?column?`. For a plain top-level `SELECT a, f(b), …` this returns one name per item (undefined where
 * PostgreSQL's name is right: aliases and column references); undefined when the list has a `*`.
 */
function selectNames(sig: Tok[]): Array<string | undefined> | undefined {
  let i = 1;
  if (sig[i]?.lc === "distinct" || sig[i]?.lc === "all") i++;
  const items: Tok[][] = [[]];
  let depth = 0;
  for (; i < sig.length; i++) {
    const t = sig[i] as Tok;
    if (depth === 0 && t.k === "id" && CLAUSE_END.has(t.lc)) break;
    if (t.t === "(" || t.t === "[") depth++;
    else if (t.t === ")" || t.t === "]") depth--;
    if (depth === 0 && t.t === ",") items.push([]);
    else if (depth === 0 && t.t === ";") break;
    else (items[items.length - 1] as Tok[]).push(t);
  }
  const names: Array<string | undefined> = [];
  for (const item of items) {
    if (item.length === 0) return undefined;
    if (item.some((t, j) => t.t === "*" && (j === item.length - 1) && (j === 0 || item[j - 1]?.t === "."))) return undefined;
    const last = item[item.length - 1] as Tok;
    const beforeLast = item[item.length - 2];
    const isRef = item.every((t, j) => (j % 2 === 0 ? t.k === "id" || t.k === "qid" : t.t === "."));
    const aliased = item.length >= 2 && beforeLast !== undefined && (last.k === "qid" || (last.k === "id" && !NOT_ALIAS.has(last.lc))) &&
      (beforeLast.lc === "as" || [")", "]"].includes(beforeLast.t) || ["id", "qid", "num", "str", "qmark", "param"].includes(beforeLast.k));
    if (isRef || aliased) names.push(undefined);
    else names.push(joinSig(item, (t) => (t.k === "id" ? t.lc : t.t)));
  }
  return names;
}
