/**
 * The options of the full entry's layers (cancellation, compression, discovery, tracing): a layer over the core
 * resolver (resolve.ts) that the full `connect()` passes in. The lite entry leaves it out and refuses them by name.
 */
import { NotSupportedError } from "./errors.js";
import type { OptionLayer, Platform, ResolvedOptions } from "./options.js";
import { bool, fail, num } from "./resolve.js";

/** The default `discover.intervalMs`. */
const DISCOVER_INTERVAL = 60_000;

function discoverOf(v: unknown): { intervalMs: number } | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return { intervalMs: DISCOVER_INTERVAL };
  const got = v === null ? "null" : Array.isArray(v) ? "an array" : typeof v;
  if (v === null || typeof v !== "object" || Array.isArray(v)) fail(`Option 'discover' must be true, false or { intervalMs }, got ${got}`);
  for (const key of Object.keys(v)) if (key !== "intervalMs") fail(`Unknown option 'discover.${key}' (only 'intervalMs')`);
  const ms = (v as { intervalMs?: unknown }).intervalMs;
  if (ms === undefined) return { intervalMs: DISCOVER_INTERVAL };
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
    fail(`Option 'discover.intervalMs' must be a positive number of milliseconds, got ${typeof ms === "number" ? ms : typeof ms}`);
  }
  return { intervalMs: ms };
}

/** The layer. `discover` is also asked of the platform (browsers and Workers cannot reach nodes' addresses). */
export const featureOptions: OptionLayer = {
  keys: ["killOnAbort", "compress", "discover", "onQuery"],
  resolve(o: Record<string, unknown>, r: ResolvedOptions, platform: Platform): void {
    const compress = o.compress;
    if (compress === true) r.compress = 0;
    else if (typeof compress === "number") r.compress = num(o, "compress", { min: 0, integer: true }) ?? 0;
    else if (compress !== undefined && compress !== false) fail(`Option 'compress' must be a boolean or a number of bytes, got ${typeof compress}`);
    if (o.onQuery !== undefined && typeof o.onQuery !== "function") fail("Option 'onQuery' must be a function (event) => void");
    r.onQuery = o.onQuery as ResolvedOptions["onQuery"];
    r.killOnAbort = bool(o, "killOnAbort", true);
    r.discover = discoverOf(o.discover);
    if (r.discover !== undefined) {
      const why = platform.unsupported("discover", r);
      if (why !== undefined) throw new NotSupportedError(`Option 'discover' is not supported on ${platform.name}: ${why}`);
    }
  },
};
