/** `connect()` for a platform: resolve options once, pick the transport, no I/O. */
import { Connection } from "./connection.js";
import type { ConnectOptions, Platform, ResolvedOptions } from "./options.js";
import { resolveConnectArgs } from "./resolve.js";
import { featureOptions } from "./resolve-features.js";
import { tlsOptions } from "./resolve-tls.js";
import type { Transport } from "./transport.js";

/** The signature of `connect()`. */
export interface ConnectFunction {
  /**
   * Creates a connection (synchronously, without I/O). Invalid options throw `InterfaceError`;
   * options this runtime cannot honour throw `NotSupportedError`.
   *
   * @example
   * ```ts
   * const conn = connect();                                              // http://localhost:4200
   * const conn = connect("https://user:pw@db.example.com:4200/", { schema: "doc" });
   * const conn = connect(["http://n1:4200", "http://n2:4200"], { username: "crate", timeout: 5000 });
   * const conn = connect({ servers: "n1:4200 n2:4200", username: "crate" });
   * ```
   */
  (servers?: string | readonly string[] | ConnectOptions, options?: ConnectOptions): Connection;
}

/** Builds the `connect()` of an entry file from its platform description and transport factory. */
export function createConnect(platform: Platform, makeTransport: (opts: ResolvedOptions) => Transport): ConnectFunction {
  return function connect(servers?: string | readonly string[] | ConnectOptions, options?: ConnectOptions): Connection {
    const resolved = resolveConnectArgs(servers, options, platform, [tlsOptions, featureOptions]);
    return new Connection(resolved, makeTransport(resolved));
  };
}
