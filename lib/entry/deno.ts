/** Deno entry: fetch with Deno.createHttpClient, or node:https for what Deno's fetch cannot do. */
import { createConnect, type ConnectFunction } from "../connect.js";
import { denoPlatform, denoTransport } from "../runtime/deno.js";

export * from "../index.js";

/** Connects to CrateDB. See {@link ConnectFunction}. */
export const connect: ConnectFunction = /* @__PURE__ */ createConnect(denoPlatform, denoTransport);
