/** Result shapes and the decoding of `/_sql` responses into them. */
import { InterfaceError, ProgrammingError, errorFromResponse, excerpt } from "./errors.js";
import { decodeRows, numberField, parseBody, type DecodeOptions, type Numbers, type Parsed } from "./json.js";
import type { Answer } from "./request.js";
import type { ColType, Converter } from "./types.js";

/** The result of `query()`. */
export interface SqlResult<R = unknown[]> {
  /** Column names. */
  cols: string[];
  /** Column types (`col_types`), one per column. */
  colTypes: ColType[];
  /** Rows: arrays, or objects with `rowMode: "object"`. Empty for row-count statements. */
  rows: R[];
  /** Rows returned, or rows affected by DML (−1 when unknown). */
  rowcount: number;
  /** Server-side duration in ms. */
  duration: number;
}

/** One item of a bulk result. */
export interface BulkItem {
  /** Rows affected; −2 means this item failed. */
  rowcount: number;
  error?: { code?: number; message: string };
}

/** The result of `bulk()`, normalised across CrateDB versions. */
export interface BulkResult {
  cols: string[];
  duration: number;
  /** One item per row of bulk arguments, in input order. */
  results: BulkItem[];
  /** The sum of the item rowcounts that are ≥ 0, or −1 when there is none. */
  rowcount: number;
  /** The failed items (rowcount −2), in input order. */
  failed: Array<{ index: number; code?: number; message: string }>;
}

const decoder = /* @__PURE__ */ new TextDecoder();
const NO_MESSAGE = "bulk item failed without an error message";

/** A 2xx JSON body parsed, with how its numbers read (see json.ts). */
export interface JsonBody extends Parsed {
  body: Record<string, unknown>;
}

/**
 * Parses a 2xx JSON body, or throws the mapped error for any other status. A promise only when the
 * exact-number parser has to be loaded (see parseBody): the common answer costs no promise.
 */
export function readJson(answer: Answer, opts: DecodeOptions): JsonBody | Promise<JsonBody> {
  const text = decoder.decode(answer.body);
  if (answer.status < 200 || answer.status >= 300) throw errorFromResponse(answer.status, answer.statusText, answer.redact(text), answer.server);
  let parsed: Parsed | Promise<Parsed>;
  try {
    parsed = parseBody(text, opts);
  } catch (err) {
    throw notJson(answer, text, err);
  }
  // The exact parser's module could not be loaded (parseBody's InterfaceError): the body itself is JSON.
  if (parsed instanceof Promise) return parsed.then((p) => jsonBody(answer, p), (err: unknown) => Promise.reject(err instanceof InterfaceError ? err : notJson(answer, text, err)));
  return jsonBody(answer, parsed);
}

function notJson(answer: Answer, text: string, err: unknown): ProgrammingError {
  return new ProgrammingError(`Invalid server response (HTTP ${answer.status}, not JSON) from ${answer.server}: ${excerpt(answer.redact(text))}`,
    { status: answer.status, server: answer.server, cause: err });
}

function jsonBody(answer: Answer, parsed: Parsed): JsonBody {
  const body = parsed.value;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new ProgrammingError(`Invalid server response from ${answer.server}: expected a JSON object`, { status: answer.status, server: answer.server });
  }
  // Fields spelt out: a spread here cost more than the rest of a small answer's decoding (--cpu-prof).
  return { value: body, numbers: parsed.numbers, exact: parsed.exact, body: body as Record<string, unknown> };
}

function shapeError(answer: Answer, what: string): ProgrammingError {
  return new ProgrammingError(`Invalid server response from ${answer.server}: ${what}`, { status: answer.status, server: answer.server });
}

/** Builds a SqlResult from a `/_sql` answer: exact numbers, converter, row mode (a promise only as readJson's). */
export function toSqlResult<R>(answer: Answer, opts: DecodeOptions, converter: Converter | undefined,
  rowMode: "array" | "object"): SqlResult<R> | Promise<SqlResult<R>> {
  const json = readJson(answer, opts);
  return json instanceof Promise ? json.then((j) => sqlResult<R>(answer, j, opts, converter, rowMode)) : sqlResult<R>(answer, json, opts, converter, rowMode);
}

function sqlResult<R>(answer: Answer, parsed: JsonBody, opts: DecodeOptions, converter: Converter | undefined, rowMode: "array" | "object"): SqlResult<R> {
  const { body, numbers } = parsed;
  const cols = body.cols;
  const rawRows = body.rows;
  if (!Array.isArray(cols) || !Array.isArray(rawRows)) throw shapeError(answer, "no 'cols' or 'rows'");
  const colTypes = (Array.isArray(body.col_types) ? numbers.plain(body.col_types) : []) as ColType[];
  // Row-count statements answer `cols: [], rows: [[]]`.
  const rows = (cols.length === 0 ? [] : rawRows) as unknown[][];
  if (!allArrays(rows)) throw shapeError(answer, "a row is not an array");
  decodeRows(rows, cols as string[], colTypes, opts, parsed);
  if (converter !== undefined && converter.affects(colTypes)) convertRows(rows, colTypes, converter);
  const rowcount = numberField(body.rowcount, numbers) ?? rows.length;
  const duration = numberField(body.duration, numbers) ?? -1;
  const out = rowMode === "object" ? rows.map((row) => toObject(cols as string[], row)) : rows;
  return { cols: cols as string[], colTypes, rows: out as R[], rowcount, duration };
}

