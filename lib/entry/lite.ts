/**
 * `cratedb-fetch/lite`: `connect()` with `query()` and `bulk()` on the thin core, plain fetch on every
 * runtime. The same option names and error classes as the full entry; what needs a layer of the full
 * entry is refused with `NotSupportedError` at `connect()`.
 */
export { connect, LiteConnection } from "../lite.js";
export {
  ConnectionError, CrateDBError, DataError, DatabaseError, IntegrityError, InterfaceError, InternalError,
  NotSupportedError, OperationalError, ProgrammingError, type ErrorDetails,
} from "../errors.js";
export type { ConnectOptions, Logger, RequestOptions, RowMode } from "../options.js";
export type { BulkItem, BulkResult, SqlResult } from "../result.js";
export type { FetchLike } from "../transport.js";
export { Converter, DataType, DefaultTypeConverter, type ColType, type ConvertFn } from "../types.js";
