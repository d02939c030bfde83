/** The Transport seam: one `request`, one `close`. Pool, retries and failover live above it. */

/** What the request loop asks a transport to send. */
export interface TransportRequest {
  /** Absolute URL without credentials. */
  url: string;
  method: string;
  headers: Record<string, string>;
  /** Text is sent UTF-8 encoded. */
  body?: Uint8Array | string;
  /** Aborts the attempt (caller abort or per-attempt timeout); the reason is the signal's. None: never. */
  signal?: AbortSignal;
  /** Resolve after the response head with the body as `stream` (blob downloads) instead of reading it. */
  stream?: boolean;
  /** The request may be sent twice without harm (read-only statements, GET, HEAD). */
  idempotent: boolean;
}

/**
 * A complete response: the body is read to its last byte before the promise resolves; with
 * `stream` requested, `body` is empty and `stream` carries the body instead.
 */
export interface TransportResponse {
  status: number;
  statusText: string;
  /** Lower-case header lookup. */
  header(name: string): string | null;
  body: Uint8Array;
  stream?: ReadableStream<Uint8Array>;
}

const EMPTY = new Uint8Array(0);

/**
 * A failure below HTTP. `sent` tells the request loop whether the request may have reached the
 * server: `false` only when the transport is sure it did not (refused, DNS, TLS handshake, connect
 * timeout), so that a write is never sent twice.
 */
export class TransportError extends Error {
  readonly sent: boolean;
  /** A system or library code such as `ECONNREFUSED`, when known. */
  readonly code: string | undefined;
  /** The failure happened on a kept-alive socket reused from an earlier request. */
  readonly reused: boolean;
  constructor(message: string, sent: boolean, code?: string, cause?: unknown, reused = false) {
    super(message, cause === undefined ? undefined : { cause });
    this.sent = sent;
    this.code = code;
    this.reused = reused;
  }
}
Object.defineProperty(TransportError.prototype, "name", { value: "TransportError", writable: true, configurable: true });

/** Sends HTTP requests for a connection. Implementations: FetchTransport, NodeTransport, … */
export interface Transport {
  request(req: TransportRequest): Promise<TransportResponse>;
  close(): Promise<void>;
  /**
   * A transport whose requests all travel on one socket of their own (a CrateDB session lives on one
   * HTTP connection). Absent, or throwing `NotSupportedError` with the reason, where the platform
   * cannot pin requests to a socket.
   */
  pin?(): Transport;
}

/** The runtime's fetch, as the standard types describe it. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

// Error texts by which runtimes say a connection could not be established (nothing was sent).
const NOT_SENT_CODES = new Set([
  "ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT", "CERT_HAS_EXPIRED", "DEPTH_ZERO_SELF_SIGNED_CERT", "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION", "ConnectionRefused",
]);
const NOT_SENT_TEXT = /connection refused|ECONNREFUSED|dns error|failed to lookup|getaddrinfo|name resolution|invalid peer certificate|certificate verify|self[- ]signed certificate|unknownissuer|tcp connect error|unable to connect|could not connect/i;

function codeOf(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === "object" && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function textOf(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? (e as { cause?: unknown }).cause : undefined;
  }
  return parts.filter((p) => p !== "").join(": ");
}

// How each runtime says that an https:// server answered something other than TLS (usually plain
// HTTP): OpenSSL (Node; Deno's node:tls quotes it), BoringSSL (Bun's node:tls), rustls (Deno's
// fetch), Bun's fetch.
const NOT_TLS_TEXT = /wrong[ _]version[ _]number|InvalidContentType|does the server speak TLS/i;
/** @internal What the caller reads when an https:// server did not answer TLS (the raw text stays in `cause`). */
export const NOT_TLS_MESSAGE: string = "the server did not answer TLS (the handshake got something else, usually plain HTTP): " +
  "if it serves plain HTTP, use http:// instead of https:// for it";

