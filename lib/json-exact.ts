/**
 * Loaded by json.ts only when a body needs it (a dynamic import: its own chunk for splitting bundlers).
 * A number-preserving JSON parser. JSON.parse rounds integers beyond 2^53 and long decimals;
 * this parser keeps such literals (or, with `keepAll`, every number literal) as `RawNumber`
 * carrying the exact source text. Strings are handed to JSON.parse, which is fast and exact.
 */

/** A JSON number literal kept as its source text. */
export class RawNumber {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/**
 * How the numbers of a parsed body read: JSON.parse's own numbers, or the exact parser's literals
 * (this module, loaded only when a body needs it).
 */
export interface Numbers {
  /** The literal text of a number value; undefined when `v` is not a number. */
  text(v: unknown): string | undefined;
  /** `v` (in place where possible) with exact-parser leftovers turned back into ordinary JSON numbers. */
  plain(v: unknown): unknown;
}

/** A parsed body and how its numbers read; `exact` when the exact parser produced it. */
export interface Parsed {
  value: unknown;
  numbers: Numbers;
  exact: boolean;
}

const MAX_SAFE_DIGITS = 15;

class Parser {
  private pos = 0;
  constructor(private readonly s: string, private readonly keepAll: boolean) {}

  fail(what: string): never {
    throw new SyntaxError(`JSON: ${what} at position ${this.pos}`);
  }

  ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.pos);
    while (c === 32 || c === 10 || c === 13 || c === 9) c = s.charCodeAt(++this.pos);
  }

  value(): unknown {
    this.ws();
    const c = this.s.charCodeAt(this.pos);
    if (c === 34) return this.string();
    if (c === 123) return this.object();
    if (c === 91) return this.array();
    if (c === 45 || (c >= 48 && c <= 57)) return this.number();
    if (this.s.startsWith("true", this.pos)) { this.pos += 4; return true; }
    if (this.s.startsWith("false", this.pos)) { this.pos += 5; return false; }
    if (this.s.startsWith("null", this.pos)) { this.pos += 4; return null; }
    return this.fail(Number.isNaN(c) ? "unexpected end" : `unexpected '${this.s[this.pos]}'`);
  }

  string(): string {
    const s = this.s;
    const start = this.pos;
    // Jump from quote to quote natively; a quote preceded by an odd run of backslashes is escaped.
    let end = s.indexOf('"', start + 1);
    for (;;) {
      if (end < 0) {
        this.pos = s.length;
        this.fail("unterminated string");
      }
      let backslashes = 0;
      while (s.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
      if ((backslashes & 1) === 0) break;
      end = s.indexOf('"', end + 1);
    }
    this.pos = end + 1;
    const raw = s.slice(start + 1, end);
    return raw.includes("\\") ? (JSON.parse(s.slice(start, end + 1)) as string) : raw;
  }

  number(): number | RawNumber {
    const s = this.s;
    const start = this.pos;
    let i = start;
    const negative = s.charCodeAt(i) === 45;
    if (negative) i++;
    // Integers of up to 15 digits are accumulated directly: no slice, no Number() of a string.
    let value = 0;
    let digits = 0;
    let c = s.charCodeAt(i);
    while (c >= 48 && c <= 57) {
      value = value * 10 + (c - 48);
      digits++;
      c = s.charCodeAt(++i);
    }
    if (digits === 0) this.fail("invalid number");
    let integer = true;
    if (c === 46) {
      integer = false;
      c = s.charCodeAt(++i);
      while (c >= 48 && c <= 57) { digits++; c = s.charCodeAt(++i); }
    }
    if (c === 101 || c === 69) {
      integer = false;
      c = s.charCodeAt(++i);
      if (c === 43 || c === 45) c = s.charCodeAt(++i);
      while (c >= 48 && c <= 57) c = s.charCodeAt(++i);
    }
    this.pos = i;
    if (!this.keepAll && digits <= MAX_SAFE_DIGITS) return integer ? (negative ? -value : value) : Number(s.slice(start, i));
    const text = s.slice(start, i);
    if (!this.keepAll && integer) {
      const n = Number(text);
      if (Number.isSafeInteger(n)) return n;
    }
    return new RawNumber(text);
  }

  array(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    this.ws();
    if (this.s.charCodeAt(this.pos) === 93) { this.pos++; return out; }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s.charCodeAt(this.pos++);
      if (c === 93) return out;
      if (c !== 44) { this.pos--; this.fail("expected ',' or ']'"); }
    }
  }

  object(): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s.charCodeAt(this.pos) === 125) { this.pos++; return out; }
    for (;;) {
      this.ws();
      if (this.s.charCodeAt(this.pos) !== 34) this.fail("expected a key");
      const key = this.string();
      this.ws();
      if (this.s.charCodeAt(this.pos++) !== 58) { this.pos--; this.fail("expected ':'"); }
      const v = this.value();
      if (key === "__proto__") Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = this.s.charCodeAt(this.pos++);
      if (c === 125) return out;
      if (c !== 44) { this.pos--; this.fail("expected ',' or '}'"); }
    }
  }

  document(): unknown {
    const v = this.value();
    this.ws();
    if (this.pos < this.s.length) this.fail("unexpected data after JSON");
    return v;
  }
}

