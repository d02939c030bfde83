/** The public surface shared by every runtime entry: named exports only. */
export { BlobContainer } from "./blob.js";
export type { ConnectFunction } from "./connect.js";
export { Connection } from "./connection.js";
export type { ServerInfo } from "./server-info.js";
export { Cursor, type ColumnDescription } from "./cursor.js";
export { Session } from "./session.js";
export { RowStream, type StreamOptions } from "./stream.js";
export {
  BlobLocationNotFoundError, ConnectionError, CrateDBError, DataError, DatabaseError, DigestNotFoundError,
  IntegrityError, InterfaceError, InternalError, NotSupportedError, OperationalError, ProgrammingError,
  type ErrorDetails,
} from "./errors.js";
export type { ConnectOptions, Logger, RequestOptions, RowMode } from "./options.js";
export type { QueryEvent, QueryTraceContext } from "./trace.js";
export { SqlFragment, SqlQuery, createSql, sql, type SqlTarget, type SqlFragmentTag, type SqlHelpers, type SqlStatement, type SqlTag } from "./sql.js";
export type { BulkItem, BulkResult, SqlResult } from "./result.js";
export { FetchTransport, TransportError, type FetchLike, type Transport, type TransportRequest, type TransportResponse } from "./transport.js";
export { Converter, DataType, DefaultTypeConverter, type ColType, type ConvertFn } from "./types.js";
