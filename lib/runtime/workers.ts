/**
 * Session sockets on Cloudflare Workers: `connect()` from `cloudflare:sockets` (TCP, TLS with
 * `secureTransport: "on"`), speaking HTTP/1.1 through `PinnedTransport`. Certificates are verified
 * by the platform; there are no TLS options to pass, as with fetch in Workers.
 */
import type { ByteSocket } from "../http1-parse.js";
import type { SocketOpener } from "../http1.js";
import { TransportError } from "../transport.js";

/** The part of `cloudflare:sockets` used here. */
export interface WorkersSocket {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
  opened: Promise<unknown>;
  close(): Promise<void>;
}
export type WorkersConnect = (address: { hostname: string; port: number }, options: { secureTransport: "on" | "off"; allowHalfOpen: boolean }) => WorkersSocket;

/** Opens session sockets; an abort of `signal` before the socket is open closes it (code `ECONNECT`). */
export function workersSocketOpener(connect: WorkersConnect): SocketOpener {
  return async (url, signal) => {
    const gaveUp = (): TransportError => new TransportError(`gave up while connecting to ${url.host}`, false, "ECONNECT", signal?.reason);
    if (signal?.aborted) throw gaveUp();
    const secure = url.protocol === "https:";
    const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
    let socket: WorkersSocket | undefined;
    let onAbort: (() => void) | undefined;
    try {
      socket = connect({ hostname, port }, { secureTransport: secure ? "on" : "off", allowHalfOpen: false });
      const opening = socket;
      await new Promise<unknown>((resolve, reject) => {
        onAbort = () => {
          void opening.close().catch(() => undefined);
          reject(gaveUp());
        };
        signal?.addEventListener("abort", onAbort, { once: true });
        opening.opened.then(resolve, reject);
      });
    } catch (err) {
      if (err instanceof TransportError) throw err;
      void socket?.close().catch(() => undefined);
      throw new TransportError(`could not connect: ${err instanceof Error ? err.message : String(err)}`, false, "ECONNREFUSED", err);
    } finally {
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    }
    const reader = socket.readable.getReader();
    const writer = socket.writable.getWriter();
    let closed = false;
    const broken = (err: unknown): TransportError =>
      new TransportError(err instanceof Error ? err.message : String(err), true, "ECONNRESET", err);
    const bytes: ByteSocket = {
      async read() {
        try {
          const r = await reader.read();
          return r.done ? null : r.value;
        } catch (err) {
          if (closed) return null;
          throw broken(err);
        }
      },
      async write(data) {
        try {
          await writer.write(data);
        } catch (err) {
          throw broken(err);
        }
      },
      close() {
        if (closed) return;
        closed = true;
        void socket.close().catch(() => undefined);
      },
    };
    return bytes;
  };
}
