/**
 * The `sql` tagged template: values become `$1…$n` parameters (never text), fragments nest and are
 * renumbered, `sql.id()` quotes identifiers, `sql.unsafe()` inserts trusted text.
 * Modelled on postgres.js and neon: a tagged call returns a lazy query that runs when awaited.
 */
import { InterfaceError } from "./errors.js";
import type { RequestOptions } from "./options.js";
import type { SqlResult } from "./result.js";

/** Anything with `query()`: a `Connection`, a session, or your own wrapper. */
export interface SqlTarget {
  query<R = unknown[]>(stmt: string, args?: unknown[], opts?: RequestOptions): Promise<SqlResult<R>>;
}

/** A statement with `$n` placeholders and its arguments, as sent to `/_sql`. */
export interface SqlStatement {
  stmt: string;
  args: unknown[];
}

/**
 * A piece of SQL with its values, built by `sql\`…\``, `sql.id()`, `sql.unsafe()` or `sql.join()`.
 * Interpolated into another template it is inlined, its values renumbered. It never runs by itself.
 */
export class SqlFragment {
  /** @internal Text parts; `values[i]` goes between `parts[i]` and `parts[i + 1]`. */
  readonly parts: readonly string[];
  /** @internal */
  readonly values: readonly unknown[];

  /** @internal Use the `sql` tag. */
  constructor(parts: readonly string[], values: readonly unknown[]) {
    this.parts = parts;
    this.values = values;
  }

  /**
   * The statement text with `$1…$n` placeholders and the arguments, as they would be sent.
   *
   * @example
   * ```ts
   * sql`SELECT * FROM t WHERE id = ${7}`.toStatement(); // { stmt: "SELECT * FROM t WHERE id = $1", args: [7] }
   * ```
   */
  toStatement(): SqlStatement {
    const out: SqlStatement = { stmt: "", args: [] };
    append(this, out);
    return out;
  }
}

function append(f: SqlFragment, out: SqlStatement): void {
  out.stmt += f.parts[0] as string;
  for (let i = 0; i < f.values.length; i++) {
    const v = f.values[i];
    if (v instanceof SqlFragment) append(v, out);
    else out.stmt += `$${out.args.push(v)}`;
    out.stmt += f.parts[i + 1] as string;
  }
}

/**
 * A tagged query bound to a connection: a fragment that runs once, when first awaited (`then`).
 * It resolves to the `SqlResult` of `query()`.
 */
export class SqlQuery<R = unknown[]> extends SqlFragment implements Promise<SqlResult<R>> {
  private readonly target: SqlTarget;
  private readonly opts: RequestOptions | undefined;
  private running: Promise<SqlResult<R>> | undefined;

  /** @internal Use `conn.sql`. */
  constructor(parts: readonly string[], values: readonly unknown[], target: SqlTarget, opts: RequestOptions | undefined) {
    super(parts, values);
    this.target = target;
    this.opts = opts;
  }

  /** Runs the query (once; later calls share the first run). */
  execute(): Promise<SqlResult<R>> {
    if (this.running === undefined) {
      const { stmt, args } = this.toStatement();
      this.running = this.target.query<R>(stmt, args, this.opts);
    }
    return this.running;
  }

