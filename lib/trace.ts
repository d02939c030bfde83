/**
 * Tracing without dependencies: the `onQuery` option (every runtime) and Node's diagnostics_channel
 * TracingChannel `cratedb-fetch:query`. Loaded (a chunk of its own) only once a query is traced:
 * trace-gate.ts tells, and an untraced query pays that one check.
 */
import type { QueryEvent, ResolvedOptions } from "./options.js";

// The event type belongs to the options (the core names it in `onQuery`); re-exported for this layer's users.
export type { QueryEvent } from "./options.js";
import type { Answer } from "./request.js";
import type { TracingChannel } from "./trace-gate.js";

/** The context object published on the `cratedb-fetch:query` TracingChannel (tracePromise adds `result`/`error`). */
export interface QueryTraceContext {
  statement: string;
  /** Number of parameters (0 for a bulk). */
  argsCount: number;
  /** The server that answered; set before `asyncStart`/`asyncEnd`, undefined at `start`. */
  server: string | undefined;
  /** The `schema` option (sent as Default-Schema). */
  schema: string | undefined;
  /** Rows of bulk arguments, for `bulk()`; undefined for `query()`. */
  bulkSize: number | undefined;
  result?: unknown;
  error?: unknown;
}

/**
 * @internal Sends a statement (`send`) and decodes the answer (`decode`), reporting to `onQuery` and to
 * `ch` (the TracingChannel, when it has subscribers: trace-gate.ts); otherwise it is `send().then(decode)`.
 */
export function traced<T extends { rowcount: number; duration: number }>(options: ResolvedOptions, ch: TracingChannel | null, statement: string,
  argsCount: number, bulkSize: number | undefined, send: () => Promise<Answer>, decode: (answer: Answer) => T | Promise<T>): Promise<T> {
  const onQuery = options.onQuery;
  const traceIt = ch !== null;
  if (onQuery === undefined && !traceIt) return send().then(decode);
  const context: QueryTraceContext = { statement, argsCount, server: undefined, schema: options.schema, bulkSize };
  let answer: Answer | undefined;
  const run = async (): Promise<T> => {
    answer = await send();
    context.server = answer.server;
    return decode(answer);
  };
  const started = performance.now();
  const p = traceIt ? (ch as TracingChannel).tracePromise(run, context) : run();
  if (onQuery === undefined) return p;
  const report = (result: T | undefined, error: Error | undefined): void => {
    const event: QueryEvent = {
      statement, server: answer?.server ?? (error as { server?: string } | undefined)?.server, durationMs: performance.now() - started,
      serverDurationMs: result?.duration, rowcount: result?.rowcount, error, attempt: answer?.attempt,
    };
    try {
      onQuery(event);
    } catch {
      // A failing listener must not change the query's outcome.
    }
  };
  return p.then((result) => (report(result, undefined), result), (err: unknown) => {
    report(undefined, err instanceof Error ? err : new Error(String(err)));
    throw err;
  });
}
