/**
 * The leak check after every spec, in the harness rather than in single specs: every `it` is wrapped so that,
 * after its body passed, it also fails when the test left behind
 * - open sockets on the fake clusters (more than when it started; not in workerd and Chromium, whose
 *   platform keeps fetch's sockets after `close()`),
 * - open cursors on the fake clusters (more than when it started),
 * - abort listeners on the signals the spec made (AbortController, AbortSignal.timeout/any) that are still
 *   registered on a signal that did not abort,
 * - sessions made during the test that are not closed.
 * A wrapped `it` runs its body, then polls briefly (sockets close asynchronously) before failing.
 */
import { Connection, type Session } from "cratedb-fetch";

type TestFn = (this: Mocha.Context) => unknown;
const WRAPPED = Symbol.for("cratedb-fetch.leak-checked");
const SETTLE_MS = 2_000;

interface Live {
  signals: Array<WeakRef<AbortSignal>>;
  listeners: WeakMap<AbortSignal, Set<unknown>>;
  sessions: Session[] | undefined;
}

const g = globalThis as typeof globalThis & { [WRAPPED]?: Live; CRATEDB_FETCH_CONTROL?: string };

function controlBase(): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  let url = g.CRATEDB_FETCH_CONTROL ?? env?.["CRATEDB_FETCH_CONTROL"];
  if (url === undefined) {
    try {
      url = (globalThis as { Deno?: { env: { get(n: string): string | undefined } } }).Deno?.env.get("CRATEDB_FETCH_CONTROL");
    } catch {
      url = undefined;
    }
  }
  return url?.replace(/\/+$/, "");
}

async function fakeCounts(): Promise<{ sockets: number; cursors: number } | undefined> {
  const base = controlBase();
  if (base === undefined) return undefined;
  const res = await fetch(`${base}/leaks`);
  return (await res.json()) as { sockets: number; cursors: number };
}

/**
 * True when spec code itself made the signal: the first frame outside this file is a spec's, not the
 * library's (dist/), a runtime's own (node:internal, undici, ext:), or a dependency's (node_modules).
 */
function madeBySpec(): boolean {
  const frames = (new Error().stack ?? "").split("\n").slice(1).filter((f) => /\d:\d+\)?\s*$/.test(f));
  const caller = frames.find((f) => !/madeBySpec|TrackedAbortController|trackSignal|leaks\.(ts|m?js)/.test(f));
  if (caller === undefined) return false;
  return !/[/\\]dist[/\\]|node:|undici|ext:|node_modules|native/.test(caller);
}

/** Patches signals and sessions once per realm; returns the shared state. */
function install(): Live {
  if (g[WRAPPED] !== undefined) return g[WRAPPED];
  const live: Live = { signals: [], listeners: new WeakMap(), sessions: undefined };
  g[WRAPPED] = live;
  const track = function trackSignal(signal: AbortSignal): AbortSignal {
    if (madeBySpec()) {
      live.signals.push(new WeakRef(signal));
      if ((globalThis as { process?: { env?: Record<string, string> } }).process?.env?.LEAK_DEBUG) (signal as unknown as { madeAt?: string }).madeAt = new Error().stack;
    }
    return signal;
  };
  const Base = globalThis.AbortController;
  class TrackedAbortController extends Base {
    constructor() {
      super();
      track(this.signal);
    }
  }
  globalThis.AbortController = TrackedAbortController;
  const statics = AbortSignal as unknown as Record<string, (...a: unknown[]) => AbortSignal>;
  for (const name of ["timeout", "any"]) {
    const original = statics[name];
    if (typeof original === "function") statics[name] = (...a: unknown[]) => track(original.apply(AbortSignal, a));
  }
  const proto = AbortSignal.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const add = proto.addEventListener as (...a: unknown[]) => unknown;
  const remove = proto.removeEventListener as (...a: unknown[]) => unknown;
  proto.addEventListener = function (this: AbortSignal, type: unknown, fn: unknown, ...rest: unknown[]) {
    if (type === "abort" && fn != null) {
      let set = live.listeners.get(this);
      if (set === undefined) live.listeners.set(this, (set = new Set()));
      set.add(fn);
    }
    return add.call(this, type, fn, ...rest);
  };
  proto.removeEventListener = function (this: AbortSignal, type: unknown, fn: unknown, ...rest: unknown[]) {
    if (type === "abort") live.listeners.get(this)?.delete(fn);
    return remove.call(this, type, fn, ...rest);
  };
  const session = Connection.prototype.session;
  Connection.prototype.session = function (this: Connection): Session {
    const s = session.call(this);
    live.sessions?.push(s);
    return s;
  };
  return live;
}

