/**
 * `/_sql` request handling: body parsing with CrateDB's exact error table (protocol §1.1), query flags (§1.2),
 * and the compact response bodies with fixed field order (§1.5, §2.1, §9.4).
 */
import { jacksonToken, JsonNumber, parseJsonPrefix, stringify, type JsonValue } from "./json.js";
import { jsonReply, type Reply } from "./reply.js";
import { execute, parseSql, returnsRows, SqlError, type Db, type Session, type SqlResult } from "./sql.js";

export interface SqlRequest {
  /** Decoded body text ("" when none). */
  body: string;
  /** Raw request target (for the query-string flags). */
  url: string;
  session: Session;
  db: Db;
  /** Registers the statement as a running job (`sys.jobs`); the returned function ends it. */
  job?: (stmt: string) => () => void;
}

/** Parsed body: the statement text plus either simple `args` or `bulk_args`. */
export interface SqlBody {
  stmt: string;
  args: JsonValue[];
  bulk: JsonValue[][] | undefined;
}

const sourceError = (detail: string) => new SqlError(500, 5000, "SQLParseSourceException", detail);

/** `?flag` / `?flag=` / `?flag=true` turn a flag on; anything else leaves it off (Netty `paramContainFlag`). */
export function queryFlag(url: string, name: string): boolean {
  const q = url.indexOf("?");
  if (q < 0) return false;
  const v = new URLSearchParams(url.slice(q + 1)).get(name);
  return v === "" || v === "true";
}

/** Parse the `/_sql` request body or throw the exact `SqlError` CrateDB would send. */
export function parseSqlBody(raw: string): SqlBody {
  if (raw.length === 0) throw new SqlError(400, 4000, "SQLParseException", "Missing request body");
  const cantParse = new SqlError(
    400,
    4000,
    "SQLParseException",
    `Can't parse [${raw}]. Expecting payload with \`stmt\` string and \`args\` or \`bulk_args\` arrays`,
  );
  let doc: JsonValue;
  try {
    doc = parseJsonPrefix(raw);
  } catch {
    throw cantParse;
  }
  if (Array.isArray(doc)) throw sourceError("Field [stmt] is missing");
  if (!(doc instanceof Map)) throw cantParse;
  let stmt: string | undefined;
  let args: JsonValue[] | undefined;
  let bulk: JsonValue[][] | undefined;
  for (const [key, v] of doc) {
    if (key === "stmt") {
      if (typeof v === "string") {
        if (v === "") throw sourceError("Field [stmt] has no value");
        stmt = v;
      } else if (typeof v === "boolean" || v instanceof JsonNumber) {
        stmt = stringify(v);
      } else {
        throw sourceError("Field [stmt] has an invalid value");
      }
    } else if (key === "args") {
      if (!Array.isArray(v)) throw sourceError(`\`args\` must start with an array, not \`${jacksonToken(v)}\``);
      args = v;
    } else if (key === "bulk_args") {
      if (!Array.isArray(v)) throw sourceError("Field [bulk_args] has an invalid value");
      for (const item of v) {
        if (!Array.isArray(item)) {
          throw sourceError(`\`bulk_args\` must contain a list of \`args\` (values list). Got unexpected: ${jacksonToken(item)}`);
        }
      }
      bulk = v as JsonValue[][];
    } else {
      throw cantParse;
    }
  }
  if (stmt === undefined) throw sourceError("Field [stmt] is missing");
  if (args && args.length > 0 && bulk && bulk.length > 0) {
    throw new SqlError(400, 4000, "SQLParseException", "request body contains args and bulk_args. It's forbidden to provide both");
  }
  return { stmt, args: args ?? [], bulk: args ? undefined : bulk };
}

/** Peek at the statement text for fault matching (undefined when the body is not valid). */
export function statementOf(raw: string): string | undefined {
  try {
    return parseSqlBody(raw).stmt;
  } catch {
    return undefined;
  }
}

/** Java-float-like milliseconds: always has a decimal point, e.g. `0.123` or `2.0`. */
function duration(startMs: number): JsonNumber {
  const ms = Math.max(performance.now() - startMs, 0.001);
  const text = String(Math.round(ms * 1e6) / 1e6);
  return new JsonNumber(text.includes(".") ? text : text + ".0");
}