  then<A = SqlResult<R>, B = never>(
    onfulfilled?: ((value: SqlResult<R>) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.execute().then(onfulfilled, onrejected);
  }

  catch<B = never>(onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<SqlResult<R> | B> {
    return this.execute().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<SqlResult<R>> {
    return this.execute().finally(onfinally);
  }

  get [Symbol.toStringTag](): string {
    return "SqlQuery";
  }
}

/** The helpers every `sql` tag carries. */
export interface SqlHelpers {
  /**
   * A quoted identifier: each part in double quotes, inner `"` doubled, parts joined with `.`.
   * A dot inside one part is part of the name (`sql.id("a.b")` → `"a.b"`): give a qualified name as
   * separate parts (`sql.id("doc", "t")` → `"doc"."t"`).
   */
  id(...parts: string[]): SqlFragment;
  /** Trusted SQL text, inserted as is. Never pass user input. */
  unsafe(text: string): SqlFragment;
  /**
   * Joins fragments and values with a separator: values become parameters.
   *
   * @example
   * ```ts
   * conn.sql`SELECT * FROM t WHERE id IN (${conn.sql.join([1, 2, 3])})`;   // … IN ($1, $2, $3)
   * ```
   */
  join(items: readonly unknown[], separator?: string): SqlFragment;
}

/** The standalone tag: builds fragments that another tag (e.g. `conn.sql`) runs. */
export interface SqlFragmentTag extends SqlHelpers {
  (strings: TemplateStringsArray, ...values: unknown[]): SqlFragment;
}

/**
 * `conn.sql`: a tagged template that runs on its connection when awaited.
 *
 * @example
 * ```ts
 * const { rows } = await conn.sql<[number, string]>`SELECT id, name FROM t WHERE id = ${id}`;
 * const byName = conn.sql`AND name = ${name}`;
 * await conn.sql`SELECT * FROM ${conn.sql.id("my table")} WHERE id > ${0} ${byName}`;
 * await conn.sql.with({ signal: AbortSignal.timeout(1000) })`SELECT 1`;
 * ```
 */
export interface SqlTag extends SqlHelpers {
  <R = unknown[]>(strings: TemplateStringsArray, ...values: unknown[]): SqlQuery<R>;
  /** A tag whose queries are sent with these request options (`signal`, `timeout`, `rowMode`). */
  with(opts: RequestOptions): SqlTag;
}

function checkTemplate(strings: unknown): asserts strings is TemplateStringsArray {
  if (!Array.isArray(strings) || !Array.isArray((strings as { raw?: unknown }).raw)) {
    throw new InterfaceError("sql is a tagged template: write sql`SELECT … WHERE id = ${id}` (values become $1, $2, …), " +
      "not sql(\"…\"). For a statement in a string use query(stmt, args); for trusted text, sql.unsafe(text)");
  }
}

function quoteIdent(name: unknown): string {
  if (typeof name !== "string" || name === "") throw new InterfaceError("sql.id() takes non-empty strings");
  return `"${name.replace(/"/g, '""')}"`;
}

const helpers: SqlHelpers = {
  id: (...parts) => {
    if (parts.length === 0) throw new InterfaceError("sql.id() needs a name");
    return new SqlFragment([parts.map(quoteIdent).join(".")], []);
  },
  unsafe: (text) => {
    if (typeof text !== "string") throw new InterfaceError("sql.unsafe() takes a string");
    return new SqlFragment([text], []);
  },
  join: (items, separator = ", ") => {
    if (!Array.isArray(items)) throw new InterfaceError("sql.join() takes an array");
    const parts = items.length === 0 ? [""] : ["", ...items.slice(1).map(() => separator), ""];
    return new SqlFragment(parts, items);
  },
};

/** Builds `conn.sql` for anything with `query()`. */
export function createSql(target: SqlTarget, opts?: RequestOptions): SqlTag {
  const tag = <R = unknown[]>(strings: TemplateStringsArray, ...values: unknown[]): SqlQuery<R> => {
    checkTemplate(strings);
    return new SqlQuery<R>(strings, values, target, opts);
  };
  return Object.assign(tag, helpers, { with: (o: RequestOptions): SqlTag => createSql(target, { ...opts, ...o }) });
}

/**
 * The standalone fragment builder: `sql\`…\`` builds a fragment to interpolate into `conn.sql`;
 * it does not run by itself.
 *
 * @example
 * ```ts
 * import { sql } from "cratedb-fetch";
 * const recent = sql`ts > ${since}`;
 * await conn.sql`SELECT * FROM ${sql.id("doc", "events")} WHERE ${recent}`;
 * ```
 */
export const sql: SqlFragmentTag = /* @__PURE__ */ Object.assign((strings: TemplateStringsArray, ...values: unknown[]): SqlFragment => {
  checkTemplate(strings);
  return new SqlFragment(strings, values);
}, helpers);
