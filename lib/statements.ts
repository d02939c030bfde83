/** Statement analysis: read-only classification (retry safety) and `%(name)s` rewriting. */
import { InterfaceError, ProgrammingError } from "./errors.js";

// String literals, quoted identifiers and comments, which must not influence classification.
const NOISE = /'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\//g;
const WRITE_WORDS = /\b(INSERT|UPDATE|DELETE|COPY|MERGE|UPSERT)\b/i;

/**
 * True when re-sending a statement after a possibly delivered attempt is safe: read-only statements
 * (SELECT, SHOW, EXPLAIN, VALUES, WITH … SELECT, with no data-changing keyword anywhere outside
 * literals) and the idempotent session statements SET, RESET, BEGIN and COMMIT (CrateDB's BEGIN and
 * COMMIT do nothing). Anything unsure counts as a write.
 */
export function isReadOnly(stmt: string): boolean {
  let known = verdicts.get(stmt);
  if (known === undefined) {
    known = classify(stmt);
    // Applications repeat their statements: remember the last few hundred verdicts.
    if (verdicts.size >= 512) verdicts.clear();
    verdicts.set(stmt, known);
  }
  return known;
}

const verdicts = new Map<string, boolean>();

/** The statement without literals, comments and opening parentheses, which must not influence classification. */
function code(stmt: string): string {
  return stmt.replace(NOISE, " ").replace(/^[\s(]+/, "");
}

const firstWord = (code: string): string | undefined => /^[A-Za-z]+/.exec(code)?.[0]?.toUpperCase();

/** The statement's first keyword in upper case (comments, literals and opening parentheses skipped). */
export function leadingKeyword(stmt: string): string | undefined {
  return firstWord(code(stmt));
}

function classify(stmt: string): boolean {
  const text = code(stmt);
  const first = firstWord(text);
  if (first === "SHOW" || first === "SET" || first === "RESET" || first === "BEGIN" || first === "COMMIT") return true;
  if (first !== "SELECT" && first !== "VALUES" && first !== "WITH" && first !== "EXPLAIN") return false;
  // EXPLAIN ANALYZE executes; anything with a write keyword is treated as a write.
  if (first === "EXPLAIN" && /^EXPLAIN\s+(\(|ANALY[SZ]E)/i.test(text)) return false;
  return !WRITE_WORDS.test(text);
}

/**
 * True when text can be appended after the statement without changing what it means: the statement
 * ends outside any string, quoted identifier, line comment or block comment. CrateDB's block comments
 * do not nest, so a marker `/* … *\/` after an unterminated `/*` would close it and turn commented-out
 * SQL into code. Escape strings (`E'\''`) are lexed both with and without backslash escapes, and the
 * statement counts as safe only when both readings end outside everything.
 */
export function endsInCode(stmt: string): boolean {
  return lexesToCode(stmt, false) && (!stmt.includes("\\") || lexesToCode(stmt, true));
}

function lexesToCode(s: string, escapes: boolean): boolean {
  const n = s.length;
  for (let i = 0; i < n; ) {
    const c = s.charCodeAt(i);
    if (c === 0x2d /* - */ && s.charCodeAt(i + 1) === 0x2d) {
      const nl = s.indexOf("\n", i + 2);
      if (nl < 0) return false;
      i = nl + 1;
    } else if (c === 0x2f /* / */ && s.charCodeAt(i + 1) === 0x2a) {
      const end = s.indexOf("*/", i + 2);
      if (end < 0) return false;
      i = end + 2;
    } else if (c === 0x27 /* ' */ || c === 0x22 /* " */) {
      // E'…' (not part of a longer identifier) takes backslash escapes in the escaping reading.
      const prev = i > 0 ? s[i - 1] ?? "" : "";
      const backslash = escapes && c === 0x27 && /[eE]/.test(prev) && !/[A-Za-z0-9_$]/.test(i > 1 ? s[i - 2] ?? "" : "");
      let j = i + 1;
      for (;;) {
        if (j >= n) return false;
        const d = s.charCodeAt(j);
        if (backslash && d === 0x5c) j += 2;
        else if (d === c && s.charCodeAt(j + 1) === c) j += 2;
        else if (d === c) break;
        else j++;
      }
      i = j + 1;
    } else {
      i++;
    }
  }
  return true;
}

const NAMED = /%\(([^)]+)\)s/g;

/** True when the statement uses `%(name)s` placeholders. */
export function hasNamedParams(stmt: string): boolean {
  NAMED.lastIndex = 0;
  return NAMED.test(stmt);
}

/**
 * Rewrites `%(name)s` placeholders to `$N` (one number per distinct name, in order of first use)
 * and returns the names in that order. Only referenced names are sent **(differs: Python also
 * sends unreferenced keys)**.
 */
export function rewriteNamed(stmt: string): { stmt: string; names: string[] } {
  const names: string[] = [];
  const out = stmt.replace(NAMED, (_m, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
  return { stmt: out, names };
}

/** Picks the values of `names` from a params object, or throws ProgrammingError naming a missing one. */
export function pickNamed(names: readonly string[], params: Record<string, unknown>): unknown[] {
  return names.map((name) => {
    if (!Object.prototype.hasOwnProperty.call(params, name)) {
      throw new ProgrammingError(`Named parameter '${name}' not found in the parameters dict`);
    }
    return params[name];
  });
}

/** Rewrites every `%(name)s` occurrence to `$1, $2, …` by position (for array rows). */
export function numberByOccurrence(stmt: string): string {
  let n = 0;
  return stmt.replace(NAMED, () => `$${++n}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Normalises `execute(stmt, params)` parameters: an array, or an object for `%(name)s` SQL. */
export function prepareParams(stmt: string, params: unknown): { stmt: string; args: unknown[] | undefined } {
  if (params === undefined || params === null) return { stmt, args: undefined };
  if (Array.isArray(params)) return { stmt, args: params };
  if (isPlainObject(params)) {
    const { stmt: rewritten, names } = rewriteNamed(stmt);
    return { stmt: rewritten, args: pickNamed(names, params) };
  }
  throw new InterfaceError(`Parameters must be an array or an object (for %(name)s placeholders), got ${typeof params}`);
}

/** Normalises bulk parameters: arrays of values, or objects for `%(name)s` SQL. */
export function prepareBulk(stmt: string, rows: unknown): { stmt: string; bulkArgs: unknown[][] } {
  if (!Array.isArray(rows)) throw new InterfaceError("Bulk parameters must be an array of rows");
  const named = hasNamedParams(stmt);
  if (rows.length > 0 && isPlainObject(rows[0]) && named) {
    const { stmt: rewritten, names } = rewriteNamed(stmt);
    const bulkArgs = rows.map((row: unknown) => {
      if (!isPlainObject(row)) {
        throw new ProgrammingError("All bulk parameter rows must be objects when SQL uses %(name)s placeholders; got a non-object row");
      }
      return pickNamed(names, row);
    });
    return { stmt: rewritten, bulkArgs };
  }
  rows.forEach((row: unknown, i: number) => {
    if (!Array.isArray(row)) throw new InterfaceError(`Bulk row ${i} must be an array of values`);
  });
  return { stmt: named ? numberByOccurrence(stmt) : stmt, bulkArgs: rows as unknown[][] };
}
