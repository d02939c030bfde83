/**
 * The `pin()` of the Node, Bun and Deno transports, with what a session runs on (node-socket.ts and
 * HTTP/1.1 in http1.ts) loaded (a chunk of its own) by the first request of the first session: an app
 * without sessions or streams never loads it.
 */
import { waitAtMost } from "../deadline.js";
import { lazy } from "../lazy.js";
import type { TlsSocketOptions } from "../options.js";
import { TransportError, type Transport, type TransportRequest, type TransportResponse } from "../transport.js";

const sockets = /* @__PURE__ */ lazy(() => import("./node-socket.js"), "session socket");

/** Each session on a socket of its own. */
export function nodeSessions(o: TlsSocketOptions): () => Transport {
  let pin: (() => Transport) | undefined;
  const make = async (): Promise<Transport> => (pin ??= (sockets.now ?? (await sockets.load())).pinnedOnSockets(o))();
  return () => new LazyPinned(make);
}

/** A session's transport, made with its first request; closing it before closes what it made. */
class LazyPinned implements Transport {
  private inner: Promise<Transport> | undefined;
  /** The transport, once made: later requests go straight to it. */
  private ready: Transport | undefined;
  private closed = false;

  constructor(private readonly make: () => Promise<Transport>) {}

  request(req: TransportRequest): Promise<TransportResponse> {
    if (this.ready !== undefined) return this.ready.request(req);
    const inner = (this.inner ??= this.make().then(async (t) => {
      if (this.closed) await t.close();
      this.ready = t;
      return t;
    }));
    if (req.signal === undefined) return inner.then((t) => t.request(req));
    // The request's deadline and signal hold while the socket module loads (deadline.ts's one wait): nothing was
    // sent then.
    return waitAtMost(inner.then(() => undefined, () => undefined), undefined, req.signal).then(() => inner.then((t) => t.request(req)), () => {
      throw new TransportError("aborted before it was sent (the session's socket module was loading)", false, "ELOADING");
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.inner !== undefined) await (await this.inner).close();
  }
}
