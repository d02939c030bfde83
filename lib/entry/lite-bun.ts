/** `cratedb-fetch/lite` on Bun: the Bun transport of the full entry. */
import { tlsOptions } from "../resolve-tls.js";
import { createLiteConnect, litePlatform, type LiteConnectFunction } from "../lite.js";
import { bunPlatform, bunTransport } from "../runtime/bun.js";

export * from "./lite-surface.js";

/** Connects to CrateDB. See {@link LiteConnectFunction}. */
export const connect: LiteConnectFunction = /* @__PURE__ */ createLiteConnect(/* @__PURE__ */ litePlatform(bunPlatform), bunTransport, [tlsOptions]);
