/** ConnectOptions → ResolvedOptions: every check happens here, once, before any I/O. */
import { InterfaceError, NotSupportedError } from "./errors.js";
import type { Logger, Platform, PlatformOption, RequestOptions, ResolvedOptions } from "./options.js";
import { Redactor, parseServers } from "./servers.js";
import type { FetchLike } from "./transport.js";
import { Converter } from "./types.js";

const PYTHON_NAMES: Record<string, string> = {
  jwt_token: "jwtToken", backoff_factor: "backoffFactor", error_trace: "errorTrace", verify_ssl_cert: "verifySslCert",
  ca_cert: "caCert", cert_file: "certFile", key_file: "keyFile", ssl_relax_minimum_version: "sslRelaxMinimumVersion",
  socket_keepalive: "socketKeepalive", socket_tcp_keepidle: "socketTcpKeepidle", socket_tcp_keepintvl: "socketTcpKeepintvl",
  socket_tcp_keepcnt: "socketTcpKeepcnt", pool_size: "poolSize", retry_interval: "retryInterval", max_retries: "maxRetries",
  time_zone: "converter",
};
const KNOWN = new Set(["servers", "killOnAbort", "retryOnTimeout", "username", "password", "jwtToken", "schema", "timeout", "backoffFactor", "maxRetries",
  "retryInterval", "errorTrace", "verifySslCert", "caCert", "certFile", "keyFile", "sslRelaxMinimumVersion",
  "socketKeepalive", "socketTcpKeepidle", "socketTcpKeepintvl", "socketTcpKeepcnt", "poolSize", "compress", "int64",
  "numeric", "converter", "rowMode", "fetch", "headers", "logger", "discover", "onQuery"]);

function fail(message: string): never {
  throw new InterfaceError(message);
}

function str(o: Record<string, unknown>, key: string, allowEmpty = false): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") fail(`Option '${key}' must be a string, got ${typeof v}`);
  if (!allowEmpty && v === "") fail(`Option '${key}' must not be empty`);
  return v;
}

function bool(o: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") fail(`Option '${key}' must be a boolean, got ${typeof v}`);
  return v;
}

function num(o: Record<string, unknown>, key: string, opts: { min: number; integer?: boolean; positive?: boolean }): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  const what = opts.integer ? "an integer" : "a number";
  if (typeof v !== "number" || !Number.isFinite(v)) fail(`Option '${key}' must be ${what}, got ${typeof v === "number" ? v : typeof v}`);
  if (opts.integer && !Number.isInteger(v)) fail(`Option '${key}' must be ${what}, got ${v}`);
  if (opts.positive ? v <= opts.min : v < opts.min) fail(`Option '${key}' must be ${opts.positive ? ">" : ">="} ${opts.min}, got ${v}`);
  return v;
}

function oneOf<T extends string>(o: Record<string, unknown>, key: string, values: readonly T[], fallback: T): T {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== "string" || !(values as readonly string[]).includes(v)) {
    fail(`Option '${key}' must be one of ${values.map((x) => `"${x}"`).join(", ")}, got ${typeof v === "string" ? `"${v}"` : typeof v}`);
  }
  return v as T;
}

/** Validates a per-request timeout (also used by RequestOptions). */
export function checkTimeout(v: unknown, where: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) fail(`${where} 'timeout' must be a positive number of milliseconds`);
  return v;
}

/** @internal Validates per-request options (the full and the lite entry alike). */
export function checkRequestOptions<T extends RequestOptions>(opts: T | undefined): T | Record<string, never> {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== "object") fail("Request options must be an object");
  checkTimeout(opts.timeout, "Request option");
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) fail("Request option 'signal' must be an AbortSignal");
  if (opts.rowMode !== undefined && opts.rowMode !== "array" && opts.rowMode !== "object") {
    fail(`Request option 'rowMode' must be "array" or "object"`);
  }
  return opts;
}

// What an HTTP header value may hold (fetch's ByteString: Latin-1, no control characters but tab).
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

const ASCII_VALUE = /^[\t\x20-\x7e]*$/;

function headerSafe(value: string | undefined, what: string, platform: Platform): string | undefined {
  if (value !== undefined && !HEADER_VALUE.test(value)) {
    fail(`${what} cannot be sent in an HTTP header: only Latin-1 characters without control characters are possible`);
  }
  if (value !== undefined && platform.utf8Headers === true && !ASCII_VALUE.test(value)) {
    fail(`${what} cannot be sent in an HTTP header on ${platform.name}: its fetch writes non-ASCII header values as UTF-8, ` +
      "which CrateDB reads as ISO-8859-1 (other characters): use ASCII only");
  }
  return value;
}

function headersOf(v: unknown, platform: Platform): Record<string, string> {
  if (v === undefined) return {};
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail("Option 'headers' must be an object of header names to strings");
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") fail(`Header '${k}' must be a string`);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) fail(`Invalid header name '${k}'`);
    headerSafe(val, `The value of header '${k}'`, platform);
    out[k.toLowerCase()] = val;
  }
  return out;
}

