/**
 * Statement analysis: read-only classification (retry safety), the leading keyword, whether a statement
 * ends in code. The `%(name)s` rewriting of Cursor parameters is in params.ts (loaded by the first execute).
 */

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
