/**
 * What Connection and Session share: where a statement goes (the pool, or a session's socket),
 * how it is encoded and marked for cancellation, and query/bulk/cursor/stream on top of that.
 */
import type { CancelScope, Kills } from "./cancel.js";
import { Cursor } from "./cursor.js";
import { InterfaceError } from "./errors.js";
import { hide } from "./inspect.js";
import { encodeBody } from "./json.js";
import type { RequestOptions, ResolvedOptions } from "./options.js";
import { checkBulkArgs, checkRequestOptions } from "./resolve.js";
import type { Answer, Requester, RequestSpec, SessionLink } from "./request.js";
import { toBulkResult, toSqlResult, type BulkResult, type SqlResult } from "./result.js";
import { createSql, type SqlTag } from "./sql.js";
import { endsInCode, isReadOnly } from "./statements.js";
import { lazy } from "./lazy.js";
import type { Runner } from "./runner.js";
import { RowStream, type StreamOptions } from "./stream.js";
import type { StreamHost } from "./stream-run.js";
import { activeChannel } from "./trace-gate.js";
import type { Converter } from "./types.js";

// Layers loaded on first use (chunks of their own): a plain query needs neither.
const cancelLayer = /* @__PURE__ */ lazy(() => import("./cancel.js"), "cancellation");
const traceLayer = /* @__PURE__ */ lazy(() => import("./trace.js"), "tracing");

// Constant objects: the request loop caches merged headers per headers object.
const JSON_HEADERS: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
const GZIP_JSON_HEADERS: Record<string, string> = { ...JSON_HEADERS, "content-encoding": "gzip" };
const encoder = /* @__PURE__ */ new TextEncoder();

async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function checkStatement(stmt: unknown): asserts stmt is string {
  if (typeof stmt !== "string" || stmt.trim() === "") throw new InterfaceError("The statement must be a non-empty string");
}

/** Runs SQL: the part of Connection that a Session shares. */
export abstract class Queryable implements Runner {
  /** @internal */
  readonly options: ResolvedOptions;
  /** @internal */
  protected readonly requester: Requester;
  /** @internal Where the connection's canceller is kept once a statement needs a kill. */
  protected readonly kills: Kills;

  /** @internal */
  protected constructor(options: ResolvedOptions, requester: Requester, kills: Kills) {
    this.options = options;
    this.requester = requester;
    this.kills = kills;
    hide(this, "options", "requester", "kills"); // the options hold the password, token and key
  }

  /** True after `close()` (and, for a session, once its connection is closed). */
  abstract get closed(): boolean;

  /** @internal Throws the ProgrammingError for a closed connection or session. */
  abstract ensureOpen(): void;

  /** @internal The session's socket, or none (the pool). */
  protected abstract get link(): SessionLink | undefined;

  /**
   * @internal Sends one SQL request; shared by query, bulk, Cursor and streams. Not async itself: one
   * promise and one tick less per query without compression or cancellation; callers await it, so
   * its synchronous errors still reach them as rejections.
   */
  runSql(stmt: string, payload: { args?: unknown[]; bulk_args?: unknown[][] }, opts: RequestOptions, since?: number): Promise<Answer> {
    this.ensureOpen();
    checkStatement(stmt);
    // A statement that ends inside a comment, string or quoted identifier is sent as it is: a marker
    // appended to it could change what it means (an unterminated /* would be closed by the marker's */).
    const cancellable = this.options.killOnAbort && (opts.signal !== undefined || (opts.timeout ?? this.options.timeout) !== undefined) &&
      endsInCode(stmt);
    if (!cancellable) {
      const body = encodeBody({ stmt, ...payload });
      const gz = this.gzipped(body);
      return gz === undefined ? this.requester.send(this.spec(stmt, body, JSON_HEADERS, opts, undefined))
        : gz.then((bytes) => this.requester.send(this.spec(stmt, bytes, GZIP_JSON_HEADERS, opts, undefined)));
    }
    // Marked for a kill (cancel.ts, loaded now if this is the first such statement).
    const encode = (marked: string): string | Promise<Uint8Array> => {
      const body = encodeBody({ stmt: marked, ...payload });
      return this.gzipped(body) ?? body;
    };
    const sender = (from: number | undefined) => (body: string | Uint8Array, scope: CancelScope): Promise<Answer> =>
      this.requester.send(this.spec(stmt, body, typeof body === "string" ? JSON_HEADERS : GZIP_JSON_HEADERS, opts, scope, from));
    const layer = cancelLayer.now;
    if (layer !== undefined) return layer.sendMarked(this.kills, stmt, encode, sender(since), opts.signal);
    // Loading the layer is part of the call: its deadline and signal hold, and count from now.
    const from = since ?? Date.now();
    return cancelLayer.within(opts.timeout ?? this.options.timeout, opts.signal)
      .then((c) => c.sendMarked(this.kills, stmt, encode, sender(from), opts.signal));
  }

  /** The body gzipped, when the `compress` threshold says so; else undefined. */
  private gzipped(body: string): Promise<Uint8Array> | undefined {
    const threshold = this.options.compress;
    if (threshold === false) return undefined;
    const bytes = encoder.encode(body);
    return bytes.byteLength >= threshold ? gzip(bytes) : undefined;
  }

  private spec(stmt: string, body: Uint8Array | string, headers: Record<string, string>, opts: RequestOptions, scope: CancelScope | undefined,
    since?: number): RequestSpec {
    const spec: RequestSpec = {
      method: "POST", path: this.options.errorTrace ? "/_sql?types=true&error_trace=true" : "/_sql?types=true",
      body, headers, retrySafe: isReadOnly(stmt), schema: true,
    };
    if (opts.signal !== undefined) spec.signal = opts.signal;
    if (opts.timeout !== undefined) spec.timeout = opts.timeout;
    if (since !== undefined) spec.since = since;
    const link = this.link;
    if (link !== undefined) spec.session = link;
    scope?.attach(spec);
    return spec;
  }

