/**
 * Output formats of the CLI: an aligned table (or psql's expanded records), JSON objects, CSV (RFC 4180).
 * Values are shown by their CrateDB column type, so the same value prints the same way whatever `int64` decoding gave.
 */

export type Format = "table" | "json" | "csv";
export type ColType = number | [100, ColType] | readonly unknown[];

/** Type ids: TIMESTAMP WITH TIME ZONE, TIMESTAMP WITHOUT TIME ZONE, DATE. */
const TIMESTAMPS = new Set([11, 15]);
const DATE = 24;
/** BYTE ("char"), DOUBLE, REAL, SMALLINT, INTEGER, BIGINT, NUMERIC: right-aligned whatever JS type they decoded to. */
const NUMERIC = new Set([2, 6, 7, 8, 9, 10, 22]);

/** Epoch milliseconds as ISO 8601 in UTC; a DATE as its calendar day. Anything else is left alone. */
function timeValue(v: unknown, type: number): unknown {
  const ms = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v) ? Number(v) : undefined;
  if (ms === undefined || !Number.isFinite(ms)) return v;
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return v;
  const iso = d.toISOString();
  return type === DATE ? iso.slice(0, iso.indexOf("T")) : iso;
}

/** A value with timestamps and dates (also inside arrays of them) turned into ISO text. */
export function display(v: unknown, type: ColType | undefined): unknown {
  if (v === null || v === undefined || type === undefined) return v;
  if (Array.isArray(type)) return Array.isArray(v) ? v.map((x) => display(x, type[1] as ColType)) : v;
  return TIMESTAMPS.has(type as number) || type === DATE ? timeValue(v, type as number) : v;
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));

/** Plain text of a value: NULL, JSON for objects and arrays, the string itself otherwise. */
function plain(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "object") return json(v);
  return String(v);
}

// C0 and C1 control characters and DEL: a newline would break the table's rows, an escape sequence could
// drive the user's terminal.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** One table cell: control characters escaped (`\n`, `\r`, `\t`, `\xNN`) so every row stays on one line. */
export function cell(v: unknown): string {
  return plain(v).replace(CONTROL, (c) => NAMED[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

function isNumeric(type: ColType | undefined, rows: unknown[][], i: number): boolean {
  if (typeof type === "number" && type !== 0) return NUMERIC.has(type);
  // No type from the server: decide by the values.
  return rows.length > 0 && rows.every((r) => typeof r[i] === "number" || typeof r[i] === "bigint" || r[i] === null);
}

const rowCount = (n: number): string => `(${n} row${n === 1 ? "" : "s"})`;

/** Every row's cells as display text. */
function cellsOf(rows: unknown[][], types: ColType[]): string[][] {
  return rows.map((r) => r.map((v, i) => cell(display(v, types[i]))));
}

/** An aligned table with a header rule, numbers right-aligned, and a row count line. */
export function table(cols: string[], rows: unknown[][], types: ColType[] = []): string {
  const heads = cols.map((c) => cell(c));
  const cells = cellsOf(rows, types);
  // Loops, not Math.max(...spread): a result can have more rows than a call can take arguments.
  const widths = heads.map((c) => c.length);
  for (const r of cells) r.forEach((v, i) => (widths[i] = Math.max(widths[i] ?? 0, v.length)));
  const numeric = cols.map((_c, i) => isNumeric(types[i], rows, i));
  const line = (r: string[], head = false): string =>
    r.map((v, i) => (numeric[i] && !head ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join(" | ").trimEnd();
  return [line(heads, true), widths.map((w) => "-".repeat(w)).join("-+-"), ...cells.map((r) => line(r)), rowCount(rows.length)].join("\n");
}

/** psql's expanded display: one block per row, a `name | value` line per column. */
export function expanded(cols: string[], rows: unknown[][], types: ColType[] = []): string {
  const heads = cols.map((c) => cell(c));
  const width = Math.max(0, ...heads.map((h) => h.length));
  const cells = cellsOf(rows, types);
  // psql draws each record's rule as wide as its widest line.
  let widest = 0;
  for (const r of cells) for (const v of r) widest = Math.max(widest, v.length);
  const total = width + 3 + widest;
  const out: string[] = [];
  cells.forEach((r, n) => {
    const head = `-[ RECORD ${n + 1} ]`;
    out.push(head + "-".repeat(Math.max(1, total - head.length)));
    heads.forEach((h, i) => out.push(`${h.padEnd(width)} | ${r[i] ?? ""}`.trimEnd()));
  });
  out.push(rowCount(rows.length));
  return out.join("\n");
}

/** Rows as a JSON array of objects keyed by column name; values as CrateDB sent them. */
export function jsonRows(cols: string[], rows: unknown[][]): string {
  return JSON.stringify(rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i] ?? null]))),
    (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x), 2);
}

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? "" : typeof v === "object" ? json(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180: a header record and one record per row, each ended by CRLF (no blank line after the last). */
export function csv(cols: string[], rows: unknown[][], types: ColType[] = []): string {
  return [cols, ...rows.map((r) => r.map((v, i) => display(v, types[i])))].map((r) => `${r.map(csvField).join(",")}\r\n`).join("");
}

/** How the table format lays rows out: `auto` switches to expanded when the table is wider than the terminal. */
export type Expanded = "off" | "on" | "auto";

export interface RenderOptions {
  format: Format;
  expanded?: Expanded;
  /** Terminal width for `expanded: "auto"`; undefined when not a terminal. */
  columns?: number | undefined;
}

/** A result as text; every format but CSV without a final newline (CSV records carry their own CRLF). */
export function render(o: RenderOptions, cols: string[], rows: unknown[][], rowcount: number, types: ColType[] = []): string {
  if (cols.length === 0) return o.format === "json" ? JSON.stringify({ rowcount }) : `OK, ${rowcount} row${rowcount === 1 ? "" : "s"} affected`;
  if (o.format === "json") return jsonRows(cols, rows);
  if (o.format === "csv") return csv(cols, rows, types);
  if (o.expanded === "on") return expanded(cols, rows, types);
  const t = table(cols, rows, types);
  const columns = o.columns ?? 0;
  const wide = columns > 0 && t.split("\n").some((l) => l.length > columns);
  return o.expanded === "auto" && rows.length > 0 && wide ? expanded(cols, rows, types) : t;
}

/** A duration for people: 0.96 ms, 12.3 ms, 245 ms, 1.23 s. */
export function ms(x: number): string {
  if (!Number.isFinite(x)) return `${x} ms`;
  if (x >= 1000) return `${(x / 1000).toFixed(2)} s`;
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)} ms`;
}
