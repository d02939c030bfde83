/// <reference types="node" />
/** Output formats of the CLI: an aligned table, JSON (objects), CSV (RFC 4180). */

export type Format = "table" | "json" | "csv";

function text(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** An aligned table with a header rule, numbers right-aligned, and a row count line. */
export function table(cols: string[], rows: unknown[][]): string {
  const cells = rows.map((r) => r.map(text));
  const widths = cols.map((c, i) => Math.max(c.length, ...cells.map((r) => (r[i] ?? "").length)));
  const numeric = cols.map((_c, i) => rows.length > 0 && rows.every((r) => typeof r[i] === "number" || r[i] === null));
  const line = (r: string[], head = false): string =>
    r.map((v, i) => (numeric[i] && !head ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join(" | ").trimEnd();
  const out = [line(cols, true), widths.map((w) => "-".repeat(w)).join("-+-"), ...cells.map((r) => line(r))];
  out.push(`(${rows.length} row${rows.length === 1 ? "" : "s"})`);
  return out.join("\n");
}

/** Rows as a JSON array of objects keyed by column name. */
export function json(cols: string[], rows: unknown[][]): string {
  return JSON.stringify(rows.map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i] ?? null]))), null, 2);
}

function csvField(v: unknown): string {
  const s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A header line and one line per row, CRLF-terminated. */
export function csv(cols: string[], rows: unknown[][]): string {
  return [cols, ...rows].map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

export function render(format: Format, cols: string[], rows: unknown[][], rowcount: number): string {
  if (cols.length === 0) return format === "json" ? JSON.stringify({ rowcount }) : `OK, ${rowcount} row${rowcount === 1 ? "" : "s"} affected`;
  return format === "json" ? json(cols, rows) : format === "csv" ? csv(cols, rows) : table(cols, rows);
}
