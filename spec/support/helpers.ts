/** Small runtime-agnostic helpers shared by the specs. */
import { expect } from "chai";
import { leakCheckEveryTest } from "./leaks.js";

export { keepsSockets } from "./leaks.js";

// Every spec ends with the harness's leak check (sockets, cursors, signal listeners, sessions).
leakCheckEveryTest();

/** The runtime the specs run in (detection order from docs/runtimes.md §7). */
export const runtime: "deno" | "bun" | "workerd" | "browser" | "node" = (() => {
  const g = globalThis as Record<string, unknown>;
  if (g.Deno !== undefined) return "deno";
  if (g.Bun !== undefined) return "bun";
  if ((g.navigator as { userAgent?: string } | undefined)?.userAgent === "Cloudflare-Workers") return "workerd";
  if (g.window !== undefined) return "browser";
  return "node";
})();

/**
 * Marks the running test as not applicable on this runtime (reported apart, never as passed).
 * Call as `notApplicable(this, "why")` from a `function () {}` test body or `beforeEach` hook.
 */
export function notApplicable(ctx: Mocha.Context, reason: string): never {
  // In a hook, `ctx.test` is the hook itself and the test it runs for is `ctx.currentTest`.
  const runnable = ctx.test as (Mocha.Runnable & { type?: string }) | undefined;
  const test = (runnable?.type === "hook" ? ctx.currentTest : runnable) as (Mocha.Runnable & { notApplicable?: string }) | undefined;
  if (test) test.notApplicable = `not applicable on ${runtime}: ${reason}`;
  ctx.skip();
}

/**
 * The real reverse proxy the specs run behind (the proxy lane sets CRATEDB_FETCH_PROXY), else undefined.
 * Read like the control URL: `process.env` where there is one; the proxy lane runs only in Node.
 */
export const proxy: "nginx" | "haproxy" | undefined = (() => {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.["CRATEDB_FETCH_PROXY"];
  return value === "nginx" || value === "haproxy" ? value : undefined;
})();

/**
 * Behind a real proxy (the proxy lane), marks the running test as not applicable behind it when `reason`
 * (per proxy, or one for both) applies; else does nothing. Reported apart, never as passed.
 */
export function notApplicableBehindProxy(ctx: Mocha.Context, reasons: string | Partial<Record<"nginx" | "haproxy", string>>): void {
  if (proxy === undefined) return;
  const reason = typeof reasons === "string" ? reasons : reasons[proxy];
  if (reason === undefined) return;
  const runnable = ctx.test as (Mocha.Runnable & { type?: string }) | undefined;
  const test = (runnable?.type === "hook" ? ctx.currentTest : runnable) as (Mocha.Runnable & { notApplicable?: string }) | undefined;
  if (test) test.notApplicable = `not applicable behind ${proxy}: ${reason}`;
  ctx.skip();
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** Awaits a promise that must reject with an instance of `cls` whose message matches `re`. */
export async function expectReject<E extends Error>(p: Promise<unknown> | (() => Promise<unknown>), cls: ErrorClass, re?: RegExp): Promise<E> {
  let value: unknown;
  try {
    value = await (typeof p === "function" ? p() : p);
  } catch (err) {
    expect(err, `expected a ${cls.name}, got ${String(err)}`).to.be.instanceOf(cls);
    if (re) expect((err as Error).message).to.match(re);
    return err as E;
  }
  throw new Error(`expected a rejection with ${cls.name}, but it resolved with ${JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`);
}

/** Calls a function that must throw an instance of `cls` (synchronously) whose message matches `re`. */
export function expectThrow<E extends Error>(fn: () => unknown, cls: ErrorClass, re?: RegExp): E {
  try {
    fn();
  } catch (err) {
    expect(err, `expected a ${cls.name}, got ${String(err)}`).to.be.instanceOf(cls);
    if (re) expect((err as Error).message).to.match(re);
    return err as E;
  }
  throw new Error(`expected ${cls.name} to be thrown`);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Decodes a Basic header value. */
export function decodeBasic(header: string | undefined): string | undefined {
  if (header === undefined || !header.startsWith("Basic ")) return undefined;
  const bin = atob(header.slice(6));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}
