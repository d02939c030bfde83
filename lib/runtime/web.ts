/**
 * Browsers, Cloudflare Workers and unknown fetch runtimes: plain `fetch`, which offers no TLS or
 * socket knobs, so every such option the user sets is refused loudly at connect().
 */
import type { Platform, PlatformOption } from "../options.js";
import { FetchTransport, type FetchLike, type Transport } from "../transport.js";

interface WebGlobals { navigator?: { userAgent?: string }; document?: unknown; location?: { origin?: string } }
const g = globalThis as WebGlobals;
const isWorkers = g.navigator?.userAgent === "Cloudflare-Workers";
const isBrowser = !isWorkers && g.document !== undefined;

const TLS: ReadonlySet<PlatformOption> = new Set(["verifySslCert", "caCert", "certFile", "keyFile", "sslRelaxMinimumVersion"]);

/** The platform of the web entry. */
export const webPlatform: Platform = {
  name: isWorkers ? "Cloudflare Workers" : isBrowser ? "browsers" : "this runtime (plain fetch)",
  unsupported(option) {
    if (TLS.has(option)) {
      return isWorkers
        ? "fetch in Workers has no TLS options; for client certificates bind an mTLS certificate and pass its fetch: connect(url, { fetch: (u, i) => env.MY_CERT.fetch(u, i) })"
        : "fetch offers no TLS options here; the platform verifies certificates itself";
    }
    return "fetch offers no connection pool or TCP keepalive options here";
  },
};

// Chrome, Firefox and Safari hide why a fetch failed; a missing CORS setup is the usual reason.
const OPAQUE = /^(Failed to fetch|NetworkError when attempting to fetch resource\.?|Load failed)$/;

function explain(err: unknown): string | undefined {
  if (!isBrowser || !(err instanceof TypeError) || !OPAQUE.test(err.message)) return undefined;
  const origin = g.location?.origin ?? "<this page's origin>";
  return "the browser does not say why. If CrateDB is on another origin than this page, every node must allow CORS: " +
    `http.cors.enabled: true, http.cors.allow-origin: "${origin}", ` +
    'http.cors.allow-headers: "X-Requested-With, Content-Type, Content-Length, Authorization, Default-Schema"';
}

export function webTransport(fetchImpl: FetchLike | undefined): Transport {
  return new FetchTransport(fetchImpl, { explain });
}
