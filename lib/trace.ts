/**
 * Tracing without dependencies: the `onQuery` option (every runtime) and Node's diagnostics_channel
 * TracingChannel `cratedb-fetch:query` (where `process.getBuiltinModule` exists: Node, Deno, Bun).
 * Without a listener or subscriber a query pays one check (as mysql2 3.20+ does).
 */
import type { QueryEvent, ResolvedOptions } from "./options.js";

// The event type belongs to the options (the core names it in `onQuery`); re-exported for this layer's users.
export type { QueryEvent } from "./options.js";
import type { Answer } from "./request.js";

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

interface Channel {
  hasSubscribers: boolean;
}
interface TracingChannel {
  hasSubscribers?: boolean;
  start: Channel;
  end: Channel;
  asyncStart: Channel;
  asyncEnd: Channel;
  error: Channel;
  tracePromise<T>(fn: () => Promise<T>, context: object): Promise<T>;
}

let channel: TracingChannel | null | undefined;

/** The channel, loaded once; null where the runtime has none (browsers, workerd without nodejs_compat). */
function tracingChannel(): TracingChannel | null {
  if (channel !== undefined) return channel;
  channel = null;
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const dc = proc?.getBuiltinModule?.("node:diagnostics_channel") as { tracingChannel?: (name: string) => TracingChannel } | undefined;
    if (typeof dc?.tracingChannel === "function") channel = dc.tracingChannel("cratedb-fetch:query");
  } catch {
    // no diagnostics_channel here
  }
  return channel;
}

function subscribed(ch: TracingChannel): boolean {
  // TracingChannel#hasSubscribers is Node 20.13+/22+; older ones ask each channel.
  return ch.hasSubscribers ?? (ch.start.hasSubscribers || ch.end.hasSubscribers || ch.asyncStart.hasSubscribers ||
    ch.asyncEnd.hasSubscribers || ch.error.hasSubscribers);
}

/**
 * @internal True when an `onQuery` listener or a channel subscriber wants this query: otherwise callers skip
 * {@link traced} altogether (no closures, no extra promise per query).
 */
export function isTraced(options: ResolvedOptions): boolean {
  if (options.onQuery !== undefined) return true;
  const ch = tracingChannel();
  return ch !== null && subscribed(ch);
}

/**
 * @internal Sends a statement (`send`) and decodes the answer (`decode`), reporting to `onQuery` and the
 * TracingChannel when either listens; otherwise it is `send().then(decode)`.
 */
export function traced<T extends { rowcount: number; duration: number }>(options: ResolvedOptions, statement: string,
  argsCount: number, bulkSize: number | undefined, send: () => Promise<Answer>, decode: (answer: Answer) => T | Promise<T>): Promise<T> {
  const ch = tracingChannel();
  const onQuery = options.onQuery;
  const traceIt = ch !== null && subscribed(ch);
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
