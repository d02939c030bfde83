/** ConnectOptions → ResolvedOptions: every check happens here, once, before any I/O. */
import { InterfaceError, NotSupportedError } from "./errors.js";
import type { ConnectOptions, Logger, OptionLayer, Platform, PlatformOption, RequestOptions, ResolvedOptions } from "./options.js";
import { Redactor, parseServers } from "./servers.js";
import type { FetchLike } from "./transport.js";
import type { Converter } from "./types.js";

// Every option of ConnectOptions, and who resolves it: the core ("core") or a layer over it ("layer"). A
// name outside it is a typo (InterfaceError); a layer's option that no layer of this entry resolves is
// one this entry or runtime cannot honour (NotSupportedError). Typed so that a new option must be listed.
const OPTIONS: Record<keyof ConnectOptions, "core" | "layer"> = {
  servers: "core", username: "core", password: "core", jwtToken: "core", schema: "core", timeout: "core",
  backoffFactor: "core", maxRetries: "core", retryInterval: "core", errorTrace: "core", int64: "core", numeric: "core",
  converter: "core", rowMode: "core", fetch: "core", headers: "core", logger: "core", retryOnTimeout: "core",
  killOnAbort: "layer", compress: "layer", discover: "layer", onQuery: "layer", verifySslCert: "layer", caCert: "layer",
  certFile: "layer", keyFile: "layer", sslRelaxMinimumVersion: "layer", socketKeepalive: "layer", socketTcpKeepidle: "layer",
  socketTcpKeepintvl: "layer", socketTcpKeepcnt: "layer", poolSize: "layer",
};
/** @internal Every option name of ConnectOptions (for the conformance spec). */
export const OPTION_NAMES: ReadonlyArray<keyof ConnectOptions> = /* @__PURE__ */ Object.keys(OPTIONS) as Array<keyof ConnectOptions>;
/** @internal The options a layer resolves. */
export const LAYER_OPTIONS: ReadonlyArray<keyof ConnectOptions> = /* @__PURE__ */ (Object.keys(OPTIONS) as Array<keyof ConnectOptions>).filter((k) => OPTIONS[k] === "layer");
// The Python client's names of the core options (a layer hints at its own).
const PYTHON_NAMES: Record<string, string> = {
  jwt_token: "jwtToken", backoff_factor: "backoffFactor", error_trace: "errorTrace", retry_interval: "retryInterval",
  max_retries: "maxRetries", time_zone: "converter",
};
// What a layer option means when no layer resolves it: a value equal to it asks for nothing and is accepted.
const UNASKED: Record<string, unknown> = { verifySslCert: true, socketKeepalive: true, sslRelaxMinimumVersion: false,
  discover: false, compress: false, killOnAbort: false };

/** @internal Throws InterfaceError (an invalid option). */
export function fail(message: string): never {
  throw new InterfaceError(message);
}

/** @internal */
export function str(o: Record<string, unknown>, key: string, allowEmpty = false): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== "string") fail(`Option '${key}' must be a string, got ${typeof v}`);
  if (!allowEmpty && v === "") fail(`Option '${key}' must not be empty`);
  return v;
}

/** @internal */
export function bool(o: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") fail(`Option '${key}' must be a boolean, got ${typeof v}`);
  return v;
}

