/**
 * SQL cursors of the fake (CrateDB 5.1+): `DECLARE`, `FETCH`, `CLOSE`, one set per session (= per socket).
 *
 * A cursor holds a `RowSource` and pulls rows from it per FETCH, so a cursor over `generate_series(1, 1000000)`
 * never materialises its rows. Counted cluster-wide in a `CursorRegistry` (the control API's `cursors()`).
 */
import type { JsonValue } from "./json.js";
import type { ColType } from "./sql-expr.js";
import { errors, SqlError } from "./sql-lexer.js";
import type { RowSource } from "./sql-select.js";

export interface CursorStats {
  /** Declared and not yet closed (by CLOSE, COMMIT for non-hold cursors, or the end of the session). */
  open: number;
  declared: number;
  /** Closed by any of the above. */
  closed: number;
}

/** Cluster-wide cursor counters. */
export class CursorRegistry {
  declared = 0;
  closed = 0;
  stats(): CursorStats {
    return { open: this.declared - this.closed, declared: this.declared, closed: this.closed };
  }
}

interface OpenCursor {
  source: RowSource;
  hold: boolean;
  exhausted: boolean;
}

export type FetchResult = { kind: "rows"; cols: string[]; colTypes: ColType[]; rows: JsonValue[][] };

/** The cursors of one session. */
export class SessionCursors {
  private readonly open = new Map<string, OpenCursor>();

  constructor(private readonly registry: CursorRegistry) {}

  get size(): number {
    return this.open.size;
  }

  declare(name: string, source: RowSource, hold: boolean): void {
    if (this.open.has(name)) throw errors.parse(`Cursor \`${name}\` already exists`);
    this.open.set(name, { source, hold, exhausted: false });
    this.registry.declared++;
  }

  /** Up to `count` rows (all with "all"); `rows: []` once the cursor is exhausted. */
  fetch(name: string, count: number | "all"): FetchResult {
    const c = this.get(name);
    const rows: JsonValue[][] = [];
    const max = count === "all" ? Infinity : count;
    while (!c.exhausted && rows.length < max) {
      const next = c.source.rows.next();
      if (next.done) c.exhausted = true;
      else rows.push(next.value);
    }
    return { kind: "rows", cols: c.source.cols, colTypes: c.source.colTypes, rows };
  }

  /** `CLOSE name`, or `CLOSE ALL` with `name` undefined. */
  close(name: string | undefined): void {
    if (name === undefined) {
      this.closeWhere(() => true);
      return;
    }
    this.get(name);
    this.drop(name);
  }

  /** The session ends (socket closed, user changed). */
  closeAll(): void {
    this.closeWhere(() => true);
  }

  /** COMMIT/END closes the cursors declared WITHOUT HOLD. */
  commit(): void {
    this.closeWhere((c) => !c.hold);
  }

  private closeWhere(pred: (c: OpenCursor) => boolean): void {
    for (const [name, c] of [...this.open]) if (pred(c)) this.drop(name);
  }

  private drop(name: string): void {
    const c = this.open.get(name);
    if (!c) return;
    this.open.delete(name);
    this.registry.closed++;
    c.source.rows.return?.();
  }

  private get(name: string): OpenCursor {
    const c = this.open.get(name);
    if (!c) throw errors.parse(`No cursor named \`${name}\` available`);
    return c;
  }
}

export const declareOutsideTransaction = (): SqlError =>
  errors.unsupported("DECLARE CURSOR can only be used in transaction blocks");