/** Classifies a foreign network error: could the request have reached the server? */
export function toTransportError(err: unknown): TransportError {
  if (err instanceof TransportError) return err;
  const code = codeOf(err);
  const text = textOf(err);
  // The handshake failed, so nothing was sent; say what to change rather than quote OpenSSL.
  if (code === "ERR_SSL_WRONG_VERSION_NUMBER" || NOT_TLS_TEXT.test(text)) return new TransportError(NOT_TLS_MESSAGE, false, code ?? "ERR_SSL_WRONG_VERSION_NUMBER", err);
  const notSent = (code !== undefined && NOT_SENT_CODES.has(code)) || NOT_SENT_TEXT.test(text);
  return new TransportError(text || "network error", !notSent, code, err);
}

/**
 * The default transport for every runtime but Node: plain `fetch`. The fetch implementation is
 * looked up at call time (`options.fetch`, else `globalThis.fetch`) so that it can be patched.
 */
/** Extras of a FetchTransport for one runtime. */
export interface FetchTransportOptions {
  /** Merged into every request's init (e.g. Deno's `client` or Bun's `tls`). */
  init?: Record<string, unknown>;
  /** Replaces `init` for requests that must not be sent twice (see the Deno transport). */
  initForWrites?: Record<string, unknown>;
  /** Explains a failed fetch where the runtime hides the reason (browsers and CORS). */
  explain?: (err: unknown, req: TransportRequest) => string | undefined;
  /** Releases runtime resources (e.g. a Deno HttpClient) on close. */
  onClose?: () => void;
  /** Makes the transports of sessions (see `Transport.pin`). */
  pin?: () => Transport;
}

export class FetchTransport implements Transport {
  private readonly fetchImpl: FetchLike | undefined;
  private readonly init: Record<string, unknown>;
  private readonly writeInit: Record<string, unknown>;
  private readonly extras: FetchTransportOptions;

  constructor(fetchImpl?: FetchLike, extras: FetchTransportOptions = {}) {
    this.fetchImpl = fetchImpl;
    this.init = extras.init ?? {};
    this.writeInit = extras.initForWrites ?? this.init;
    this.extras = extras;
    if (extras.pin !== undefined) this.pin = extras.pin;
  }

  /** Present when the runtime supplied session sockets. */
  readonly pin?: () => Transport;

  async request(req: TransportRequest): Promise<TransportResponse> {
    const fetchImpl = this.fetchImpl ?? (globalThis.fetch as FetchLike | undefined);
    if (fetchImpl === undefined) throw new TransportError("no fetch implementation available", false);
    let response: Response;
    try {
      const base = req.idempotent ? this.init : this.writeInit;
      const init: RequestInit = { ...base, method: req.method, headers: req.headers, redirect: "manual" };
      if (req.signal !== undefined) init.signal = req.signal;
      if (req.body !== undefined) init.body = req.body as Uint8Array<ArrayBuffer> | string;
      response = await fetchImpl(req.url, init);
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      const te = toTransportError(err);
      const why = this.extras.explain?.(err, req);
      throw why === undefined ? te : new TransportError(`${te.message} (${why})`, te.sent, te.code, err);
    }
    // A browser answers redirect: "manual" with an opaque redirect (status 0, no Location). A GET or
    // HEAD may then let the browser follow it (it drops Authorization across origins); any other
    // method surfaces as status 0, which the request loop reports.
    if (response.type === "opaqueredirect" && (req.method === "GET" || req.method === "HEAD")) {
      try {
        response = await fetchImpl(req.url, { ...this.init, method: req.method, headers: req.headers, redirect: "follow", ...(req.signal ? { signal: req.signal } : {}) });
      } catch (err) {
        if (req.signal?.aborted) throw req.signal.reason;
        throw toTransportError(err);
      }
    }
    const header = (name: string): string | null => response.headers.get(name);
    if (req.stream === true && response.body !== null) {
      return { status: response.status, statusText: response.statusText, header, body: EMPTY, stream: response.body };
    }
    let body: Uint8Array;
    try {
      body = new Uint8Array(await response.arrayBuffer());
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      const e = toTransportError(err);
      throw new TransportError(`response body incomplete: ${e.message}`, true, e.code, err);
    }
    return {
      status: response.status,
      statusText: response.statusText,
      header,
      body,
    };
  }

  async close(): Promise<void> {
    // fetch owns its connections; only runtime extras (a Deno HttpClient) need releasing.
    this.extras.onClose?.();
  }
}
