/** `cratedb-fetch/lite` on Node: the Node transport (TLS and socket options, sockets released at close), or a custom `fetch`. */
import { tlsOptions } from "../resolve-tls.js";
import { createLiteConnect, litePlatform, type LiteConnectFunction } from "../lite.js";
import { NodeTransport, nodePlatform } from "../runtime/node.js";
import { FetchTransport } from "../transport.js";

export * from "./lite-surface.js";

/** Connects to CrateDB. See {@link LiteConnectFunction}. */
export const connect: LiteConnectFunction = /* @__PURE__ */ createLiteConnect(/* @__PURE__ */ litePlatform(nodePlatform), (o) =>
  o.fetch !== undefined ? new FetchTransport(o.fetch) : new NodeTransport(o), [tlsOptions]);
