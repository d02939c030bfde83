/** Parameter encoding (bigint, Date) and response decoding (exact int64 / numeric). */
import { DataError, InterfaceError } from "./errors.js";
import type { Numbers, Parsed } from "./json-exact.js";
import type { ColType } from "./types.js";

export type { Numbers, Parsed };

const BIGINT_TAG = `\u0000cratedb-fetch-bigint-${/* @__PURE__ */ Math.random().toString(36).slice(2)}:`;
const BIGINT_RE = /* @__PURE__ */ new RegExp(`"${/* @__PURE__ */ BIGINT_TAG.replace(/\u0000/g, "\\\\u0000")}(-?\\d+)"`, "g");

function describe(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "object") return (v as object).constructor?.name ?? "object";
  return typeof v;
}

/**
 * Encodes a request body as compact JSON. `bigint` → exact integer digits, `Date` → epoch ms,
 * NaN/±Infinity → null. Values JSON cannot carry faithfully throw `InterfaceError` (before any I/O).
 */
export function encodeBody(payload: { stmt: string; args?: unknown[]; bulk_args?: unknown[][] }): string {
  // Most parameters are plain JSON: then JSON.stringify without a replacer (a call per value) is
  // several times faster, e.g. for a 10 000-row bulk.
  if (payload.bulk_args !== undefined ? plainRows(payload.bulk_args) : isPlain(payload.args, 0)) return JSON.stringify(payload);
  let sawBigint = false;
  let json: string;
  try {
    json = JSON.stringify(payload, function (this: Record<string, unknown>, key: string, value: unknown) {
      const raw = this[key];
      if (raw instanceof Date) {
        const ms = raw.getTime();
        if (Number.isNaN(ms)) throw new InterfaceError(`Invalid Date in parameter '${key}'`);
        return ms;
      }
      switch (typeof value) {
        case "bigint":
          sawBigint = true;
          return BIGINT_TAG + value.toString();
        case "number":
          // JSON.stringify(2 ** 60) gives "1152921504606847000", the shortest text that parses back
          // to the same double, but as a BIGINT that is a different integer: send the exact digits.
          if (Number.isInteger(value) && !Number.isSafeInteger(value) && Math.abs(value) < 1e21) {
            sawBigint = true;
            return BIGINT_TAG + BigInt(value).toString();
          }
          return value;
        case "function":
        case "symbol":
          throw new InterfaceError(`Cannot send a ${typeof value} as a parameter ('${key}')`);
        case "object":
          if (value === null || Array.isArray(value)) return value;
          // A boxed Number is unboxed by JSON.stringify only after the replacer: check its value here.
          if (value instanceof Number) {
            const n = value.valueOf();
            if (Number.isInteger(n) && !Number.isSafeInteger(n) && Math.abs(n) < 1e21) {
              sawBigint = true;
              return BIGINT_TAG + BigInt(n).toString();
            }
            return n;
          }
          if (value instanceof Map || value instanceof Set || value instanceof WeakMap || value instanceof WeakSet ||
            ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof Promise || value instanceof RegExp) {
            throw new InterfaceError(`Cannot send a ${describe(value)} as a parameter ('${key}'): convert it to an array, object, string or number first`);
          }
          return value;
        default:
          return value;
      }
    });
  } catch (err) {
    if (err instanceof InterfaceError) throw err;
    throw new InterfaceError(`Cannot encode parameters as JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return sawBigint ? json.replace(BIGINT_RE, "$1") : json;
}

const MAX = Number.MAX_SAFE_INTEGER;

/**
 * `isPlain` for bulk arguments, with the common cells (strings, booleans, null, safe numbers) checked
 * inline. A number within ±(2^53−1) is a safe integer or not an integer at all, so one range test
 * replaces isSafeInteger/isInteger (NaN and ±Infinity fail it and go to isPlain, which accepts them);
 * `typeof v === "…"` tests written out let the optimiser check the type without making a string.
 */
function plainRows(rows: unknown[][]): boolean {
  if (!Array.isArray(rows)) return isPlain(rows, 0);
  const n = rows.length;
  for (let r = 0; r < n; r++) {
    const row = rows[r];
    if (!Array.isArray(row)) {
      if (!isPlain(row, 1)) return false;
      continue;
    }
    const m = row.length;
    for (let i = 0; i < m; i++) {
      const v: unknown = row[i];
      if (typeof v === "string") continue;
      if (typeof v === "number") {
        if (v <= MAX && v >= -MAX) continue;
      } else if (typeof v === "boolean" || v === null) {
        continue;
      }
      if (!isPlain(v, 2)) return false;
    }
  }
  return true;
}

/** True when JSON.stringify alone encodes `v` exactly as the replacer path would (and no error is due). */
function isPlain(v: unknown, depth: number): boolean {
  switch (typeof v) {
    case "string":
    case "boolean":
    case "undefined":
      return true;
    case "number":
      return !Number.isInteger(v) || Number.isSafeInteger(v) || Math.abs(v) >= 1e21;
    case "object": {
      if (v === null) return true;
      if (depth > 32) return false;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) if (!isPlain(v[i], depth + 1)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in v) if (!isPlain((v as Record<string, unknown>)[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}

/** How numbers are decoded. */
export interface DecodeOptions {
  int64: "number" | "bigint" | "string";
  numeric: "number" | "string";
}

/** JSON.parse's numbers: exact already for every value a caller will see. */
export const PLAIN: Numbers = { text: (v) => (typeof v === "number" ? String(v) : undefined), plain: (v) => v };

/**
 * Parses a response body. JSON.parse first (fast, and exact for every value that is not a BIGINT
 * beyond ±(2^53−1)); only when a BIGINT column holds such a value, or `numeric: "string"` needs the
 * source text of every number, the exact parser is loaded (a module of its own, so that apps that
 * never see such a value do not ship it) and recovers the literals. A promise only in that case.
 */
export function parseBody(text: string, opts: DecodeOptions): Parsed | Promise<Parsed> {
  const value: unknown = JSON.parse(text);
  const keepAll = opts.numeric === "string";
  if (!keepAll && !hasUnsafeBigint(value)) return { value, numbers: PLAIN, exact: false };
  // After the answer arrived: its deadline and signal no longer apply (the statement has run), but a load
  // that fails (a chunk the browser could not fetch) is a typed error that says so.
  return import("./json-exact.js").then((m) => m.exactBody(text, value, keepAll), (err: unknown) => {
    throw new InterfaceError(`Could not load cratedb-fetch's exact number module (${String(err)}): the statement ran, its answer was not decoded`, { cause: err });
  });
}

