/**
 * A feature module loaded on first use through `import()`, so that a splitting bundler (and dist/) puts
 * it in a chunk of its own that an app fetches only when it uses the feature. Once loaded, `now` gives
 * the module synchronously: a hot path pays no promise for a layer it already has.
 */
import { waitAtMost } from "./deadline.js";
import { ConnectionError, InterfaceError } from "./errors.js";

export interface Lazy<M> {
  /** The module, once loaded; undefined before. */
  readonly now: M | undefined;
  /** Loads the module (once; later calls share the first load). */
  load(): Promise<M>;
  /**
   * The module for a call that is about to send a request: the load is part of the call, so it holds the
   * call's deadline `ms` (rejects with the "timed out" `ConnectionError`, nothing sent) and `signal`
   * (rejects with its reason at once), and a load that fails (a chunk the browser could not fetch) rejects
   * with an `InterfaceError` saying so, nothing sent.
   */
  within(ms: number | undefined, signal: AbortSignal | undefined): Promise<M>;
}

/**
 * `load` must be `() => import("./literal.js")`: bundlers split only at a literal specifier. `what` names
 * the layer in errors ("cancellation").
 */
export function lazy<M>(load: () => Promise<M>, what: string): Lazy<M> {
  let loading: Promise<M> | undefined;
  const lz: Lazy<M> & { now: M | undefined } = {
    now: undefined,
    load: () => (loading ??= load().then((m) => (lz.now = m))),
    within: async (ms, signal) => {
      if (lz.now !== undefined) return lz.now;
      let failure: { err: unknown } | undefined;
      // The one timer-and-abort mechanism of the request loop (deadline.ts): ends at ms, rejects on abort.
      await waitAtMost(lz.load().then(() => undefined, (err: unknown) => void (failure = { err })), ms, signal);
      if (lz.now !== undefined) return lz.now;
      if (failure === undefined) {
        throw new ConnectionError(`Request timed out after ${ms} ms while cratedb-fetch's ${what} module was loading: it was not sent`);
      }
      // A failed import() is cached by the runtime: later calls fail alike (a page reload fetches it again).
      const why = failure.err instanceof Error ? failure.err.message : String(failure.err);
      throw new InterfaceError(`Could not load cratedb-fetch's ${what} module (${why}): the request was not sent`, { cause: failure.err });
    },
  };
  return lz;
}
