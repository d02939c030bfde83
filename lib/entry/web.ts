/** Web entry (browsers, Cloudflare Workers, any fetch runtime): plain fetch. */
import { createConnect, type ConnectFunction } from "../connect.js";
import { webPlatform } from "../runtime/web.js";
import { FetchTransport } from "../transport.js";

export * from "../index.js";

/** Connects to CrateDB. See {@link ConnectFunction}. */
export const connect: ConnectFunction = createConnect(webPlatform, (o) => new FetchTransport(o.fetch));