/** @internal */
export function num(o: Record<string, unknown>, key: string, opts: { min: number; integer?: boolean; positive?: boolean }): number | undefined {
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

/** @internal Checks bulk arguments, an array of rows that are arrays (the full and the lite entry alike). */
export function checkBulkArgs(bulkArgs: unknown): asserts bulkArgs is unknown[][] {
  if (!Array.isArray(bulkArgs)) fail("bulk() arguments must be an array of rows");
  // An indexed loop: this runs on every row of every bulk (10 000 rows and more).
  for (let i = 0; i < bulkArgs.length; i++) if (!Array.isArray(bulkArgs[i])) fail(`bulk() row ${i} must be an array of values`);
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

/**
 * `connect(servers?, options?)` or the options-only `connect(options)`: resolved once, for the full and the
 * lite entry alike. `check` sees the raw options first (the lite entry refuses its missing layers there).
 */
export function resolveConnectArgs(servers: unknown, options: unknown, platform: Platform,
  layers: readonly OptionLayer[] = []): ResolvedOptions {
  const optionsOnly = servers !== null && typeof servers === "object" && !Array.isArray(servers);
  if (optionsOnly && options !== undefined) fail("connect() takes the options once: connect(servers, options) or connect(options)");
  return resolveOptions(optionsOnly ? undefined : servers, optionsOnly ? servers : options, platform, layers);
}

/** Resolves `connect(servers, options)` into explicit options, or throws before any I/O. */
export function resolveOptions(serversArg: unknown, optionsArg: unknown, platform: Platform,
  layers: readonly OptionLayer[] = []): ResolvedOptions {
  if (optionsArg !== undefined && (optionsArg === null || typeof optionsArg !== "object" || Array.isArray(optionsArg))) {
    fail("connect() options must be an object");
  }
  const o = (optionsArg ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (Object.hasOwn(OPTIONS, key)) continue;
    const hint = PYTHON_NAMES[key] ?? layers.map((l) => l.hint?.(key)).find((h) => h !== undefined);
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
  const converter = o.converter;
  // By shape, not instanceof: the lite core must not ship the Converter classes an app does not use.
  const c = converter as Partial<Converter> | null | undefined;
  if (c !== undefined && (typeof c?.convert !== "function" || typeof c.affects !== "function")) {
    fail("Option 'converter' must be a Converter (e.g. new DefaultTypeConverter())");
  }
  const fetchImpl = o.fetch;
  if (fetchImpl !== undefined && typeof fetchImpl !== "function") fail("Option 'fetch' must be a function");
  const logger = o.logger;
  if (logger !== undefined && (logger === null || typeof logger !== "object")) fail("Option 'logger' must be an object with debug/info/warn methods");
  for (const level of ["debug", "info", "warn"]) {
    const fn = (logger as Record<string, unknown> | undefined)?.[level];
    if (fn !== undefined && typeof fn !== "function") fail(`Option 'logger.${level}' must be a function`);
  }

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
    // The layers' options, as when not given; a layer that resolves them overwrites these.
    verifySslCert: true,
    caCert: undefined,
    certFile: undefined,
    keyFile: undefined,
    sslRelaxMinimumVersion: false,
    socketKeepalive: true,
    socketTcpKeepidle: undefined,
    socketTcpKeepintvl: undefined,
    socketTcpKeepcnt: undefined,
    poolSize: undefined,
    compress: false,
    int64: oneOf(o, "int64", ["number", "bigint", "string"] as const, "number"),
    numeric: oneOf(o, "numeric", ["number", "string"] as const, "number"),
    converter: converter as Converter | undefined,
    rowMode: oneOf(o, "rowMode", ["array", "object"] as const, "array"),
    fetch: fetchImpl as FetchLike | undefined,
    headers,
    logger: (logger ?? {}) as Logger,
    // Without the cancellation layer nothing is killed; the full entry's layer defaults it to true.
    killOnAbort: false,
    retryOnTimeout: bool(o, "retryOnTimeout", false),
    discover: undefined,
    redactor: new Redactor([]),
    onQuery: undefined,
  };
  for (const layer of layers) layer.resolve(o, resolved, platform);
  for (const key of LAYER_OPTIONS) {
    if (o[key] === undefined || o[key] === UNASKED[key] || layers.some((l) => l.keys.includes(key))) continue;
    throw new NotSupportedError(`Option '${key}' is not supported on ${platform.name}: ${platform.unsupported(key as PlatformOption, resolved)}`);
  }
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