// The row loops live in functions of their own, which hold nothing but the loop. A loop of 100 000
// rows inside toSqlResult or toBulkResult, which run once per answer, got them compiled on the
// stack (OSR) with no type feedback yet for the code after the loop, which then deoptimised: with
// `--trace-deopt`, 7 deopts and 17 compilations in 13 large queries, 23 deopts in 100 bulks, each
// recompilation a few ms of CPU on this 2-core machine.

function allArrays(rows: readonly unknown[]): boolean {
  for (let i = 0; i < rows.length; i++) if (!Array.isArray(rows[i])) return false;
  return true;
}

function convertRows(rows: unknown[][], colTypes: readonly ColType[], converter: Converter): void {
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as unknown[];
    for (let c = 0; c < colTypes.length && c < row.length; c++) row[c] = converter.convert(colTypes[c] as ColType, row[c]);
  }
}

/** A row as an object keyed by column name (own properties only, even for `__proto__`). */
export function toObject(cols: readonly string[], row: readonly unknown[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (let i = 0; i < cols.length; i++) {
    const key = cols[i] as string;
    if (key === "__proto__") Object.defineProperty(o, key, { value: row[i], enumerable: true, writable: true, configurable: true });
    else o[key] = row[i];
  }
  return o;
}

let itemShape: unknown;

/** Builds a BulkResult, normalising the pre-5.10 `error_message` item form (a promise only as readJson's). */
export function toBulkResult(answer: Answer, opts: DecodeOptions): BulkResult | Promise<BulkResult> {
  const json = readJson(answer, opts);
  return json instanceof Promise ? json.then((j) => bulkResult(answer, j)) : bulkResult(answer, json);
}

function bulkResult(answer: Answer, { body, numbers }: JsonBody): BulkResult {
  const items = body.results;
  if (!Array.isArray(items)) throw shapeError(answer, "no 'results' in a bulk response");
  // Keeps the hidden class that JSON.parse gives a {"rowcount":n} item alive: when it died with the
  // previous answer's items (a full GC), the optimised bulkItems, which depends on it, was thrown away
  // and compiled again (`--trace-opt`: 7 compilations in 20 rounds of 5 bulks with a gc() between).
  itemShape ??= JSON.parse('{"rowcount":1}');
  const results: BulkItem[] = new Array(items.length);
  const failed: BulkResult["failed"] = [];
  const rowcount = bulkItems(items, numbers, results, failed);
  const cols = (Array.isArray(body.cols) ? body.cols : []) as string[];
  const duration = numberField(body.duration, numbers) ?? -1;
  return { cols, duration, results, rowcount, failed };
}

/**
 * The loop of toBulkResult (see allArrays for why apart): fills `results` and `failed`, returns the
 * sum of the item rowcounts that are ≥ 0, or −1 when there is none. It returns a number, not an
 * object literal: the literal after the loop, never run when the loop was compiled on the stack,
 * deoptimised it (`--trace-deopt`) on every answer that followed a recompilation.
 */
function bulkItems(items: readonly unknown[], numbers: Numbers, results: BulkItem[], failed: BulkResult["failed"]): number {
  let sum = 0;
  let any = false;
  for (let index = 0; index < items.length; index++) {
    const raw: unknown = items[index];
    // The common item, {"rowcount":1}: no copy, no checks beyond its count.
    const count = (raw as { rowcount?: unknown } | null)?.rowcount;
    if (typeof count === "number" && count >= 0 && (raw as { error?: unknown }).error === undefined && (raw as { error_message?: unknown }).error_message === undefined) {
      results[index] = { rowcount: count };
      sum += count;
      any = true;
      continue;
    }
    const item = (numbers.plain(raw) ?? {}) as { rowcount?: unknown; error?: unknown; error_message?: unknown };
    const rowcount = typeof item.rowcount === "number" ? item.rowcount : -1;
    const out: BulkItem = { rowcount };
    let message: string | undefined;
    let code: number | undefined;
    if (item.error !== null && typeof item.error === "object") {
      const e = item.error as { code?: unknown; message?: unknown };
      if (typeof e.message === "string" && e.message !== "") message = e.message;
      if (typeof e.code === "number") code = e.code;
    } else if (typeof item.error_message === "string" && item.error_message !== "") {
      message = item.error_message;
    }
    if (rowcount === -2 || message !== undefined) {
      out.error = { ...(code === undefined ? {} : { code }), message: message ?? NO_MESSAGE };
    }
    if (rowcount === -2) failed.push({ index, ...(code === undefined ? {} : { code }), message: message ?? NO_MESSAGE });
    if (rowcount >= 0) {
      sum += rowcount;
      any = true;
    }
    results[index] = out;
  }
  return any ? sum : -1;
}
