/**
 * The `pin()` of the Node, Bun and Deno transports, with what a session runs on (node-socket.ts and
 * HTTP/1.1 in http1.ts) loaded (a chunk of its own) by the first request of the first session: an app
 * without sessions or streams never loads it.
 */
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
  private closed = false;

  constructor(private readonly make: () => Promise<Transport>) {}

  request(req: TransportRequest): Promise<TransportResponse> {
    this.inner ??= this.make().then(async (t) => {
      if (this.closed) await t.close();
      return t;
    });
    const signal = req.signal;
    if (signal === undefined) return this.inner.then((t) => t.request(req));
    // The request's deadline and signal hold while the socket module loads: nothing was sent then.
    return new Promise<Transport>((resolve, reject) => {
      const onAbort = (): void => reject(new TransportError("aborted before it was sent (the session's socket module was loading)", false, "ELOADING"));
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      (this.inner as Promise<Transport>).then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    }).then((t) => t.request(req));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.inner !== undefined) await (await this.inner).close();
  }
}
