/**
 * Bun: the `node:http(s)` transport inside Bun by default. Bun's own fetch is faster but pools
 * connections process-wide, and CrateDB keeps a session per HTTP connection (`Default-Schema` is
 * applied only when it starts, `SET` persists on it): Connections sharing sockets would mix schemas
 * and session settings, and close() could not release them. Bun's node:http gives every Connection
 * an Agent of its own. Only `sslRelaxMinimumVersion` uses Bun's fetch (`tls.minVersion`, numeric),
 * because Bun's node:https (BoringSSL) cannot lower the security level for TLS 1.0/1.1.
 */
import { readFileSync } from "node:fs";
import type { Platform, ResolvedOptions } from "../options.js";
import { FetchTransport, type Transport } from "../transport.js";
import { PinnedTransport } from "../http1.js";
import { NodeTransport } from "./node.js";
import { nodeSocketOpener } from "./node-socket.js";

const TLS1_0 = 0x0301;

export const bunPlatform: Platform = {
  name: `Bun ${(globalThis as unknown as { Bun: { version: string } }).Bun.version}`,
  readFile: (path) => readFileSync(path, "utf8"),
  unsupported(option, o) {
    if (o.fetch !== undefined && option !== "discover") return "with a custom 'fetch', TLS and socket options belong to that fetch";
    if (option === "socketTcpKeepintvl" || option === "socketTcpKeepcnt") {
      return "Bun cannot set the TCP keepalive probe interval or count (socketTcpKeepidle works)";
    }
    if (o.sslRelaxMinimumVersion && (option === "poolSize" || option === "socketKeepalive" || option === "socketTcpKeepidle")) {
      return "with sslRelaxMinimumVersion Bun's fetch is used, which has no pool or keepalive options";
    }
    return undefined;
  },
};

export function bunTransport(o: ResolvedOptions): Transport {
  if (o.fetch !== undefined) return new FetchTransport(o.fetch);
  if (!o.sslRelaxMinimumVersion) return new NodeTransport(o);
  const tls: Record<string, unknown> = { minVersion: TLS1_0 };
  if (o.caCert !== undefined) tls.ca = o.caCert;
  if (o.certFile !== undefined) tls.cert = o.certFile;
  if (o.keyFile !== undefined) tls.key = o.keyFile;
  if (!o.verifySslCert) tls.rejectUnauthorized = false;
  return new FetchTransport(undefined, { init: { tls }, pin: () => new PinnedTransport(nodeSocketOpener(o)) });
}
