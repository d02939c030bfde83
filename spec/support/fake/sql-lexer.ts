/** Tokenizer for the fake's tiny SQL dialect, plus the CrateDB-style error type. */

export type TokKind = "ident" | "qident" | "number" | "string" | "param" | "punct";

export interface Token {
  kind: TokKind;
  /** Unquoted identifiers lower-cased; quoted identifiers as written; strings unescaped; params `?` or `$N`. */
  value: string;
  start: number;
  end: number;
}

/** An error in CrateDB's JSON error envelope: `Name[message]` with an error code and HTTP status. */
export class SqlError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    readonly exception: string,
    readonly detail: string,
    /** In a bulk request, reported as a per-item failure instead of failing the whole request. */
    readonly perItem = false,
  ) {
    super(`${exception}[${detail}]`);
  }
}

export const errors = {
  parse: (detail: string) => new SqlError(400, 4000, "SQLParseException", detail),
  mismatched: (tok: Token | undefined, src: string) =>
    errors.parse(
      `line 1:${(tok?.start ?? src.length) + 1}: mismatched input '${tok ? src.slice(tok.start, tok.end) : "<EOF>"}' expecting ` +
        `{'SELECT', 'DEALLOCATE', 'FETCH', 'END', 'WITH', 'CREATE', 'ALTER', 'KILL', 'CLOSE', 'BEGIN', 'START', 'COMMIT', ` +
        `'ANALYZE', 'DISCARD', 'EXPLAIN', 'SHOW', 'OPTIMIZE', 'REFRESH', 'RESTORE', 'DROP', 'INSERT', 'VALUES', 'DELETE', ` +
        `'UPDATE', 'SET', 'RESET', 'COPY', 'GRANT', 'DENY', 'REVOKE', 'DECLARE'}`,
    ),
  relationUnknown: (name: string) => new SqlError(404, 4041, "RelationUnknown", `Relation '${name}' unknown`),
  relationExists: (name: string) => new SqlError(409, 4093, "RelationAlreadyExists", `Relation '${name}' already exists.`),
  columnUnknown: (name: string) => new SqlError(404, 4043, "ColumnUnknownException", `Column ${name} unknown`),
  duplicateKey: () =>
    new SqlError(409, 4091, "DuplicateKeyException", "A document with the same primary key exists already", true),
  unsupported: (detail: string) => new SqlError(400, 4004, "UnsupportedFeatureException", detail),
};

const PUNCT = ["<>", "!=", ">=", "<=", "::", "(", ")", ",", ".", "*", "=", ";", "<", ">", "+", "-", "/", "[", "]", "{", "}", ":"];

export function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "-" && src[i + 1] === "-") {
      const nl = src.indexOf("\n", i);
      i = nl < 0 ? src.length : nl + 1;
      continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      // CrateDB's lexer does not nest block comments; an unterminated one is a parse error.
      const end = src.indexOf("*/", i + 2);
      if (end < 0) throw errors.parse(`line 1:${i + 1}: unterminated comment`);
      i = end + 2;
      continue;
    }
    const start = i;
    let m: RegExpExecArray | null;
    const rest = src.slice(i);
    if ((m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest))) {
      out.push({ kind: "ident", value: m[0].toLowerCase(), start, end: (i += m[0].length) });
    } else if ((m = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(rest))) {
      out.push({ kind: "number", value: m[0], start, end: (i += m[0].length) });
    } else if ((m = /^(?:\?|\$[0-9]+)/.exec(rest))) {
      out.push({ kind: "param", value: m[0], start, end: (i += m[0].length) });
    } else if (c === "'" || c === '"') {
      let value = "";
      let j = i + 1;
      for (;;) {
        if (j >= src.length) throw errors.parse(`line 1:${start + 1}: unterminated quoted text`);
        if (src[j] === c && src[j + 1] === c) {
          value += c;
          j += 2;
        } else if (src[j] === c) {
          break;
        } else {
          value += src[j++];
        }
      }
      i = j + 1;
      out.push({ kind: c === "'" ? "string" : "qident", value, start, end: i });
    } else {
      const p = PUNCT.find((x) => rest.startsWith(x));
      if (!p) throw errors.parse(`line 1:${start + 1}: token recognition error at: '${c}'`);
      out.push({ kind: "punct", value: p, start, end: (i += p.length) });
    }
  }
  return out;
}

/** A cursor over the tokens with small helpers for the hand-written parser. */
export class Cursor {
  i = 0;
  private qmarks = 0;
  constructor(
    readonly src: string,
    readonly toks: Token[],
  ) {}

  peek(offset = 0): Token | undefined {
    return this.toks[this.i + offset];
  }
  atEnd(): boolean {
    return this.i >= this.toks.length;
  }
  /** Is the next token the keyword/punctuation `v` (identifiers compare lower-case)? */
  is(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t !== undefined && (t.kind === "ident" || t.kind === "punct") && t.value === v;
  }
  accept(...words: string[]): boolean {
    if (!words.every((w, k) => this.is(w, k))) return false;
    this.i += words.length;
    return true;
  }
  expect(...words: string[]): void {
    for (const w of words) {
      if (!this.accept(w)) this.fail();
    }
  }
  next(): Token {
    const t = this.peek();
    if (!t) this.fail();
    this.i++;
    return t;
  }
  fail(): never {
    throw errors.mismatched(this.peek(), this.src);
  }
  /** An identifier (plain or quoted). */
  ident(): string {
    const t = this.peek();
    if (!t || (t.kind !== "ident" && t.kind !== "qident")) this.fail();
    this.i++;
    return t.value;
  }
  /** The 1-based parameter index of a placeholder token (`?` numbered in order, `$N` explicit). */
  paramIndex(t: Token): number {
    return t.value === "?" ? ++this.qmarks : Number(t.value.slice(1));
  }
  text(from: number, to: number): string {
    const a = this.toks[from];
    const b = this.toks[to - 1];
    return a && b ? this.src.slice(a.start, b.end) : "";
  }
}
