/** `cratedb-fetch/lite` on Deno: the Deno transport of the full entry (its own HTTP clients, closed at close). */
import { tlsOptions } from "../resolve-tls.js";
import { createLiteConnect, litePlatform, type LiteConnectFunction } from "../lite.js";
import { denoPlatform, denoTransport } from "../runtime/deno.js";

export * from "./lite-surface.js";

/** Connects to CrateDB. See {@link LiteConnectFunction}. */
export const connect: LiteConnectFunction = /* @__PURE__ */ createLiteConnect(/* @__PURE__ */ litePlatform(denoPlatform), denoTransport, [tlsOptions]);
