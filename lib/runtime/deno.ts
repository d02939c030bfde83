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
import { InterfaceError, NotSupportedError } from "../errors.js";
import type { Platform, ResolvedOptions } from "../options.js";
import { FetchTransport, type Transport, type TransportRequest, type TransportResponse } from "../transport.js";
import { NodeTransport } from "./node.js";
import { nodeSessions } from "./sessions.js";

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

/** True when Deno's permission check refused (NotCapable since Deno 2, PermissionDenied before), anywhere in a cause chain. */
function deniedByDeno(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === "object" && depth < 4; depth++) {
    const name = (e as { name?: unknown }).name;
    if (name === "NotCapable" || name === "PermissionDenied") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/**
 * Says which permission is missing when Deno refuses a connection (`--allow-net`): nothing was sent,
 * and another server or a retry cannot help, so it is a NotSupportedError the request loop passes on
 * at once (never "may have been executed", never a failover).
 */
function permissionError(err: unknown, href: string): unknown {
  if (!deniedByDeno(err)) return err;
  const url = new URL(href);
  const target = `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
  return new NotSupportedError(`Deno denied network access to ${target} (nothing was sent): run with --allow-net=${target}, ` +
    "or a --allow-net list that includes it (127.0.0.1 does not cover localhost)", { server: url.origin, cause: err });
}

/** A transport (and its sessions' transports) whose permission failures name the missing permission. */
class PermissionAwareTransport implements Transport {
  readonly pin?: () => Transport;
  constructor(private readonly inner: Transport) {
    const pin = inner.pin?.bind(inner);
    if (pin !== undefined) this.pin = () => new PermissionAwareTransport(pin());
  }

  request(req: TransportRequest): Promise<TransportResponse> {
    return this.inner.request(req).catch((err: unknown) => {
      throw permissionError(err, req.url);
    });
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export function denoTransport(o: ResolvedOptions): Transport {
  return new PermissionAwareTransport(baseTransport(o));
}

function baseTransport(o: ResolvedOptions): Transport {
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
