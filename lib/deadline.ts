/** Time in the request loop: the per-attempt deadline, the backoff between attempts. */
import { TransportError } from "./transport.js";

const MAX_BACKOFF = 120_000;

/** The abort reason of an attempt whose deadline expired (told apart from the caller's own abort). */
export class Timeout {
  constructor(readonly ms: number) {}
}

/**
 * Waits for `ready` (a layer still loading; none: a plain sleep) for at most `ms`: true when it settled, false
 * when the time ran out first (told by the timer, not by comparing clocks: a timer may fire a little before
 * `Date.now()` says the time is up); rejects with the signal's reason when it aborts first. A request's deadline
 * and signal hold from the call, waits included.
 */
export function waitAtMost(ready: Promise<void> | undefined, ms: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
  if (ready !== undefined && ms === undefined && signal === undefined) return ready.then(() => true);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    const onAbort = (): void => {
      done();
      reject(signal?.reason);
    };
    const timer = ms === undefined ? undefined : setTimeout(() => {
      done();
      resolve(false);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
    const go = (): void => {
      done();
      resolve(true);
    };
    ready?.then(go, go);
  });
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return waitAtMost(undefined, ms, signal);
}

/** The delay before retry number `n` (1-based): 0, f, 2f, 4f, … capped at 120 s. */
export function backoffDelay(n: number, factor: number): number {
  if (n <= 1 || factor <= 0) return 0;
  return Math.min(factor * 2 ** (n - 2), MAX_BACKOFF);
}

/**
 * Runs one exchange under the caller's signal and a deadline of `ms` (if any), `left` of which remain (an
 * attempt's deadline holds from the call: across its redirect hops, and from before a wait for a layer). An
 * expiry rejects with a TransportError whose cause is a Timeout of `ms`: `sent` as the transport said (a
 * transport that cannot tell, fetch, counts as sent, so that a write is never re-sent), `EQUEUED` when it
 * never left the queue, `ELOADING` when it waited for a session's socket module (runtime/sessions.ts).
 */
export async function withDeadline<T>(ms: number | undefined, caller: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>,
  left: number | undefined = ms): Promise<T> {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(caller?.reason);
  caller?.addEventListener("abort", onAbort, { once: true });
  const timer = ms === undefined ? undefined : setTimeout(() => controller.abort(new Timeout(ms)), Math.max(0, left ?? ms));
  try {
    return await run(controller.signal);
  } catch (err) {
    if (controller.signal.aborted && controller.signal.reason instanceof Timeout) {
      const sent = err instanceof TransportError ? err.sent : true;
      const code = err instanceof TransportError && (err.code === "EQUEUED" || err.code === "ELOADING") ? err.code : "ETIMEDOUT";
      throw new TransportError("timed out", sent, code, controller.signal.reason);
    }
    throw err;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
    caller?.removeEventListener("abort", onAbort);
  }
}
