/**
 * A small JSON reader/writer for the fake CrateDB node.
 *
 * Numbers keep their exact source text (`JsonNumber`), so `9007199254740993` or a 30-digit decimal sent in `args`
 * is echoed back byte-exactly. Objects are `Map`s (key order kept, `__proto__` safe). Like CrateDB's Jackson parser
 * (`ALLOW_JAVA_COMMENTS`, strict duplicate detection) it tolerates `//` and block comments and rejects duplicate keys.
 */

export class JsonNumber {
  constructor(readonly text: string) {}
  /** True for integer literals (no fraction, no exponent). */
  get isInteger(): boolean {
    return !/[.eE]/.test(this.text);
  }
  toNumber(): number {
    return Number(this.text);
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export class JsonSyntaxError extends Error {}

/** Jackson token names, used in CrateDB's `args must start with an array, not VALUE_NULL` messages. */
export function jacksonToken(v: JsonValue): string {
  if (v === null) return "VALUE_NULL";
  if (v === true) return "VALUE_TRUE";
  if (v === false) return "VALUE_FALSE";
  if (typeof v === "string") return "VALUE_STRING";
  if (v instanceof JsonNumber) return v.isInteger ? "VALUE_NUMBER_INT" : "VALUE_NUMBER_FLOAT";
  if (Array.isArray(v)) return "START_ARRAY";
  return "START_OBJECT";
}

class Reader {
  pos = 0;
  constructor(private readonly src: string) {}

  fail(what: string): never {
    throw new JsonSyntaxError(`${what} at position ${this.pos}`);
  }

  skipWs(): void {
    const s = this.src;
    for (;;) {
      const c = s[this.pos];
      if (c === " " || c === "\t" || c === "\n" || c === "\r") {
        this.pos++;
      } else if (c === "/" && s[this.pos + 1] === "/") {
        const nl = s.indexOf("\n", this.pos);
        this.pos = nl < 0 ? s.length : nl + 1;
      } else if (c === "/" && s[this.pos + 1] === "*") {
        const end = s.indexOf("*/", this.pos + 2);
        if (end < 0) this.fail("unterminated comment");
        this.pos = end + 2;
      } else {
        return;
      }
    }
  }

  value(): JsonValue {
    this.skipWs();
    const c = this.src[this.pos];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) return this.number();
    for (const [word, v] of [["true", true], ["false", false], ["null", null]] as const) {
      if (this.src.startsWith(word, this.pos)) {
        this.pos += word.length;
        return v;
      }
    }
    return this.fail(c === undefined ? "unexpected end of input" : `unexpected character '${c}'`);
  }

  object(): JsonObject {
    const out: JsonObject = new Map();
    this.pos++;
    this.skipWs();
    if (this.src[this.pos] === "}") {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      if (this.src[this.pos] !== '"') this.fail("expected a field name");
      const key = this.string();
      if (out.has(key)) this.fail(`duplicate field '${key}'`);
      this.skipWs();
      if (this.src[this.pos] !== ":") this.fail("expected ':'");
      this.pos++;
      out.set(key, this.value());
      this.skipWs();
      const c = this.src[this.pos++];
      if (c === "}") return out;
      if (c !== ",") this.fail("expected ',' or '}'");
    }
  }

  array(): JsonValue[] {
    const out: JsonValue[] = [];
    this.pos++;
    this.skipWs();
    if (this.src[this.pos] === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.skipWs();
      const c = this.src[this.pos++];
      if (c === "]") return out;
      if (c !== ",") this.fail("expected ',' or ']'");
    }
  }

  string(): string {
    const s = this.src;
    let out = "";
    let i = this.pos + 1;
    for (;;) {
      const c = s[i];
      if (c === undefined) {
        this.pos = i;
        this.fail("unterminated string");
      }
      if (c === '"') break;
      if (c < " ") {
        this.pos = i;
        this.fail("control character in string");
      }
      if (c !== "\\") {
        out += c;
        i++;
        continue;
      }
      const e = s[i + 1];
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e !== undefined && simple[e] !== undefined) {
        out += simple[e];
        i += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        this.pos = i;
        this.fail("bad escape");
      }
    }
    this.pos = i + 1;
    return out;
  }

  number(): JsonNumber {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.src.slice(this.pos, this.pos + 4096));
    if (!m) this.fail("bad number");
    this.pos += m[0].length;
    return new JsonNumber(m[0]);
  }
}

/** Parse one JSON value; like Jackson's `nextToken` loop, bytes after the value are ignored. */
export function parseJsonPrefix(src: string): JsonValue {
  return new Reader(src).value();
}

/** Parse one complete JSON document (trailing whitespace only). */
export function parseJson(src: string): JsonValue {
  const r = new Reader(src);
  const v = r.value();
  r.skipWs();
  if (r.pos !== src.length) r.fail("trailing characters");
  return v;
}

/** Compact JSON; `JsonNumber` is written raw, `Map` as an object, plain objects in key order. */
export function stringify(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (v instanceof JsonNumber) return v.text;
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
      return Number.isFinite(v) ? String(v) : JSON.stringify(String(v));
    case "bigint":
      return v.toString();
    default:
      break;
  }
  if (Array.isArray(v)) return "[" + v.map(stringify).join(",") + "]";
  const entries = v instanceof Map ? [...(v as Map<string, unknown>).entries()] : Object.entries(v as object);
  return "{" + entries.filter(([, x]) => x !== undefined).map(([k, x]) => JSON.stringify(k) + ":" + stringify(x)).join(",") + "}";
}

/** Jackson's default pretty printer: 2-space indent, `"key" : value`, arrays `[ a, b ]` (objects only here). */
export function prettyJackson(v: unknown, indent = ""): string {
  if (v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof JsonNumber)) {
    const entries = Object.entries(v as object).filter(([, x]) => x !== undefined);
    if (entries.length === 0) return "{ }";
    const inner = indent + "  ";
    return "{\n" + entries.map(([k, x]) => `${inner}${JSON.stringify(k)} : ${prettyJackson(x, inner)}`).join(",\n") + `\n${indent}}`;
  }
  if (Array.isArray(v)) return v.length === 0 ? "[ ]" : "[ " + v.map((x) => prettyJackson(x, indent)).join(", ") + " ]";
  return stringify(v);
}

/** Convert a parsed value to plain JS (numbers become `number`; unsafe integers stay exact only in `stringify`). */
export function toPlain(v: JsonValue): unknown {
  if (v instanceof JsonNumber) return v.toNumber();
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [k, toPlain(x)]));
  return v;
}
