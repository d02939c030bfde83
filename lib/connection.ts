/** Connection: query, bulk, cursor, serverInfo, close. */
import { BlobContainer } from "./blob.js";
import { InterfaceError, ProgrammingError } from "./errors.js";
import { encodeBody } from "./json.js";
import type { RequestOptions, ResolvedOptions } from "./options.js";
import { checkTimeout } from "./resolve.js";
import { Requester, type Answer, type RequestSpec } from "./request.js";
import { readJson, toBulkResult, toSqlResult, type BulkResult, type SqlResult } from "./result.js";
import { parseServer, type ServerEntry } from "./servers.js";
import { isReadOnly } from "./statements.js";
import type { Transport } from "./transport.js";
import { Cursor } from "./cursor.js";
import type { Converter } from "./types.js";
import { createSql, type SqlTag } from "./sql.js";
import { traced } from "./trace.js";

/** What `GET /` tells about a node. */
export interface ServerInfo {
  /** The server asked, `scheme://host:port[/prefix]`. */
  server: string;
  /** The node name. */
  name: string;
  clusterName: string;
  /** The CrateDB version number, e.g. "6.4.3". */
  version: string;
}

// Constant objects: the request loop caches merged headers per headers object.
const JSON_HEADERS: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
const GZIP_JSON_HEADERS: Record<string, string> = { ...JSON_HEADERS, "content-encoding": "gzip" };
const ROOT_HEADERS: Record<string, string> = { accept: "application/json" };
const encoder = new TextEncoder();

async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as BlobPart]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function checkRequestOptions(opts: RequestOptions | undefined): RequestOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== "object") throw new InterfaceError("Request options must be an object");
  checkTimeout(opts.timeout, "Request option");
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw new InterfaceError("Request option 'signal' must be an AbortSignal");
  if (opts.rowMode !== undefined && opts.rowMode !== "array" && opts.rowMode !== "object") {
    throw new InterfaceError(`Request option 'rowMode' must be "array" or "object"`);
  }
  return opts;
}

function checkStatement(stmt: unknown): asserts stmt is string {
  if (typeof stmt !== "string" || stmt.trim() === "") throw new InterfaceError("The statement must be a non-empty string");
}

/**
 * A connection to a CrateDB cluster: a pool of servers used round robin with failover.
 * Created by `connect()`, which does no I/O. Rows are decoded per the connection's options.
 *
 * @example
 * ```ts
 * const conn = connect("http://localhost:4200", { schema: "doc" });
 * const { rows } = await conn.query("SELECT name FROM sys.cluster");
 * await conn.close();
 * ```
 */
export class Connection {
  /** @internal */
  readonly options: ResolvedOptions;
  private readonly requester: Requester;
  private readonly transport: Transport;
  private isClosed = false;

  /** @internal Use `connect()`. */
  constructor(options: ResolvedOptions, transport: Transport) {
    this.options = options;
    this.transport = transport;
    this.requester = new Requester(options, transport);
  }

  /** Every configured server, normalised, without credentials. */
  get servers(): readonly string[] {
    return this.options.servers.map((s) => s.url);
  }

  /** The servers currently in rotation, in the order they will be tried. */
  get activeServers(): readonly string[] {
    return this.requester.pool.activeServers().map((s) => s.url);
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.isClosed;
  }

  // --- sql tagged template (lib/sql.ts) ---
  private sqlTag: SqlTag | undefined;
  /** The `sql` tagged template, bound to this connection: ``await conn.sql`SELECT … ${value}` ``. See {@link SqlTag}. */
  get sql(): SqlTag {
    return (this.sqlTag ??= createSql(this));
  }

  private ensureOpen(): void {
    if (this.isClosed) throw new ProgrammingError("Connection closed");
  }