function unsafe(v: unknown): boolean {
  if (typeof v === "number") return !(v <= MAX && v >= -MAX);
  if (Array.isArray(v)) return v.some(unsafe);
  return false;
}

/** True when a BIGINT column (or an array of them) of a result holds a value JSON.parse rounded. */
function hasUnsafeBigint(body: unknown): boolean {
  if (body === null || typeof body !== "object") return false;
  const { rows, col_types: types } = body as { rows?: unknown; col_types?: unknown };
  if (!Array.isArray(rows) || !Array.isArray(types)) return false;
  const cols: number[] = [];
  for (let i = 0; i < types.length; i++) if (innermost(types[i] as ColType) === 10) cols.push(i);
  return cols.length !== 0 && unsafeInColumns(rows, cols);
}

/**
 * The scan of hasUnsafeBigint, apart from its property reads: the body's hidden class is new after
 * every GC that collected the previous body, so optimised code that read `body.rows` deoptimised on
 * the next large result (`--trace-deopt`: 6 of 13 queries); this loop sees only arrays and numbers.
 * A plain indexed loop with the number test inline: for-of, callbacks and calls cost several times more.
 */
function unsafeInColumns(rows: readonly unknown[], cols: readonly number[]): boolean {
  const n = rows.length;
  const k = cols.length;
  for (let r = 0; r < n; r++) {
    const row: unknown = rows[r];
    if (!Array.isArray(row)) continue;
    for (let j = 0; j < k; j++) {
      const v: unknown = row[cols[j] as number];
      if (typeof v === "number") {
        if (!(v <= MAX && v >= -MAX)) return true;
      } else if (v !== null && unsafe(v)) {
        return true;
      }
    }
  }
  return false;
}

/** A top-level number field (rowcount, duration), whatever path parsed it. */
export function numberField(v: unknown, numbers: Numbers): number | undefined {
  if (typeof v === "number") return v;
  const text = numbers.text(v);
  return text === undefined ? undefined : Number(text);
}

function decodeValue(v: unknown, type: ColType | undefined, opts: DecodeOptions, column: string, numbers: Numbers): unknown {
  if (v === null) return v;
  const plain = numbers.plain;
  if (Array.isArray(type)) {
    if (!Array.isArray(v)) return plain(v);
    const inner = type[1];
    for (let i = 0; i < v.length; i++) v[i] = decodeValue(v[i], inner, opts, column, numbers);
    return v;
  }
  if (type === 10) {
    if (typeof v === "number" && !Number.isSafeInteger(v)) {
      throw new DataError(`BIGINT column '${column}' holds ${v}, which is not an integer that can be represented exactly`);
    }
    const text = numbers.text(v);
    if (text === undefined) return plain(v);
    if (!/^-?\d+$/.test(text)) {
      throw new DataError(`BIGINT column '${column}' holds ${text}, which is not an integer`);
    }
    if (opts.int64 === "string") return text;
    if (opts.int64 === "bigint") return BigInt(text);
    if (typeof v === "number" && Number.isSafeInteger(v)) return v;
    throw new DataError(`BIGINT value ${text} in column '${column}' is outside ±(2^53−1) and cannot be a JavaScript number without rounding: use the option int64: "bigint" or "string"`);
  }
  if (type === 22 && opts.numeric === "string") {
    const text = numbers.text(v);
    return text === undefined ? plain(v) : text;
  }
  return plain(v);
}

/**
 * Applies int64/numeric decoding to rows in place, by column type. In `int64: "number"` mode a
 * BIGINT outside ±(2^53−1) throws DataError naming the column (never silently rounded).
 */
export function decodeRows(rows: unknown[][], cols: readonly string[], types: readonly ColType[], opts: DecodeOptions, parsed: Parsed): void {
  const { exact, numbers } = parsed;
  // parseBody only skips the exact path after checking every BIGINT is safe: nothing left to do.
  if (!exact && opts.int64 === "number" && opts.numeric === "number") return;
  const needs: number[] = [];
  for (let c = 0; c < types.length; c++) {
    const t = types[c];
    const base = Array.isArray(t) ? innermost(t) : t;
    if (base === 10 || (base === 22 && opts.numeric === "string") || exact) needs.push(c);
  }
  if (needs.length === 0) return;
  for (const row of rows) {
    for (const c of needs) {
      const v = row[c];
      if (v === null || v === undefined) continue;
      if (!exact && typeof v === "number" && opts.int64 === "number" && (v <= MAX && v >= -MAX)) continue;
      row[c] = decodeValue(v, types[c], opts, cols[c] ?? String(c), numbers);
    }
  }
  if (exact && types.length < (rows[0]?.length ?? 0)) {
    for (const row of rows) for (let c = types.length; c < row.length; c++) row[c] = numbers.plain(row[c]);
  }
}

function innermost(t: ColType): number {
  let cur: ColType = t;
  while (Array.isArray(cur)) cur = cur[1];
  return cur;
}