/** Parses JSON text exactly; see the module comment. Throws SyntaxError like JSON.parse. */
export function parseExact(text: string, keepAll = false): unknown {
  return new Parser(text, keepAll).document();
}

/**
 * The number literals of the top-level `"rows"` array, in document order, outside objects: the
 * source text where it matters (`keepAll`, or a literal of 16+ digits that JSON.parse may have
 * rounded), else null. Allocates next to nothing, so that JSON.parse plus this scan is much cheaper
 * than a full exact parse; `undefined` when the body does not have CrateDB's compact shape.
 */
export function rowNumberTexts(s: string, keepAll: boolean): Array<string | null> | undefined {
  const at = s.indexOf('"rows":[');
  if (at < 0) return undefined;
  const out: Array<string | null> = [];
  const n = s.length;
  let i = at + 7;
  let arrays = 0;
  let objects = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 34) {
      let end = s.indexOf('"', i + 1);
      for (;;) {
        if (end < 0) return undefined;
        let backslashes = 0;
        while (s.charCodeAt(end - 1 - backslashes) === 92) backslashes++;
        if ((backslashes & 1) === 0) break;
        end = s.indexOf('"', end + 1);
      }
      i = end + 1;
    } else if (c === 91) {
      arrays++;
      i++;
    } else if (c === 93) {
      i++;
      if (--arrays === 0) return out;
    } else if (c === 123) {
      objects++;
      i++;
    } else if (c === 125) {
      objects--;
      i++;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      const start = i;
      let digits = 0;
      if (c === 45) i++;
      for (let d = s.charCodeAt(i); (d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45; d = s.charCodeAt(++i)) {
        if (d >= 48 && d <= 57) digits++;
      }
      if (objects === 0) out.push(keepAll || digits > MAX_SAFE_DIGITS ? s.slice(start, i) : null);
    } else {
      i++;
    }
  }
  return undefined;
}

/**
 * Replaces, in document order, the numbers of parsed rows (outside objects) whose literal text was
 * kept by rowNumberTexts with RawNumber. False when the counts do not match (then parse exactly).
 */
export function applyRowNumbers(rows: unknown[], texts: ReadonlyArray<string | null>): boolean {
  const k = visit(rows, texts, 0);
  return k === texts.length;
}

function visit(arr: unknown[], texts: ReadonlyArray<string | null>, from: number): number {
  let k = from;
  for (let i = 0; i < arr.length; i++) {
    const v = arr[i];
    if (typeof v === "number") {
      const text = texts[k++];
      if (text != null) arr[i] = new RawNumber(text);
    } else if (Array.isArray(v)) {
      k = visit(v, texts, k);
    }
  }
  return k;
}

/** Turns RawNumber leftovers (inside objects, untyped columns) back into ordinary JSON numbers. */
function plain(v: unknown): unknown {
  if (v instanceof RawNumber) return Number(v.text);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = plain(v[i]);
    return v;
  }
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = plain(o[k]);
  }
  return v;
}

const EXACT: Numbers = {
  text: (v) => (v instanceof RawNumber ? v.text : typeof v === "number" ? String(v) : undefined),
  plain,
};

/**
 * The exact reading of a body JSON.parse already parsed (`value`): the literals that need it are
 * recovered with a cheap scan of the rows; anything unexpected falls back to the full parser.
 */
export function exactBody(text: string, value: unknown, keepAll: boolean): Parsed {
  const rows = (value as { rows?: unknown } | null)?.rows;
  const texts = Array.isArray(rows) ? rowNumberTexts(text, keepAll) : undefined;
  if (texts !== undefined && applyRowNumbers(rows as unknown[], texts)) return { value, numbers: EXACT, exact: true };
  return { value: parseExact(text, keepAll), numbers: EXACT, exact: true };
}
