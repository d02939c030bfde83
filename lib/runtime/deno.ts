/**
 * Deno: fetch with `Deno.createHttpClient({ caCerts, cert, key, poolMaxIdlePerHost })`. Deno's fetch
 * cannot disable verification or tune TCP keepalive, so those options use the `node:https` transport
 * inside Deno (docs/runtimes.md §3). Deno's TLS (rustls) has no TLS 1.0/1.1 at all.
 *
 * Every Connection gets its own HttpClient, so its own connection pool: CrateDB keeps a session per
 * HTTP connection and applies `Default-Schema` only when it starts, so sharing the global pool with
 * other Connections would mix schemas and session settings; and close() can then release sockets.
 *
 * Deno's HTTP client (hyper) re-sends a request by itself, once, when a *reused* pooled connection
 * breaks before the response head — a POST included. That would run a write twice, so requests that
 * are not idempotent go through a second client that never reuses a connection (hyper does not
 * retry on a fresh one); reads keep the pooled client. The node:http path gets the same treatment.
 */
import { InterfaceError } from "../errors.js";
import type { Platform, ResolvedOptions } from "../options.js";
import { FetchTransport, type Transport } from "../transport.js";
import { NodeTransport } from "./node.js";
import { nodeSessions } from "./node-socket.js";

interface DenoHttpClient { close(): void }
interface DenoApi {
  version: { deno: string };
  readTextFileSync(path: string): string;
  createHttpClient(options: Record<string, unknown>): DenoHttpClient;
}
const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

export const denoPlatform: Platform = {
  name: `Deno ${Deno.version.deno}`,
  readFile: (path) => Deno.readTextFileSync(path),
  unsupported(option, o) {
    if (o.fetch !== undefined && option !== "discover") return "with a custom 'fetch', TLS and socket options belong to that fetch";
    if (option === "socketTcpKeepintvl" || option === "socketTcpKeepcnt") {
      return "Deno cannot set the TCP keepalive probe interval or count (socketTcpKeepidle works)";
    }
    if (option === "sslRelaxMinimumVersion") return "Deno's TLS implementation (rustls) supports only TLS 1.2 and 1.3";
    return undefined;
  },
};

/** True when an option needs the node:https path because Deno's fetch cannot honour it. */
function needsNodePath(o: ResolvedOptions): boolean {
  // poolMaxIdlePerHost only caps idle connections; node:http's Agent caps them all.
  return !o.verifySslCert || o.socketTcpKeepidle !== undefined || o.poolSize !== undefined;
}

export function denoTransport(o: ResolvedOptions): Transport {
  if (o.fetch !== undefined) return new FetchTransport(o.fetch);
  if (needsNodePath(o)) return new NodeTransport(o, { freshSocketsForWrites: true });
  const client: Record<string, unknown> = {};
  if (o.caCert !== undefined) client.caCerts = [o.caCert];
  if (o.certFile !== undefined) client.cert = o.certFile;
  if (o.keyFile !== undefined) client.key = o.keyFile;
  let reads: DenoHttpClient;
  let writes: DenoHttpClient;
  try {
    // Idle pooled connections close after 4 s, as on Node: before a proxy's idle timeout resets them.
    reads = Deno.createHttpClient({ ...client, poolIdleTimeout: 4_000 });
    writes = Deno.createHttpClient({ ...client, poolMaxIdlePerHost: 0 });
  } catch (err) {
    throw new InterfaceError(`Invalid TLS material in caCert/certFile/keyFile: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return new FetchTransport(undefined, {
    init: { client: reads }, initForWrites: { client: writes },
    // Deno's fetch cannot pin a request to a connection: sessions use node:net/node:tls sockets.
    pin: nodeSessions(o),
    onClose: () => {
      reads.close();
      writes.close();
    },
  });
}