/** Abort listeners on spec-made signals that have not aborted. */
function listenersOnLiveSignals(live: Live): number {
  let n = 0;
  live.signals = live.signals.filter((ref) => ref.deref() !== undefined);
  for (const ref of live.signals) {
    const signal = ref.deref();
    if (signal !== undefined && !signal.aborted) {
      const k = live.listeners.get(signal)?.size ?? 0;
      n += k;
      const at = (signal as unknown as { madeAt?: string }).madeAt;
      if (k > 0 && at !== undefined && !(signal as unknown as { shown?: true }).shown) {
        (signal as unknown as { shown?: true }).shown = true;
        console.log("LEAK signal made at", at.split("\n").slice(0, 8).join("\n"));
      }
    }
  }
  return n;
}

/** workerd and Chromium keep fetch's sockets after close(): their socket counts say nothing about the client. */
const socketsOwnedByPlatform = (): boolean => {
  const nav = (globalThis as { navigator?: { userAgent?: string } }).navigator;
  return nav?.userAgent === "Cloudflare-Workers" || (globalThis as { window?: unknown }).window !== undefined;
};

async function leaksAfter(live: Live, before: { sockets: number; cursors: number; listeners: number } | undefined, sessions: Session[],
  checkSockets: boolean): Promise<string[]> {
  const until = Date.now() + SETTLE_MS;
  for (;;) {
    const found: string[] = [];
    const open = sessions.filter((s) => !s.closed);
    if (open.length > 0) found.push(`${open.length} session(s) made in the test still open`);
    const listeners = listenersOnLiveSignals(live);
    if (before !== undefined && listeners > before.listeners) found.push(`${listeners - before.listeners} abort listener(s) left on the spec's signals`);
    const counts = before === undefined ? undefined : await fakeCounts().catch(() => undefined);
    if (before !== undefined && counts !== undefined) {
      if (checkSockets && counts.cursors > before.cursors) found.push(`${counts.cursors - before.cursors} cursor(s) left open on the fake`);
      if (checkSockets && !socketsOwnedByPlatform() && counts.sockets > before.sockets) found.push(`${counts.sockets - before.sockets} socket(s) left open on the fake`);
    }
    if (found.length === 0 || Date.now() > until) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Declares, from a `beforeEach` or the test, that the test's sockets outlive it on purpose: a connection
 * shared by the suite (closed in `after`), a socket a spec holds itself, or a custom `fetch` whose pool
 * belongs to the runtime. Cursors live on sockets, so they go unchecked too; listeners and sessions are still checked.
 */
export function keepsSockets(ctx: Mocha.Context, reason: string): void {
  const runnable = ctx.test as (Mocha.Runnable & { type?: string }) | undefined;
  const test = (runnable?.type === "hook" ? ctx.currentTest : runnable) as (Mocha.Runnable & { keepsSockets?: string }) | undefined;
  if (test !== undefined) test.keepsSockets = reason;
}

/** Wraps the global `it` (mocha sets it anew for each spec file) so that every test ends with the leak check. */
export function leakCheckEveryTest(): void {
  const mochaIt = (globalThis as { it?: Mocha.TestFunction & { [WRAPPED]?: true } }).it;
  if (mochaIt === undefined || mochaIt[WRAPPED]) return;
  const live = install();
  const wrap = (fn: TestFn | undefined): TestFn | undefined => {
    if (fn === undefined || fn.length > 0) return fn; // callback-style tests keep their own shape
    return async function (this: Mocha.Context) {
      const counts = await fakeCounts().catch(() => undefined);
      const before = { sockets: counts?.sockets ?? 0, cursors: counts?.cursors ?? 0, listeners: listenersOnLiveSignals(live) };
      const sessions: Session[] = [];
      live.sessions = sessions;
      try {
        await fn.call(this);
      } finally {
        live.sessions = undefined;
      }
      const keeps = (this.test as { keepsSockets?: string } | undefined)?.keepsSockets;
      const found = await leaksAfter(live, counts === undefined ? undefined : before, sessions, keeps === undefined);
      if (found.length > 0) throw new Error(`leak check: ${found.join("; ")}`);
    };
  };
  const wrapped = ((title: string, fn?: TestFn) => mochaIt(title, wrap(fn) as Mocha.Func)) as Mocha.TestFunction & { [WRAPPED]?: true };
  wrapped.only = ((title: string, fn?: TestFn) => mochaIt.only(title, wrap(fn) as Mocha.Func)) as Mocha.ExclusiveTestFunction;
  wrapped.skip = mochaIt.skip;
  wrapped.retries = mochaIt.retries;
  wrapped[WRAPPED] = true;
  (globalThis as { it?: unknown }).it = wrapped;
}
