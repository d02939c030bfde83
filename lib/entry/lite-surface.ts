/** What every `cratedb-fetch/lite` entry exports besides its `connect()`. */
export { LiteConnection, type LiteConnectFunction } from "../lite.js";
export {
  ConnectionError, CrateDBError, DataError, DatabaseError, IntegrityError, InterfaceError, InternalError,
  NotSupportedError, OperationalError, ProgrammingError, type ErrorDetails,
} from "../errors.js";
export type { ConnectOptions, Logger, RequestOptions, RowMode } from "../options.js";
export type { BulkItem, BulkResult, SqlResult } from "../result.js";
export type { FetchLike } from "../transport.js";
export { Converter, DataType, DefaultTypeConverter, type ColType, type ConvertFn } from "../types.js";
