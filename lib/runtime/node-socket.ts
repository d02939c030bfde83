/// <reference types="node" />
/**
 * Session sockets from `node:net`/`node:tls`, used on Node, Bun and Deno (all three implement them):
 * the same TLS and keepalive options as the pooled transport, one socket per session.
 */
import type * as NetModule from "node:net";
import type * as TlsModule from "node:tls";
import type { ByteSocket } from "../http1-parse.js";
import { PinnedTransport, type SocketOpener } from "../http1.js";
import type { TlsSocketOptions } from "../options.js";
import { toTransportError, TransportError, type Transport } from "../transport.js";
import { builtin } from "./node-builtin.js";

const DEFAULT_KEEPIDLE_MS = 60_000;
// Pause the socket when this many bytes wait unread (a slow consumer of a large FETCH).
const HIGH_WATER = 1024 * 1024;

class NodeByteSocket implements ByteSocket {
  private readonly chunks: Uint8Array[] = [];
  private queued = 0;
  private ended = false;
  private error: Error | undefined;
  private waiter: { resolve: (c: Uint8Array | null) => void; reject: (e: Error) => void } | undefined;

  constructor(private readonly socket: NetModule.Socket) {
    socket.on("data", (chunk: Buffer) => {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const w = this.waiter;
      if (w !== undefined) {
        this.waiter = undefined;
        w.resolve(bytes);
        return;
      }
      this.chunks.push(bytes);
      this.queued += bytes.byteLength;
      if (this.queued > HIGH_WATER) socket.pause();
    });
    socket.on("end", () => this.finish(undefined));
    socket.on("close", () => this.finish(undefined));
    socket.on("error", (err) => this.finish(err));
  }

  private finish(err: Error | undefined): void {
    if (err !== undefined && this.error === undefined && !this.ended) this.error = err;
    this.ended = true;
    const w = this.waiter;
    this.waiter = undefined;
    if (w === undefined) return;
    if (this.error !== undefined) w.reject(toTransportError(this.error));
    else w.resolve(null);
  }

  read(): Promise<Uint8Array | null> {
    const next = this.chunks.shift();
    if (next !== undefined) {
      this.queued -= next.byteLength;
      if (this.queued <= HIGH_WATER && this.socket.isPaused()) this.socket.resume();
      return Promise.resolve(next);
    }
    if (this.error !== undefined) return Promise.reject(toTransportError(this.error));
    if (this.ended) return Promise.resolve(null);
    if (this.socket.isPaused()) this.socket.resume();
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  write(data: Uint8Array): Promise<void> {
    if (this.ended) return Promise.reject(new TransportError("connection closed", true, "ECONNRESET"));
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => (err ? reject(toTransportError(err)) : resolve()));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * Opens session sockets with the connection's TLS and keepalive options. An abort of `signal` while
 * the TCP connect or the TLS handshake is unfinished destroys the half-open socket (code `ECONNECT`).
 */
export function nodeSocketOpener(o: TlsSocketOptions): SocketOpener {
  return (url, signal) => new Promise<ByteSocket>((resolve, reject) => {
    const gaveUp = (): TransportError => new TransportError(`gave up while connecting to ${url.host}`, false, "ECONNECT", signal?.reason);
    if (signal?.aborted) return reject(gaveUp());
    const secure = url.protocol === "https:";
    const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
    let socket: NetModule.Socket;
    // The TCP socket under TLS, destroyed by hand too: Deno's and Bun's node:tls keep it open when a
    // TLS socket is destroyed during its handshake.
    let tcp: NetModule.Socket | undefined;
    const settle = (): void => {
      socket.off("error", failed);
      signal?.removeEventListener("abort", aborted);
    };
    const ready = (): void => {
      settle();
      socket.setNoDelay(true);
      if (!o.socketKeepalive) socket.setKeepAlive(false);
      else socket.setKeepAlive(true, o.socketTcpKeepidle ?? DEFAULT_KEEPIDLE_MS);
      resolve(new NodeByteSocket(socket));
    };
    const failed = (err: Error): void => {
      settle();
      socket.destroy();
      tcp?.destroy();
      const te = toTransportError(err);
      // Nothing was sent before the connection (and handshake) completed.
      reject(new TransportError(te.message, false, te.code, err));
    };
    const aborted = (): void => {
      settle();
      socket.on("error", () => undefined); // a late error of the half-open socket has no one to tell
      socket.destroy();
      tcp?.on("error", () => undefined);
      tcp?.destroy();
      reject(gaveUp());
    };
    if (secure) {
      const tls = builtin("node:tls") as typeof TlsModule;
      const opts: TlsModule.ConnectionOptions = {
        host, port, ALPNProtocols: ["http/1.1"], rejectUnauthorized: o.verifySslCert,
        minVersion: o.sslRelaxMinimumVersion ? "TLSv1" : "TLSv1.2",
      };
      if (!/^[\d.]+$|:/.test(host)) opts.servername = host;
      if (o.sslRelaxMinimumVersion) opts.ciphers = "DEFAULT:@SECLEVEL=0";
      if (o.caCert !== undefined) opts.ca = o.caCert;
      if (o.certFile !== undefined) opts.cert = o.certFile;
      if (o.keyFile !== undefined) opts.key = o.keyFile;
      tcp = (builtin("node:net") as typeof NetModule).connect({ host, port });
      opts.socket = tcp;
      socket = tls.connect(opts, ready);
    } else {
      socket = (builtin("node:net") as typeof NetModule).connect({ host, port }, ready);
    }
    socket.once("error", failed);
    signal?.addEventListener("abort", aborted, { once: true });
  });
}

/** The `pin()` of the Node, Bun and Deno transports (through sessions.ts): each session on a socket of its own. */
export function pinnedOnSockets(o: TlsSocketOptions): () => Transport {
  const open = nodeSocketOpener(o);
  return () => new PinnedTransport(open);
}