  /**
   * @internal Sends one SQL request; shared by query, bulk and Cursor. Callers are async functions and
   * await it, so its synchronous InterfaceError/ProgrammingError still reach them as rejections; not
   * being async itself saves a promise and a tick per query when nothing is compressed.
   */
  runSql(stmt: string, payload: { args?: unknown[]; bulk_args?: unknown[][] }, opts: RequestOptions): Promise<Answer> {
    this.ensureOpen();
    checkStatement(stmt);
    const body = encodeBody({ stmt, ...payload });
    const threshold = this.options.compress;
    if (threshold !== false) {
      const bytes = encoder.encode(body);
      if (bytes.byteLength >= threshold) return gzip(bytes).then((gz) => this.requester.send(this.spec(stmt, gz, GZIP_JSON_HEADERS, opts)));
    }
    return this.requester.send(this.spec(stmt, body, JSON_HEADERS, opts));
  }

  private spec(stmt: string, body: Uint8Array | string, headers: Record<string, string>, opts: RequestOptions): RequestSpec {
    const spec: RequestSpec = {
      method: "POST", path: this.options.errorTrace ? "/_sql?types=true&error_trace=true" : "/_sql?types=true",
      body, headers, retrySafe: isReadOnly(stmt), schema: true,
    };
    if (opts.signal !== undefined) spec.signal = opts.signal;
    if (opts.timeout !== undefined) spec.timeout = opts.timeout;
    return spec;
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
    return traced(this.options, stmt, args?.length ?? 0, undefined, () => this.runSql(stmt, args === undefined ? {} : { args }, o),
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
    if (!Array.isArray(bulkArgs)) throw new InterfaceError("bulk() arguments must be an array of rows");
    bulkArgs.forEach((row, i) => {
      if (!Array.isArray(row)) throw new InterfaceError(`bulk() row ${i} must be an array of values`);
    });
    return traced(this.options, stmt, 0, bulkArgs.length, () => this.runSql(stmt, { bulk_args: bulkArgs }, o),
      (answer) => toBulkResult(answer, this.options));
  }

  /** A PEP 249 cursor. `converter` overrides the connection's for this cursor (`null`: none). */
  cursor(opts?: { converter?: Converter | null }): Cursor {
    this.ensureOpen();
    const converter = opts?.converter === undefined ? this.options.converter : opts.converter ?? undefined;
    return new Cursor(this, converter);
  }

  /**
   * Asks a node about itself (`GET /`). With a server, only that server is asked (no failover);
   * without, the pool picks one.
   */
  async serverInfo(server?: string, opts?: RequestOptions): Promise<ServerInfo> {
    this.ensureOpen();
    const o = checkRequestOptions(opts);
    const spec: RequestSpec = { method: "GET", path: "/", headers: ROOT_HEADERS, retrySafe: true, schema: true };
    if (server !== undefined) spec.pinned = this.entryFor(server);
    if (o.signal !== undefined) spec.signal = o.signal;
    if (o.timeout !== undefined) spec.timeout = o.timeout;
    const answer = await this.requester.send(spec);
    const { body } = readJson(answer, { int64: "number", numeric: "number" });
    const version = body.version as { number?: unknown } | undefined;
    return {
      server: answer.server,
      name: typeof body.name === "string" ? body.name : "",
      clusterName: typeof body.cluster_name === "string" ? body.cluster_name : "",
      version: typeof version?.number === "string" ? version.number : "0.0.0",
    };
  }

  private entryFor(server: string): ServerEntry {
    if (typeof server !== "string") throw new InterfaceError("serverInfo() server must be a string");
    const wanted = parseServer(server).url;
    const known = this.options.servers.find((s) => s.url === wanted);
    if (known === undefined) throw new InterfaceError(`Unknown server '${wanted}': use one of ${this.servers.join(", ")}`);
    return known;
  }

  /** A container for the BLOB table `name`. */
  getBlobContainer(name: string): BlobContainer {
    this.ensureOpen();
    return new BlobContainer(name, this);
  }

  /** @internal The request loop, for blobs. */
  get requests(): Requester {
    return this.requester;
  }

  /** Does nothing: CrateDB has no transactions. Throws when the connection is closed. */
  commit(): void {
    this.ensureOpen();
  }

  /** Releases sockets. Idempotent; any later call throws `ProgrammingError("Connection closed")`. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.transport.close();
  }

  /** `await using conn = connect(…)` closes the connection at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