function pem(v: string | undefined, key: string, platform: Platform): string | undefined {
  if (v === undefined || v.includes("-----BEGIN")) return v;
  if (platform.readFile === undefined) {
    throw new NotSupportedError(`Option '${key}' is a file path, but ${platform.name} has no file system: pass the PEM text instead`);
  }
  try {
    return platform.readFile(v);
  } catch (err) {
    // A keyFile value that is not PEM may be key material in another form: never echo it (nor the
    // file error, which quotes the path), only the error code.
    if (key === "keyFile") {
      const code = (err as { code?: unknown } | null)?.code;
      throw new InterfaceError(`Option 'keyFile' is neither PEM text (-----BEGIN …) nor a readable file${typeof code === "string" ? ` (${code})` : ""}`);
    }
    throw new InterfaceError(`Option '${key}': cannot read file '${v}' (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

const PLATFORM_OPTIONS: PlatformOption[] = ["verifySslCert", "caCert", "certFile", "keyFile", "sslRelaxMinimumVersion",
  "socketKeepalive", "socketTcpKeepidle", "socketTcpKeepintvl", "socketTcpKeepcnt", "poolSize", "discover"];

/** The default `discover.intervalMs`. */
const DISCOVER_INTERVAL = 60_000;

function discoverOf(v: unknown): { intervalMs: number } | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return { intervalMs: DISCOVER_INTERVAL };
  const got = v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail(`Option 'discover' must be true, false or { intervalMs }, got ${got}`);
  for (const key of Object.keys(v)) if (key !== "intervalMs") fail(`Unknown option 'discover.${key}' (only 'intervalMs')`);
  const ms = (v as { intervalMs?: unknown }).intervalMs;
  if (ms === undefined) return { intervalMs: DISCOVER_INTERVAL };
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
    fail(`Option 'discover.intervalMs' must be a positive number of milliseconds, got ${typeof ms === "number" ? ms : typeof ms}`);
  }
  return { intervalMs: ms };
}

/** True when the user set an option to something other than what every platform does anyway. */
function isSet(option: PlatformOption, o: Record<string, unknown>): boolean {
  if (option === "discover") return o.discover !== undefined && o.discover !== false;
  if (option === "verifySslCert" || option === "socketKeepalive") return o[option] === false;
  if (option === "sslRelaxMinimumVersion") return o[option] === true;
  return o[option] !== undefined;
}

/**
 * `connect(servers?, options?)` or the options-only `connect(options)`: resolved once, for the full and the
 * lite entry alike. `check` sees the raw options first (the lite entry refuses its missing layers there).
 */
export function resolveConnectArgs(servers: unknown, options: unknown, platform: Platform,
  check?: (raw: unknown) => void): ResolvedOptions {
  const optionsOnly = servers !== null && typeof servers === "object" && !Array.isArray(servers);
  if (optionsOnly && options !== undefined) fail("connect() takes the options once: connect(servers, options) or connect(options)");
  const raw = optionsOnly ? servers : options;
  check?.(raw);
  return resolveOptions(optionsOnly ? undefined : servers, raw, platform);
}

/** Resolves `connect(servers, options)` into explicit options, or throws before any I/O. */
export function resolveOptions(serversArg: unknown, optionsArg: unknown, platform: Platform): ResolvedOptions {
  if (optionsArg !== undefined && (optionsArg === null || typeof optionsArg !== "object" || Array.isArray(optionsArg))) {
    fail("connect() options must be an object");
  }
  const o = (optionsArg ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (KNOWN.has(key)) continue;
    const hint = PYTHON_NAMES[key];
    fail(`Unknown option '${key}'${hint ? ` (did you mean '${hint}'?)` : ""}`);
  }
  if (serversArg !== undefined && o.servers !== undefined) fail("Give the servers either as the first argument or as the 'servers' option, not both");
  const servers = parseServers(serversArg ?? o.servers);

  const username = str(o, "username");
  const password = str(o, "password", true);
  const jwtToken = headerSafe(str(o, "jwtToken"), "Option 'jwtToken'", platform);
  if (jwtToken !== undefined && username !== undefined) fail("Options 'jwtToken' and 'username' cannot be combined: use one way to authenticate");
  if (password !== undefined && username === undefined && !servers.some((s) => s.username !== undefined)) {
    fail("Option 'password' needs 'username' (or a user name in the server URL)");
  }
  const headers = headersOf(o.headers, platform);
  if (headers.authorization !== undefined && (username !== undefined || jwtToken !== undefined)) {
    fail("An 'Authorization' header cannot be combined with 'username' or 'jwtToken'");
  }
  const compressRaw = o.compress;
  let compress: number | false = false;
  if (compressRaw === true) compress = 0;
  else if (typeof compressRaw === "number") compress = num(o, "compress", { min: 0, integer: true }) ?? 0;
  else if (compressRaw !== undefined && compressRaw !== false) fail(`Option 'compress' must be a boolean or a number of bytes, got ${typeof compressRaw}`);
  const converter = o.converter;
  if (converter !== undefined && !(converter instanceof Converter)) fail("Option 'converter' must be a Converter (e.g. new DefaultTypeConverter())");
  const fetchImpl = o.fetch;
  if (fetchImpl !== undefined && typeof fetchImpl !== "function") fail("Option 'fetch' must be a function");
  const logger = o.logger;
  if (logger !== undefined && (logger === null || typeof logger !== "object")) fail("Option 'logger' must be an object with debug/info/warn methods");
  for (const level of ["debug", "info", "warn"]) {
    const fn = (logger as Record<string, unknown> | undefined)?.[level];
    if (fn !== undefined && typeof fn !== "function") fail(`Option 'logger.${level}' must be a function`);
  }

  if (o.onQuery !== undefined && typeof o.onQuery !== "function") fail("Option 'onQuery' must be a function (event) => void");

  const resolved: ResolvedOptions = {
    servers,
    username,
    password,
    jwtToken,
    schema: headerSafe(str(o, "schema"), "Option 'schema'", platform),
    timeout: checkTimeout(o.timeout, "Option"),
    backoffFactor: num(o, "backoffFactor", { min: 0 }) ?? 0,
    maxRetries: num(o, "maxRetries", { min: 0, integer: true }) ?? 10,
    retryInterval: num(o, "retryInterval", { min: 0 }) ?? 30_000,
    errorTrace: bool(o, "errorTrace", false),
    verifySslCert: bool(o, "verifySslCert", true),
    caCert: str(o, "caCert"),
    certFile: str(o, "certFile"),
    keyFile: str(o, "keyFile"),
    sslRelaxMinimumVersion: bool(o, "sslRelaxMinimumVersion", false),
    socketKeepalive: bool(o, "socketKeepalive", true),
    socketTcpKeepidle: num(o, "socketTcpKeepidle", { min: 0, positive: true }),
    socketTcpKeepintvl: num(o, "socketTcpKeepintvl", { min: 0, positive: true }),
    socketTcpKeepcnt: num(o, "socketTcpKeepcnt", { min: 0, integer: true, positive: true }),
    poolSize: num(o, "poolSize", { min: 0, integer: true, positive: true }),
    compress,
    int64: oneOf(o, "int64", ["number", "bigint", "string"] as const, "number"),
    numeric: oneOf(o, "numeric", ["number", "string"] as const, "number"),
    converter: converter as Converter | undefined,
    rowMode: oneOf(o, "rowMode", ["array", "object"] as const, "array"),
    fetch: fetchImpl as FetchLike | undefined,
    headers,
    logger: (logger ?? {}) as Logger,
    killOnAbort: bool(o, "killOnAbort", true),
    retryOnTimeout: bool(o, "retryOnTimeout", false),
    discover: discoverOf(o.discover),
    redactor: new Redactor([]),
    onQuery: o.onQuery as ResolvedOptions["onQuery"],
  };
  if ((resolved.certFile === undefined) !== (resolved.keyFile === undefined)) fail("Options 'certFile' and 'keyFile' must be given together");
  if (!resolved.socketKeepalive && (resolved.socketTcpKeepidle ?? resolved.socketTcpKeepintvl ?? resolved.socketTcpKeepcnt) !== undefined) {
    fail("TCP keepalive tuning needs 'socketKeepalive' (it is false)");
  }
  for (const option of PLATFORM_OPTIONS) {
    if (!isSet(option, o)) continue;
    const why = platform.unsupported(option, resolved);
    if (why !== undefined) throw new NotSupportedError(`Option '${option}' is not supported on ${platform.name}: ${why}`);
  }
  resolved.caCert = pem(resolved.caCert, "caCert", platform);
  resolved.certFile = pem(resolved.certFile, "certFile", platform);
  resolved.keyFile = pem(resolved.keyFile, "keyFile", platform);
  const secrets = [password, jwtToken, resolved.keyFile, ...authorizationSecrets(headers.authorization)];
  for (const s of servers) secrets.push(s.password);
  if (username !== undefined) secrets.push(basic(username, password ?? ""));
  for (const s of servers) if (s.username !== undefined) secrets.push(basic(s.username, s.password ?? ""));
  resolved.redactor = new Redactor(secrets);
  return resolved;
}

/**
 * The secrets in an `Authorization` header option: the value, its credential without the scheme (a
 * server may echo a bare token) and, for Basic, the decoded `user:password` and the password.
 */
function authorizationSecrets(value: string | undefined): Array<string | undefined> {
  if (value === undefined) return [];
  const credential = value.replace(/^\s*\S+\s+/, "").trim();
  const out = [value, credential];
  if (/^\s*basic\s/i.test(value)) {
    try {
      const decoded = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(atob(credential), (c) => c.charCodeAt(0)));
      out.push(decoded, decoded.slice(decoded.indexOf(":") + 1));
    } catch {
      // not base64 or not UTF-8: the value itself is redacted
    }
  }
  return out;
}

/** The base64 of `user:password` as sent in a Basic header (UTF-8). */
export function basic(user: string, password: string): string {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}
