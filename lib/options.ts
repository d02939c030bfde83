/** The public options (ConnectOptions, RequestOptions) and their resolved form; validation is in resolve.ts. */
import type { Redactor, ServerEntry } from "./servers.js";
import type { FetchLike } from "./transport.js";
import type { Converter } from "./types.js";

/** Receives events. Every method is optional; nothing secret is ever passed. */
export interface Logger {
  debug?(message: string): void;
  info?(message: string): void;
  warn?(message: string): void;
}

/** How rows come back from `query()`. */
export type RowMode = "array" | "object";

/** What `onQuery` receives after every `query()` and `bulk()`, successful or not. No arguments, no secrets. */
export interface QueryEvent {
  /** The statement text as sent (parameters are never included). */
  statement: string;
  /** The server that answered (or that failed last), without credentials; undefined before any attempt. */
  server: string | undefined;
  /** Client-side duration in ms, from the call to the decoded result or the error. */
  durationMs: number;
  /** CrateDB's own `duration` in ms, when it answered with a result. */
  serverDurationMs: number | undefined;
  /** Rows returned or affected; undefined on error. */
  rowcount: number | undefined;
  /** The error the call rejects with, if any. */
  error: Error | undefined;
  /** Attempts made (1 = no retry) when a server answered; undefined when none did. */
  attempt: number | undefined;
}

/** Options of {@link connect}. Durations are milliseconds. Python names are given for each option. */
export interface ConnectOptions {
  /** Server URLs, as the first argument of `connect()` (for the options-only form). Python: `servers`. */
  servers?: string | readonly string[];
  /** HTTP Basic user. No `Authorization` header is sent without a user. Python: `username`. */
  username?: string;
  /** HTTP Basic password (`user:` is sent when none). Python: `password`. */
  password?: string;
  /** JWT sent as `Authorization: Bearer <token>`; cannot be combined with `username`. Python: `jwt_token`. */
  jwtToken?: string;
  /** Default schema, sent as the `Default-Schema` header on every SQL request. Python: `schema`. */
  schema?: string;
  /**
   * Per-attempt timeout in ms, from the call to the last byte of the body: connecting, waiting in a queue,
   * sending and reading. An expiry while connecting fails over; after sending, the statement ran out of
   * time: its job is killed (`killOnAbort`), the server stays in the rotation and the request is not re-sent
   * (see `retryOnTimeout`). Python: `timeout` (s). @default none
   */
  timeout?: number;
  /** Retry delays: 1st retry at once, then `f, 2f, 4f, …` ms, each capped at 120 000. Python: `backoff_factor`. @default 0 */
  backoffFactor?: number;
  /** Retries per request, whichever server they go to. @default 10 */
  maxRetries?: number;
  /** How long a failed server stays out of the rotation, in ms. Python: `Client.retry_interval` (s). @default 30000 */
  retryInterval?: number;
  /** Ask the server for stack traces (`error_trace=true`); errors then carry `errorTrace`. Python: `error_trace`. @default false */
  errorTrace?: boolean;
  /** `false` disables server certificate verification. Python: `verify_ssl_cert`. @default true */
  verifySslCert?: boolean;
  /** CA certificate(s) to trust: PEM text, or a file path where the runtime has a file system. Python: `ca_cert`. */
  caCert?: string;
  /** Client certificate: PEM text or path. Python: `cert_file`. */
  certFile?: string;
  /** Client private key: PEM text or path. Python: `key_file`. */
  keyFile?: string;
  /** Allow TLS 1.0 and 1.1. Python: `ssl_relax_minimum_version`. @default false */
  sslRelaxMinimumVersion?: boolean;
  /** TCP keepalive on connections. Python: `socket_keepalive`. @default true */
  socketKeepalive?: boolean;
  /** TCP keepalive idle time in ms. Python: `socket_tcp_keepidle` (s). */
  socketTcpKeepidle?: number;
  /** TCP keepalive probe interval in ms. Python: `socket_tcp_keepintvl` (s). */
  socketTcpKeepintvl?: number;
  /** TCP keepalive probe count. Python: `socket_tcp_keepcnt`. */
  socketTcpKeepcnt?: number;
  /** Maximum connections per server. Python: `pool_size`. @default the runtime's default */
  poolSize?: number;
  /** Gzip SQL request bodies of at least this many bytes (`true`: always, `false`: never). Python: `compress`. @default false */
  compress?: boolean | number;
  /** BIGINT decoding. `"number"` throws `DataError` for values beyond ±(2^53−1). @default "number" */
  int64?: "number" | "bigint" | "string";
  /** NUMERIC decoding. @default "number" */
  numeric?: "number" | "string";
  /** Converts values by column type (see `DefaultTypeConverter`). Python: `converter`. @default none */
  converter?: Converter;
  /** `"object"` makes `query()` rows plain objects keyed by column name. @default "array" */
  rowMode?: RowMode;
  /** The fetch implementation (proxies, Workers mTLS bindings, tests). @default globalThis.fetch at call time */
  fetch?: FetchLike;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /**
   * When a statement's `signal` aborts or its `timeout` expires, stop it on the server too: statements
   * sent with a signal or timeout carry a trailing comment `/* cratedb-fetch:<uuid> *\/`, by which the
   * client finds the job in `sys.jobs` and sends `KILL` (best effort, in the background). `false` sends
   * every statement unchanged.
   * @default true
   */
  killOnAbort?: boolean;
  /**
   * Re-send a read-only statement to the next server when its `timeout` expired after it was sent
   * (its job is killed first, with `killOnAbort`). Off by default: a statement that runs out of time
   * usually runs out of time on every node, and the cluster would run it again. A timeout while
   * connecting always fails over; writes are never re-sent. Not in Python.
   * @default false
   */
  retryOnTimeout?: boolean;
  /** Receives "server removed"/"server restored" warnings and per-request debug lines. @default silent */
  logger?: Logger;
  /**
   * Node discovery (opt-in): reads `SELECT name, rest_url FROM sys.nodes` through the normal request loop
   * when the first request starts, then every `intervalMs`, and adds the nodes found to the rotation
   * (dropping discovered nodes that left). Each node's URL takes the scheme, path prefix and credentials of
   * the seed server that answered; the given servers (the seeds) are never dropped. A failed refresh is
   * logged (`logger.warn`) and keeps the current servers. `rest_url` is a node's publish address, which may be
   * unreachable from outside a container network. Not available in browsers and Cloudflare Workers
   * (`NotSupportedError`). Not in Python.
   * @default false
   * @example
   * ```ts
   * const conn = connect("https://db.example.com:4200", { username: "crate", discover: { intervalMs: 30_000 } });
   * await conn.query("SELECT 1");
   * conn.servers; // after the first refresh: the seed and every node of the cluster
   * ```
   */
  discover?: boolean | {
    /** How often the node list is refreshed, in ms. @default 60000 */
    intervalMs?: number;
  };
  /**
   * Called after every `query()` and `bulk()` with the statement, server, durations, rowcount, error and
   * attempt count (never the arguments). A listener that throws does not affect the query. @default none
   * @example
   * ```ts
   * connect(url, { onQuery: (e) => console.log(e.statement, e.durationMs, e.error?.message) });
   * ```
   */
  onQuery?: (event: QueryEvent) => void;
}

