/**
 * What runs a stream's server-side cursor (see stream.ts): `DECLARE`, `FETCH` with one batch fetched
 * ahead, `CLOSE` (retried), and the release of the stream's session. Loaded (a chunk of its own) when
 * a stream is first iterated.
 */
import type { RequestOptions, RowMode } from "./options.js";
import type { SqlResult } from "./result.js";
import type { Runner } from "./runner.js";
import type { ColType } from "./types.js";
import { uuid } from "./uuid.js";

const CLOSE_ATTEMPTS = 3;

/** @internal A session to run a stream on, and what to do with it afterwards. */
export interface StreamHost {
  runner: Runner;
  release(): Promise<void>;
}

/** @internal A stream's state: kept by its RowStream (stream.ts), run here. */
export interface StreamState {
  readonly stmt: string;
  readonly args: unknown[] | undefined;
  readonly batchSize: number;
  readonly opts: RequestOptions;
  readonly open: () => StreamHost;
  /** The server-side cursor's name, once iteration started. */
  name: string;
  host: StreamHost | undefined;
  started: boolean;
  declared: boolean;
  /** The DECLARE or FETCH in flight, settled-safe: closing waits for it before sending CLOSE. */
  pending: Promise<unknown> | undefined;
  /** Why the stream was stopped from outside (an abort, `close()`): the iteration rejects with it. */
  stopped: { error: unknown } | undefined;
  closing: Promise<void> | undefined;
  onAbort: (() => void) | undefined;
  columns: string[];
  types: ColType[];
  count: number;
}

/** The rows of the stream in batches; ends the stream (cursor, session) however the iteration ends. */
export async function* batches<R>(state: StreamState): AsyncGenerator<R[], void, undefined> {
  const { signal } = state.opts;
  try {
    check(state);
    // Ended (`await using`, `return()`) while this module was loading: quietly, as before any request.
    if (state.closing !== undefined) return;
    if (signal !== undefined) {
      // Removed again when the stream ends: a long-lived signal must not collect one per stream.
      const onAbort = (): void => {
        state.stopped ??= { error: signal.reason };
        void finish(state);
      };
      state.onAbort = onAbort;
      signal.addEventListener("abort", onAbort, { once: true });
    }
    state.name = `cratedb_fetch_${uuid().replace(/-/g, "")}`;
    const host = (state.host = state.open());
    const rowMode = state.opts.rowMode ?? host.runner.options.rowMode;
    await send<R>(state, `DECLARE ${state.name} NO SCROLL CURSOR WITH HOLD FOR ${state.stmt}`, state.args, rowMode, true);
    check(state);
    const fetch = `FETCH ${state.batchSize} FROM ${state.name}`;
    let next = send<R>(state, fetch, undefined, rowMode, false);
    for (;;) {
      const res = await next;
      check(state);
      if (state.count === 0 && res.cols.length > 0) {
        state.columns = res.cols;
        state.types = res.colTypes;
      }
      state.count += res.rows.length;
      const more = res.rows.length >= state.batchSize;
      // Fetch the next batch while the consumer handles this one.
      if (more) next = send<R>(state, fetch, undefined, rowMode, false);
      if (res.rows.length > 0) yield res.rows;
      check(state);
      if (!more) break;
    }
  } finally {
    await finish(state);
  }
}

/** Throws why the stream was stopped from outside, if it was. */
function check(state: StreamState): void {
  const { signal } = state.opts;
  if (state.stopped === undefined && signal?.aborted) state.stopped = { error: signal.reason };
  if (state.stopped !== undefined) throw state.stopped.error;
}

/** Sends one statement of the stream through the session's `query()` (so it is traced like any query). */
function send<R>(state: StreamState, stmt: string, args: unknown[] | undefined, rowMode: RowMode, declare: boolean): Promise<SqlResult<R>> {
  const sent = (state.host as StreamHost).runner.query<R>(stmt, args, { ...state.opts, rowMode });
  const done = declare ? sent.then((res) => ((state.declared = true), res)) : sent;
  // A prefetch may fail before the consumer asks for it: it is handled (rethrown) when awaited.
  state.pending = done.catch(() => undefined);
  return done;
}

/** Ends the stream: waits for a request in flight, closes the cursor, releases the session. Once. */
export function finish(state: StreamState): Promise<void> {
  return (state.closing ??= shutdown(state));
}

async function shutdown(state: StreamState): Promise<void> {
  if (state.onAbort !== undefined) state.opts.signal?.removeEventListener("abort", state.onAbort);
  state.onAbort = undefined;
  const host = state.host;
  if (host === undefined) return;
  try {
    // A DECLARE or FETCH still running would answer after CLOSE on another request: wait for it.
    await state.pending;
    if (state.declared) await closeCursor(state, host);
  } finally {
    await host.release();
  }
}

/** CLOSE, retried on a live session; when it still fails the cursor goes with the session, and it is logged. */
async function closeCursor(state: StreamState, host: StreamHost): Promise<void> {
  const runner = host.runner;
  const opts = state.opts.timeout === undefined ? {} : { timeout: state.opts.timeout };
  for (let attempt = 1; ; attempt++) {
    // A closed or lost session took its cursors with its connection.
    if (runner.closed) return;
    try {
      await runner.query(`CLOSE ${state.name}`, undefined, opts);
      return;
    } catch (err) {
      if (runner.closed) return;
      if (attempt >= CLOSE_ATTEMPTS) {
        const why = runner.options.redactor.redact(err instanceof Error ? err.message : String(err));
        runner.options.logger.warn?.call(runner.options.logger, `stream: CLOSE ${state.name} failed ${attempt} times (${why}); ` +
          "the cursor stays open on the server until its session is closed");
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
    }
  }
}
