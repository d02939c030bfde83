/**
 * Whether a query is traced: an `onQuery` listener, or a subscriber of Node's diagnostics_channel
 * TracingChannel `cratedb-fetch:query` (where `process.getBuiltinModule` exists: Node, Deno, Bun).
 * Without either a query pays this one check (as mysql2 3.20+ does) and never loads trace.ts, which is
 * handed the channel found here (so that its chunk shares no module with the initial load).
 */
interface Channel {
  hasSubscribers: boolean;
}
export interface TracingChannel {
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
 * @internal The TracingChannel when it has subscribers, else null. With no `onQuery` either, callers
 * skip tracing altogether (no closures, no extra promise per query, trace.ts never loaded).
 */
export function activeChannel(): TracingChannel | null {
  const ch = tracingChannel();
  return ch !== null && subscribed(ch) ? ch : null;
}
