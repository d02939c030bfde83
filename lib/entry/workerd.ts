/** Cloudflare Workers entry: fetch for requests, `cloudflare:sockets` for sessions. */
import { connect as socketConnect } from "cloudflare:sockets";
import { createConnect, type ConnectFunction } from "../connect.js";
import { PinnedTransport } from "../http1.js";
import { webPlatform } from "../runtime/web.js";
import { workersSocketOpener, type WorkersConnect } from "../runtime/workers.js";
import { FetchTransport } from "../transport.js";

export * from "../index.js";

const opener = /* @__PURE__ */ workersSocketOpener(socketConnect as unknown as WorkersConnect);

/** Connects to CrateDB. See {@link ConnectFunction}. */
export const connect: ConnectFunction = /* @__PURE__ */ createConnect(webPlatform, (o) =>
  new FetchTransport(o.fetch, o.fetch === undefined ? { pin: () => new PinnedTransport(opener) } : {}));
