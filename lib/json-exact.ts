/**
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
    if (s.charCodeAt(i) === 45) i++;
    let digits = 0;
    let integer = true;
    let c = s.charCodeAt(i);
    while (c >= 48 && c <= 57) { digits++; c = s.charCodeAt(++i); }
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
    const text = s.slice(start, i);
    if (digits === 0) this.fail("invalid number");
    if (this.keepAll || digits > MAX_SAFE_DIGITS) {
      if (!this.keepAll && integer) {
        const n = Number(text);
        if (Number.isSafeInteger(n)) return n;
      }
      return new RawNumber(text);
    }
    return Number(text);
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
