// Benchmark data: the statements the bench server knows and their pre-serialised CrateDB answers.
// Shared by server.mjs (network scenarios) and decode.mjs (in-process decoding), so both see the
// same bytes. Deterministic (seeded PRNG); compact JSON in CrateDB's field order (protocol §1.5).
import { seededRandom } from "./common.mjs";

export const STMT = {
  point: "SELECT 1",
  small: "SELECT id, name, price, in_stock, updated FROM bench.small",
  large: "SELECT id, name, score, active, created, counter FROM bench.large",
  unsafe: "SELECT id, name, score, active, created, counter FROM bench.large_unsafe",
  bulk: "INSERT INTO bench.items (id, name, value, flag) VALUES (?, ?, ?, ?)",
  // The stream scenario: STREAM_ROWS rows like bench.large's (served whole, or through a cursor).
  stream: "SELECT id, name, score, active, created, counter FROM bench.stream",
};

export const LARGE_ROWS = 100_000;
export const STREAM_ROWS = 500_000;
export const TWO_53 = 2n ** 53n;


const WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliett",
  "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango", "Zürich", "東京",
  "São Paulo", "naïve café", "quote \"q\"", "tab\tsep", "back\\slash"];

/** Java-ish double text of at most `digits` significant digits (short enough for JSON.parse to be exact). */
function shortDouble(r, scale) {
  return String(Math.round(r * scale * 1000) / 1000);
}

/**
 * The body of a `SELECT` over the 100 000 × 6 table.
 * kind "safe":   counter BIGINT values ≤ 15 digits, doubles ≤ 15 characters (JSON.parse is exact);
 * kind "unsafe": every counter a BIGINT > 2^53 (type 10);
 * kind "fullDouble": like safe, but scores printed with 17 significant digits as Java's
 *                    Double.toString does for computed values (e.g. 0.30000000000000004).
 */
export function largeBody(kind, { types = true, rows = LARGE_ROWS, duration = 187.43219 } = {}) {
  const parts = largeRows(kind, rows);
  const head = `{"cols":["id","name","score","active","created","counter"],${types ? '"col_types":[9,4,6,3,11,10],' : ""}"rows":[`;
  return `${head}${parts.join(",")}],"rowcount":${rows},"duration":${duration}}`;
}

/** The column names and types of largeBody's table (and of the stream scenario's). */
export const LARGE_COLS = '"cols":["id","name","score","active","created","counter"]';
export const LARGE_TYPES = '"col_types":[9,4,6,3,11,10]';

/** largeBody's rows as JSON texts, one per row (the stream scenario's cursor serves slices of them). */
export function largeRows(kind, rows = LARGE_ROWS) {
  const rnd = seededRandom(kind === "unsafe" ? 7 : 42);
  const parts = new Array(rows);
  for (let i = 0; i < rows; i++) {
    const id = i + 1;
    const name = i % 97 === 0 ? "null" : JSON.stringify(`${WORDS[i % WORDS.length]}-${id} ${WORDS[(i * 7) % WORDS.length]} lorem`);
    const r = rnd();
    let score;
    if (i % 113 === 0) score = "null";
    else if (kind === "fullDouble") score = String(r * 1000 + 0.1 + 0.2); // 16–18 significant digits
    else score = shortDouble(r, 100_000);
    const active = (i & 3) === 0 ? "false" : "true";
    const created = String(1_700_000_000_000 + i * 1_013);
    let counter;
    if (kind === "unsafe") counter = String(TWO_53 + 1n + BigInt(i) * 7919n); // all > 2^53, many odd → not representable
    else counter = String(Math.floor(r * 900_000_000_000) + 100_000); // ≤ 12 digits
    parts[i] = `[${id},${name},${score},${active},${created},${counter}]`;
  }
  return parts;
}

/** The 10 × 5 result. */
export function smallBody({ types = true } = {}) {
  const rnd = seededRandom(5);
  const rows = [];
  for (let i = 0; i < 10; i++) {
    rows.push([i + 1, `product ${WORDS[i]}`, Math.round(rnd() * 100_000) / 100, i % 3 !== 0, 1_700_000_000_000 + i * 86_400_000]);
  }
  return `{"cols":["id","name","price","in_stock","updated"],${types ? '"col_types":[9,4,6,3,11],' : ""}"rows":${JSON.stringify(rows)},"rowcount":10,"duration":1.284913}`;
}

/** `SELECT 1`. */
export function pointBody({ types = true } = {}) {
  return `{"cols":["1"],${types ? '"col_types":[9],' : ""}"rows":[[1]],"rowcount":1,"duration":0.213472}`;
}

/** A bulk answer with one `{"rowcount":1}` per item (protocol §1.5: cols, duration, results). */
export function bulkBody(n) {
  return `{"cols":[],"duration":${(n / 1000).toFixed(3)}46,"results":[${n === 0 ? "" : '{"rowcount":1}' + ',{"rowcount":1}'.repeat(n - 1)}]}`;
}

/** The 10 000 × 4 bulk arguments. */
export function bulkArgs(n = 10_000) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = [i + 1, `item ${i + 1} ${WORDS[i % WORDS.length]}`, (i % 1000) / 8, (i & 1) === 0];
  return out;
}
