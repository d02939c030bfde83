/**
 * The error hierarchy (PEP 249 names) and the mapping from CrateDB responses to it.
 *
 * ```
 * CrateDBError
 * ├── InterfaceError
 * ├── DatabaseError
 * │   ├── DataError
 * │   ├── OperationalError
 * │   │   └── ConnectionError
 * │   ├── IntegrityError
 * │   ├── InternalError
 * │   ├── ProgrammingError
 * │   └── NotSupportedError
 * ├── BlobLocationNotFoundError
 * └── DigestNotFoundError
 * ```
 */

/** Extra facts an error carries. */
export interface ErrorDetails {
  /** The CrateDB error code from the response body, e.g. `4091`. */
  code?: number;
  /** The HTTP status of the response. */
  status?: number;
  /** The server's stack trace, when `errorTrace` is enabled. */
  errorTrace?: string;
  /** The server (credentials stripped) that caused the error. */
  server?: string;
  /** The original error. */
  cause?: unknown;
}

/**
 * Base class of every error this library throws.
 *
 * @example
 * ```ts
 * try { await conn.query("SELECT * FROM nope"); }
 * catch (err) { if (err instanceof ProgrammingError) console.log(err.code, err.status); }
 * ```
 */
export class CrateDBError extends Error {
  /** The CrateDB error code (e.g. 4041 for an unknown relation), when the server sent one. */
  readonly code?: number;
  /** The HTTP status, when the error comes from a response. */
  readonly status?: number;
  /** The server-side stack trace, only with `errorTrace: true`. */
  readonly errorTrace?: string;
  /** The server that caused the error, as `scheme://host:port[/prefix]` without credentials. */
  readonly server?: string;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    if (details.code !== undefined) this.code = details.code;
    if (details.status !== undefined) this.status = details.status;
    if (details.errorTrace !== undefined) this.errorTrace = details.errorTrace;
    if (details.server !== undefined) this.server = details.server;
  }
}

/** Misuse of the library's interface: invalid options, parameters or arguments. Thrown before any I/O. */
export class InterfaceError extends CrateDBError {}
/** An error reported by, or about, the database. */
export class DatabaseError extends CrateDBError {}
/** A value could not be represented without loss (e.g. a BIGINT beyond 2^53 in `int64: "number"` mode). */
export class DataError extends DatabaseError {}
/** The database's operation failed: authentication, privileges, a killed job, an unavailable cluster. */
export class OperationalError extends DatabaseError {}
/** No server could be reached, the connection was lost, or a request timed out. */
export class ConnectionError extends OperationalError {}
/** A constraint was violated: a duplicate primary key (4091) or a version conflict (4092). */
export class IntegrityError extends DatabaseError {}
/** The server failed internally (5xxx codes). */
export class InternalError extends DatabaseError {}
/** The statement is wrong: syntax, unknown relation or column, or the library was used after `close()`. */
export class ProgrammingError extends DatabaseError {}
/** A feature the server, or this runtime, does not support. */
export class NotSupportedError extends DatabaseError {}

/** A blob operation targeted a table that is not a blob table (PUT answered 400/404). */
export class BlobLocationNotFoundError extends CrateDBError {
  readonly table: string;
  readonly digest: string;
  constructor(table: string, digest: string, details: ErrorDetails = {}) {
    super(`Blob table '${table}' not found or not a blob table (digest ${digest})`, details);
    this.table = table;
    this.digest = digest;
  }
}

/** The blob with this digest does not exist. */
export class DigestNotFoundError extends CrateDBError {
  readonly table: string;
  readonly digest: string;
  constructor(table: string, digest: string, details: ErrorDetails = {}) {
    super(`Blob ${digest} not found in table '${table}'`, details);
    this.table = table;
    this.digest = digest;
  }
}

// `name` is set on each prototype by hand so that minified bundles keep readable names.
const names: Array<[{ prototype: Error }, string]> = [
  [CrateDBError, "CrateDBError"], [InterfaceError, "InterfaceError"], [DatabaseError, "DatabaseError"],
  [DataError, "DataError"], [OperationalError, "OperationalError"], [ConnectionError, "ConnectionError"],
  [IntegrityError, "IntegrityError"], [InternalError, "InternalError"], [ProgrammingError, "ProgrammingError"],
  [NotSupportedError, "NotSupportedError"], [BlobLocationNotFoundError, "BlobLocationNotFoundError"],
  [DigestNotFoundError, "DigestNotFoundError"],
];
for (const [cls, name] of names) {
  Object.defineProperty(cls.prototype, "name", { value: name, writable: true, configurable: true });
}

type ErrorClass = new (message: string, details?: ErrorDetails) => CrateDBError;

/** The error class for a CrateDB error code (API.md, Errors). */
export function classForCode(code: number): ErrorClass {
  if (code === 4091 || code === 4092) return IntegrityError;
  if (code === 4004) return NotSupportedError;
  if ((code >= 4010 && code <= 4019) || (code >= 4030 && code <= 4039) || code === 5005 ||
    (code >= 5030 && code <= 5039)) return OperationalError;
  if (code >= 5000 && code <= 5999) return InternalError;
  return ProgrammingError;
}

/** The error class for an HTTP status when the body carries no CrateDB code. */
export function classForStatus(status: number): ErrorClass {
  if (status === 401 || status === 403) return OperationalError;
  if (status >= 500) return InternalError;
  return ProgrammingError;
}

/** A short, single-line excerpt of a non-JSON body (tags stripped) for error messages. */
export function excerpt(text: string, max = 160): string {
  const flat = text.replace(/<(script|style)[^>]*>[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/**
 * Builds the error for a non-2xx response. `body` is the decoded text.
 * JSON envelopes `{"error":{"message","code"},"error_trace"?}` map by code; anything else by status.
 */
export function errorFromResponse(status: number, statusText: string, body: string, server: string): CrateDBError {
  let parsed: unknown;
  try { parsed = body.length > 0 ? JSON.parse(body) : undefined; } catch { parsed = undefined; }
  if (parsed !== null && typeof parsed === "object" && "error" in parsed) {
    const envelope = parsed as { error: unknown; error_trace?: unknown };
    const err = envelope.error;
    const trace = typeof envelope.error_trace === "string" ? envelope.error_trace : undefined;
    let message = "";
    let code: number | undefined;
    if (err !== null && typeof err === "object") {
      const e = err as { message?: unknown; code?: unknown };
      if (typeof e.message === "string") message = e.message;
      if (typeof e.code === "number") code = e.code;
    } else if (typeof err === "string") {
      message = err;
    }
    if (message === "") message = `HTTP ${status} ${statusText}`.trim();
    const Cls = code === undefined ? classForStatus(status) : classForCode(code);
    const details: ErrorDetails = { status, server };
    if (code !== undefined) details.code = code;
    if (trace !== undefined) details.errorTrace = trace;
    return new Cls(message, details);
  }
  const Cls = classForStatus(status);
  const text = excerpt(body);
  const head = `HTTP ${status}${statusText ? ` ${statusText}` : ""} from ${server}`;
  return new Cls(text ? `${head}: ${text}` : head, { status, server });
}
