/**
 * `cratedb-fetch/lite` for browsers, Cloudflare Workers and any fetch runtime: `connect()` with `query()`
 * and `bulk()` on the thin core and plain fetch. The same option names and error classes as the full
 * entry; what needs a layer of the full entry is refused with `NotSupportedError` at `connect()`.
 */
import { createLiteConnect, litePlatform, type LiteConnectFunction } from "../lite.js";
import { FetchTransport } from "../transport.js";

export * from "./lite-surface.js";

/** Connects to CrateDB. See {@link LiteConnectFunction}. */
export const connect: LiteConnectFunction = /* @__PURE__ */ createLiteConnect(/* @__PURE__ */ litePlatform(), (o) => new FetchTransport(o.fetch));
