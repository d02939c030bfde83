/**
 * Cursor parameters: an array (`?`, `$1`) or an object for `%(name)s` placeholders, rewritten to `$N`.
 * Loaded (a chunk of its own) by a cursor's first execute; errors come from the kit (see kit.ts).
 */
import type { Kit } from "./kit.js";

const NAMED = /%\(([^)]+)\)s/g;

/** True when the statement uses `%(name)s` placeholders. */
export function hasNamedParams(stmt: string): boolean {
  NAMED.lastIndex = 0;
  return NAMED.test(stmt);
}

/**
 * Rewrites `%(name)s` placeholders to `$N` (one number per distinct name, in order of first use)
 * and returns the names in that order. Only referenced names are sent **(differs: Python also
 * sends unreferenced keys)**.
 */
export function rewriteNamed(stmt: string): { stmt: string; names: string[] } {
  const names: string[] = [];
  const out = stmt.replace(NAMED, (_m, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return `$${i + 1}`;
  });
  return { stmt: out, names };
}

/** Picks the values of `names` from a params object, or throws ProgrammingError naming a missing one. */
export function pickNamed(kit: Kit, names: readonly string[], params: Record<string, unknown>): unknown[] {
  return names.map((name) => {
    if (!Object.prototype.hasOwnProperty.call(params, name)) {
      throw new kit.ProgrammingError(`Named parameter '${name}' not found in the parameters dict`);
    }
    return params[name];
  });
}

/** Rewrites every `%(name)s` occurrence to `$1, $2, …` by position (for array rows). */
export function numberByOccurrence(stmt: string): string {
  let n = 0;
  return stmt.replace(NAMED, () => `$${++n}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Normalises `execute(stmt, params)` parameters: an array, or an object for `%(name)s` SQL. */
export function prepareParams(kit: Kit, stmt: string, params: unknown): { stmt: string; args: unknown[] | undefined } {
  if (params === undefined || params === null) return { stmt, args: undefined };
  if (Array.isArray(params)) return { stmt, args: params };
  if (isPlainObject(params)) {
    const { stmt: rewritten, names } = rewriteNamed(stmt);
    return { stmt: rewritten, args: pickNamed(kit, names, params) };
  }
  throw new kit.InterfaceError(`Parameters must be an array or an object (for %(name)s placeholders), got ${typeof params}`);
}

/** Normalises bulk parameters: arrays of values, or objects for `%(name)s` SQL. */
export function prepareBulk(kit: Kit, stmt: string, rows: unknown): { stmt: string; bulkArgs: unknown[][] } {
  if (!Array.isArray(rows)) throw new kit.InterfaceError("Bulk parameters must be an array of rows");
  const named = hasNamedParams(stmt);
  if (rows.length > 0 && isPlainObject(rows[0]) && named) {
    const { stmt: rewritten, names } = rewriteNamed(stmt);
    const bulkArgs = rows.map((row: unknown) => {
      if (!isPlainObject(row)) {
        throw new kit.ProgrammingError("All bulk parameter rows must be objects when SQL uses %(name)s placeholders; got a non-object row");
      }
      return pickNamed(kit, names, row);
    });
    return { stmt: rewritten, bulkArgs };
  }
  rows.forEach((row: unknown, i: number) => {
    if (!Array.isArray(row)) throw new kit.InterfaceError(`Bulk row ${i} must be an array of values`);
  });
  return { stmt: named ? numberByOccurrence(stmt) : stmt, bulkArgs: rows as unknown[][] };
}
