/**
 * The lite Connection (`cratedb-fetch/lite`): `query()` and `bulk()` on the thin core alone — the request
 * loop with failover and retry safety, exact BIGINT/NUMERIC decoding, typed errors, `timeout` and `signal`.
 * No cursor, sessions, streams, blobs, server-side kill, discovery, tracing, `sql` tag or compression:
 * those are layers of the full entry (`cratedb-fetch`), and the options that need them are refused at
 * `connect()` with `NotSupportedError`.
 */
import { InterfaceError, ProgrammingError } from "./errors.js";
import { hide, inspectAs } from "./inspect.js";
import { encodeBody } from "./json.js";
import type { ConnectOptions, OptionLayer, Platform, RequestOptions, ResolvedOptions } from "./options.js";
import { Requester, type Answer, type RequestSpec } from "./request.js";
import { checkBulkArgs, checkRequestOptions, resolveConnectArgs } from "./resolve.js";
import { toBulkResult, toSqlResult, type BulkResult, type SqlResult } from "./result.js";
import { isReadOnly } from "./statements.js";
import type { Transport } from "./transport.js";

// A constant object: the request loop caches merged headers per headers object.
const JSON_HEADERS: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
const FULL = "use the full entry, 'cratedb-fetch'";

const LAYERS: Record<string, string> = {
  discover: "node discovery", onQuery: "query tracing", killOnAbort: "killing an aborted statement on the server",
  compress: "request compression",
};

/**
 * A runtime's platform as the lite entry sees it: the full entry's layers are refused by name. Without a runtime platform (browsers,
 * Workers, any fetch runtime) plain fetch has no TLS or socket options at all.
 */
export function litePlatform(base?: Platform): Platform {
  const platform: Platform = {
    name: "cratedb-fetch/lite" + (base === undefined ? " (plain fetch)" : ` on ${base.name}`),
    unsupported: (option, o) => LAYERS[option] !== undefined ? `${LAYERS[option]} is a layer of the full entry; ${FULL}`
      : base === undefined ? "fetch offers no TLS or socket options here" : base.unsupported(option, o),
  };
  if (base?.readFile !== undefined) platform.readFile = base.readFile;
  return platform;
}

/**
 * A connection of the lite entry: a pool of servers used round robin with failover, like the full
 * Connection, with `query()` and `bulk()` only. Created by `connect()` from `cratedb-fetch/lite`, which does no I/O.
 *
 * @example
 * ```ts
 * import { connect } from "cratedb-fetch/lite";
 * const conn = connect(["https://n1:4200", "https://n2:4200"], { username: "crate", timeout: 5000 });
 * const { rows } = await conn.query<[string]>("SELECT name FROM sys.nodes");
 * await conn.close();
 * ```
 */
export class LiteConnection {
  private readonly requester: Requester;
  private isClosed = false;

  /** @internal Use `connect()`. */
  constructor(private readonly options: ResolvedOptions, private readonly transport: Transport) {
    this.requester = new Requester(options, transport);
    hide(this, "options", "transport", "requester"); // the options hold the password, token and key
    inspectAs(this, "LiteConnection"); // util.inspect / console.log show what toJSON() shows
  }

  /** Every configured server, normalised, without credentials. */
  get servers(): readonly string[] {
    return this.requester.urls;
  }

  /** The servers currently in rotation, in the order they will be tried. */
  get activeServers(): readonly string[] {
    return this.requester.activeUrls;
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.isClosed;
  }

  private send(stmt: string, payload: { args?: unknown[]; bulk_args?: unknown[][] }, o: RequestOptions): Promise<Answer> {
    if (typeof stmt !== "string" || stmt.trim() === "") throw new InterfaceError("The statement must be a non-empty string");
    const spec: RequestSpec = {
      method: "POST", path: this.options.errorTrace ? "/_sql?types=true&error_trace=true" : "/_sql?types=true",
      body: encodeBody({ stmt, ...payload }), headers: JSON_HEADERS, retrySafe: isReadOnly(stmt), schema: true,
    };
    if (o.signal !== undefined) spec.signal = o.signal;
    if (o.timeout !== undefined) spec.timeout = o.timeout;
    return this.requester.send(spec);
  }

  private open(): void {
    if (this.isClosed) throw new ProgrammingError("Connection closed");
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
    this.open();
    const o = checkRequestOptions(opts);
    if (args !== undefined && !Array.isArray(args)) throw new InterfaceError("query() arguments must be an array");
    const answer = await this.send(stmt, args === undefined ? {} : { args }, o);
    return toSqlResult<R>(answer, this.options, this.options.converter, o.rowMode ?? this.options.rowMode);
  }

  /**
   * Runs one statement once per row of arguments, in a single request.
   * Failed rows do not reject: see `failed` and each item's `rowcount` (−2).
   *
   * @example
   * ```ts
   * const res = await conn.bulk("INSERT INTO t (id, name) VALUES (?, ?)", [[1, "a"], [2, "b"]]);
   * ```
   */
  async bulk(stmt: string, bulkArgs: unknown[][], opts?: RequestOptions): Promise<BulkResult> {
    this.open();
    const o = checkRequestOptions(opts);
    checkBulkArgs(bulkArgs);
    return toBulkResult(await this.send(stmt, { bulk_args: bulkArgs }, o), this.options);
  }

  /** Releases the transport. Idempotent; any later query throws `ProgrammingError("Connection closed")`. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await this.transport.close();
  }

  /** `await using conn = connect(…)` closes the connection at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** What `JSON.stringify(conn)` shows: the servers (without credentials) and the state, never a secret. */
  toJSON(): { servers: readonly string[]; activeServers: readonly string[]; closed: boolean } {
    return { servers: this.servers, activeServers: this.activeServers, closed: this.isClosed };
  }

}

/** The signature of the lite `connect()`. */
export interface LiteConnectFunction {
  /**
   * Creates a lite connection (synchronously, without I/O). The option names are the full entry's;
   * invalid values throw `InterfaceError`, and options the lite entry cannot honour throw `NotSupportedError`
   * naming the option: `discover`, `onQuery`, `compress` and `killOnAbort: true` (layers of the full entry),
   * and the TLS and socket options where the runtime's fetch has none (browsers, Workers). A statement whose
   * `timeout` expires or `signal` aborts after it was sent is not killed on the server (it may still run
   * there); it is never re-sent unless it is read-only and `retryOnTimeout` is on.
   *
   * @example
   * ```ts
   * import { connect } from "cratedb-fetch/lite";
   * const conn = connect("https://user:pw@db.example.com:4200/", { schema: "doc", timeout: 5000 });
   * const conn = connect({ servers: "n1:4200 n2:4200", username: "crate" });
   * ```
   */
  (servers?: string | readonly string[] | ConnectOptions, options?: ConnectOptions): LiteConnection;
}

/**
 * Builds the lite `connect()` of an entry file from its platform and transport factory; a runtime whose
 * transport has TLS and socket options passes their layer (resolve-tls.ts).
 */
export function createLiteConnect(platform: Platform, makeTransport: (opts: ResolvedOptions) => Transport,
  layers: readonly OptionLayer[] = []): LiteConnectFunction {
  return function connect(servers?: string | readonly string[] | ConnectOptions, options?: ConnectOptions): LiteConnection {
    const resolved = resolveConnectArgs(servers, options, platform, layers);
    return new LiteConnection(resolved, makeTransport(resolved));
  };
}