  /** True when neither `onQuery` nor a TracingChannel subscriber listens: a query then skips tracing altogether. */
  private untraced(): boolean {
    return this.options.onQuery === undefined && activeChannel() === null;
  }

  /**
   * @internal Sends a statement (`send`) and decodes its answer, reported to `onQuery` and the TracingChannel
   * when either listens (trace.ts, loaded then); query() and bulk() check first and skip this when none does.
   */
  async traced<T extends { rowcount: number; duration: number }>(stmt: string, argsCount: number, bulkSize: number | undefined,
    opts: RequestOptions, since: number | undefined, send: (since: number | undefined) => Promise<Answer>,
    decode: (answer: Answer) => T | Promise<T>): Promise<T> {
    const ch = activeChannel();
    if (this.options.onQuery === undefined && ch === null) return await decode(await send(since));
    let from = since;
    let layer = traceLayer.now;
    if (layer === undefined) {
      // Loading the layer is part of the call: its deadline and signal hold, and count from now.
      from ??= Date.now();
      layer = await traceLayer.within(opts.timeout ?? this.options.timeout, opts.signal);
    }
    return layer.traced(this.options, ch, stmt, argsCount, bulkSize, () => send(from), decode);
  }

  /**
   * Runs one statement with optional positional parameters (`?` or `$1`).
   *
   * @example
   * ```ts
   * const { rows, rowcount } = await conn.query<[string, number]>("SELECT name, price FROM t WHERE id = ?", [42]);
   * ```
   */
  async query<R = unknown[]>(stmt: string, args?: unknown[], opts?: RequestOptions): Promise<SqlResult<R>> {
    this.ensureOpen();
    const o = checkRequestOptions(opts);
    if (args !== undefined && !Array.isArray(args)) throw new InterfaceError("query() arguments must be an array (use a cursor for %(name)s parameters)");
    const payload = args === undefined ? {} : { args };
    // Untraced (no onQuery, no channel subscriber): no closures and no extra promise per query.
    if (this.untraced()) {
      return toSqlResult<R>(await this.runSql(stmt, payload, o), this.options, this.options.converter, o.rowMode ?? this.options.rowMode);
    }
    return this.traced(stmt, args?.length ?? 0, undefined, o, undefined, (since) => this.runSql(stmt, payload, o, since),
      (answer) => toSqlResult<R>(answer, this.options, this.options.converter, o.rowMode ?? this.options.rowMode));
  }

  /**
   * Runs one statement once per row of arguments, in a single request.
   * Failed rows do not reject: see `failed` and each item's `rowcount` (−2).
   *
   * @example
   * ```ts
   * const res = await conn.bulk("INSERT INTO t (id, name) VALUES (?, ?)", [[1, "a"], [2, "b"]]);
   * if (res.failed.length) console.warn(res.failed);
   * ```
   */
  async bulk(stmt: string, bulkArgs: unknown[][], opts?: RequestOptions): Promise<BulkResult> {
    this.ensureOpen();
    const o = checkRequestOptions(opts);
    checkBulkArgs(bulkArgs);
    if (this.untraced()) return toBulkResult(await this.runSql(stmt, { bulk_args: bulkArgs }, o), this.options);
    return this.traced(stmt, 0, bulkArgs.length, o, undefined, (since) => this.runSql(stmt, { bulk_args: bulkArgs }, o, since),
      (answer) => toBulkResult(answer, this.options));
  }

  private sqlTag: SqlTag | undefined;

  /**
   * The `sql` tagged template, bound to this connection or session: values become `$n` parameters.
   * See {@link SqlTag}.
   *
   * @example
   * ```ts
   * const { rows } = await conn.sql<[string]>`SELECT name FROM t WHERE id = ${id}`;
   * ```
   */
  get sql(): SqlTag {
    return (this.sqlTag ??= createSql(this));
  }

  /** A PEP 249 cursor. `converter` overrides the connection's for this cursor (`null`: none). */
  cursor(opts?: { converter?: Converter | null }): Cursor {
    this.ensureOpen();
    const converter = opts?.converter === undefined ? this.options.converter : opts.converter ?? undefined;
    return new Cursor(this, converter);
  }

  /**
   * Streams the rows of a query through a server-side cursor (`DECLARE … NO SCROLL CURSOR WITH HOLD`,
   * `FETCH batchSize`, `CLOSE`), so that results larger than memory can be read. A Connection runs
   * each stream on a session of its own; a Session runs it on itself. The cursor is closed when the
   * rows are exhausted and on `break`, a throw in the loop, an abort or `close()`.
   *
   * @example
   * ```ts
   * for await (const [id, payload] of conn.stream("SELECT id, payload FROM events WHERE day = ?", [day])) {
   *   handle(id, payload);
   * }
   * for await (const batch of conn.stream("SELECT * FROM events", [], { batchSize: 5000 }).batches()) {
   *   await sink.write(batch);
   * }
   * ```
   */
  stream<R = unknown[]>(stmt: string, args?: unknown[], opts?: StreamOptions): RowStream<R> {
    this.ensureOpen();
    return new RowStream<R>(this.streamHost(), stmt, args, opts, this.options.timeout);
  }

  /** @internal Where a stream runs: a new session (Connection) or the session itself. */
  protected abstract streamHost(): () => StreamHost;
}
