/** Web entry (browsers, Cloudflare Workers, any fetch runtime): plain fetch. */
import { createConnect, type ConnectFunction } from "../connect.js";
import { webPlatform, webTransport } from "../runtime/web.js";

export * from "../index.js";

/** Connects to CrateDB. See {@link ConnectFunction}. */
export const connect: ConnectFunction = /* @__PURE__ */ createConnect(webPlatform, (o) => webTransport(o.fetch));
