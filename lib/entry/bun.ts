/** Bun entry: Bun's fetch with its `tls` options, or node:http(s) for pool and keepalive options. */
import { createConnect, type ConnectFunction } from "../connect.js";
import { bunPlatform, bunTransport } from "../runtime/bun.js";

export * from "../index.js";

/** Connects to CrateDB. See {@link ConnectFunction}. */
export const connect: ConnectFunction = /* @__PURE__ */ createConnect(bunPlatform, bunTransport);