export function handleSql(req: SqlRequest): Reply {
  const start = performance.now();
  const types = queryFlag(req.url, "types");
  try {
    const body = parseSqlBody(req.body);
    const endJob = req.job?.(body.stmt);
    try {
      return jsonReply(200, run(body, req, types, start));
    } finally {
      endJob?.();
    }
  } catch (e) {
    const err = e instanceof SqlError ? e : new SqlError(500, 5000, e instanceof Error ? e.name : "Exception", String(e));
    return errorReply(err, queryFlag(req.url, "error_trace"));
  }
}

/** The JSON text of a successful answer (or a thrown `SqlError`). */
function run(body: SqlBody, req: SqlRequest, types: boolean, start: number): string {
  if (body.bulk) {
    if (body.bulk.length === 0) return `{"cols":[],"duration":${duration(start).text},"results":[]}`;
    const stmt = parseSql(body.stmt);
    if (returnsRows(stmt)) {
      throw new SqlError(400, 4004, "UnsupportedFeatureException", "Bulk operations for statements that return result sets is not supported");
    }
    let errorsShown = 0;
    const results = body.bulk.map((args) => {
      try {
        const r = execute(stmt, args, req.session, req.db);
        return { rowcount: r.kind === "count" ? r.rowcount : r.rows.length };
      } catch (e) {
        if (!(e instanceof SqlError) || !e.perItem) throw e;
        // ShardingUpsertExecutor.BULK_RESPONSE_MAX_ERRORS_PER_SHARD: only the first 10 failures carry `error`.
        return ++errorsShown <= 10 ? { rowcount: -2, error: { code: e.code, message: e.message } } : { rowcount: -2 };
      }
    });
    return stringify({ cols: [], duration: duration(start), results });
  }
  const result = execute(parseSql(body.stmt), body.args, req.session, req.db);
  return resultJson(result, types, duration(start));
}

function resultJson(r: SqlResult, types: boolean, d: JsonNumber): string {
  if (r.kind === "rows") {
    const head = `{"cols":${stringify(r.cols)}${types ? `,"col_types":${stringify(r.colTypes)}` : ""}`;
    return `${head},"rows":${rowsJson(r.rows)},"rowcount":${r.rows.length},"duration":${d.text}}`;
  }
  return stringify({ cols: [], col_types: types ? [] : undefined, rows: [[]], rowcount: r.rowcount, duration: d });
}

/** `stringify(rows)` without the garbage of one array per row (a million-row answer stays quick). */
function rowsJson(rows: JsonValue[][]): string {
  let out = "[";
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as JsonValue[];
    out += i === 0 ? "[" : ",[";
    for (let j = 0; j < row.length; j++) {
      const v = row[j] as JsonValue;
      if (j > 0) out += ",";
      out += v instanceof JsonNumber ? v.text : stringify(v);
    }
    out += "]";
  }
  return out + "]";
}

/** The §2.1 envelope: `{"error":{"message":…,"code":…}}` plus `error_trace` last when asked for. */
export function errorReply(err: SqlError, trace: boolean): Reply {
  const json = stringify({ error: { message: err.message, code: err.code }, error_trace: trace ? fakeTrace(err) : undefined });
  return jsonReply(err.status, json);
}

function fakeTrace(err: SqlError): string {
  const pkg = err.exception === "SQLParseSourceException" ? "io.crate.session.parser" : "io.crate.exceptions";
  return [
    `${pkg}.${err.exception}: ${err.detail}`,
    "\tat io.crate.session.Session.quickExec(Session.java:318)",
    "\tat io.crate.rest.action.SqlHttpHandler.handleSQLRequest(SqlHttpHandler.java:206)",
    "\tat io.crate.rest.action.SqlHttpHandler.channelRead0(SqlHttpHandler.java:131)",
    "\tat io.netty.channel.SimpleChannelInboundHandler.channelRead(SimpleChannelInboundHandler.java:99)",
    "\tat io.netty.channel.AbstractChannelHandlerContext.invokeChannelRead(AbstractChannelHandlerContext.java:444)",
    "\tat java.base/java.lang.Thread.run(Thread.java:1583)",
  ].join("\n");
}