/** Options of a single request. */
export interface RequestOptions {
  /** Aborts the request; it rejects with the signal's reason and is never retried. */
  signal?: AbortSignal;
  /** Overrides the connection's per-attempt `timeout` (ms). */
  timeout?: number;
  /** Overrides the connection's `rowMode`. */
  rowMode?: RowMode;
}

/** TLS and socket settings handed to a runtime's transport, files already read. */
export interface TlsSocketOptions {
  verifySslCert: boolean;
  caCert: string | undefined;
  certFile: string | undefined;
  keyFile: string | undefined;
  sslRelaxMinimumVersion: boolean;
  socketKeepalive: boolean;
  socketTcpKeepidle: number | undefined;
  socketTcpKeepintvl: number | undefined;
  socketTcpKeepcnt: number | undefined;
  poolSize: number | undefined;
}

/** Every option explicit, validated. */
export interface ResolvedOptions extends TlsSocketOptions {
  servers: ServerEntry[];
  username: string | undefined;
  password: string | undefined;
  jwtToken: string | undefined;
  schema: string | undefined;
  timeout: number | undefined;
  backoffFactor: number;
  maxRetries: number;
  retryInterval: number;
  errorTrace: boolean;
  compress: number | false;
  int64: "number" | "bigint" | "string";
  numeric: "number" | "string";
  converter: Converter | undefined;
  rowMode: RowMode;
  fetch: FetchLike | undefined;
  headers: Record<string, string>;
  logger: Logger;
  killOnAbort: boolean;
  retryOnTimeout: boolean;
  /** Node discovery, or undefined when off. */
  discover: { intervalMs: number } | undefined;
  redactor: Redactor;
  onQuery: ((event: QueryEvent) => void) | undefined;
}

/** The option names that a platform (its transport, its network position) may or may not honour. */
export type PlatformOption = "verifySslCert" | "caCert" | "certFile" | "keyFile" | "sslRelaxMinimumVersion" |
  "socketKeepalive" | "socketTcpKeepidle" | "socketTcpKeepintvl" | "socketTcpKeepcnt" | "poolSize" | "discover";

/**
 * Options resolved by a layer over the core (a runtime's TLS and socket options, the full entry's
 * features): the core checks the names it knows and hands each layer the raw options.
 */
export interface OptionLayer {
  /** The option names this layer resolves. */
  readonly keys: ReadonlyArray<keyof ConnectOptions>;
  /** Checks the layer's options (throwing InterfaceError or NotSupportedError) and writes them into `resolved`. */
  resolve(raw: Record<string, unknown>, resolved: ResolvedOptions, platform: Platform): void;
  /** A hint for an unknown option name (e.g. a Python client's name), shown with the error. */
  hint?(key: string): string | undefined;
}

/** What an entry file tells the core about its runtime. */
export interface Platform {
  /** Shown in NotSupportedError messages, e.g. "Cloudflare Workers". */
  name: string;
  /** Reads a PEM option that is not PEM text (a path). Absent where there is no file system. */
  readFile?: (path: string) => string;
  /**
   * The platform's fetch writes header values as UTF-8 (workerd), not one byte per character as CrateDB reads
   * them (ISO-8859-1): header values must then be ASCII, or the server would read other characters.
   */
  utf8Headers?: boolean;
  /** Why an option the user set cannot be honoured here, or undefined when it can. */
  unsupported(option: PlatformOption, options: ResolvedOptions): string | undefined;
}
