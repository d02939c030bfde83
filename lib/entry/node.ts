/** Node entry: `node:http(s)` transport, or plain fetch when a custom `fetch` is given. */
import { createConnect, type ConnectFunction } from "../connect.js";
import { NodeTransport, nodePlatform } from "../runtime/node.js";
import { FetchTransport } from "../transport.js";

export * from "../index.js";

/** Connects to CrateDB. See {@link ConnectFunction}. */
export const connect: ConnectFunction = /* @__PURE__ */ createConnect(nodePlatform, (o) =>
  o.fetch !== undefined ? new FetchTransport(o.fetch) : new NodeTransport(o));
