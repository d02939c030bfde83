/**
 * Browsers, Cloudflare Workers and unknown fetch runtimes: plain `fetch`, which offers no TLS or
 * socket knobs, so every such option the user sets is refused loudly at connect(); so is node
 * discovery in browsers and Workers, which cannot reach the nodes' publish addresses.
 */
import { NotSupportedError } from "../errors.js";
import type { Platform, PlatformOption } from "../options.js";
import { FetchTransport, type FetchLike, type Transport, type TransportRequest } from "../transport.js";

interface WebGlobals { navigator?: { userAgent?: string }; document?: unknown; location?: { origin?: string } }
const g = globalThis as WebGlobals;
const isWorkers = g.navigator?.userAgent === "Cloudflare-Workers";
const isBrowser = !isWorkers && g.document !== undefined;

const TLS: ReadonlySet<PlatformOption> = new Set(["verifySslCert", "caCert", "certFile", "keyFile", "sslRelaxMinimumVersion"]);

/** The platform of the web entry. */
export const webPlatform: Platform = {
  name: isWorkers ? "Cloudflare Workers" : isBrowser ? "browsers" : "this runtime (plain fetch)",
  // workerd's fetch writes header values as UTF-8 where every other fetch writes one byte per character.
  utf8Headers: isWorkers,
  unsupported(option) {
    if (option === "discover") {
      if (isWorkers) {
        return "sys.nodes gives each node's publish address as a bare IP and port, and a deployed Worker can neither fetch " +
          "a bare IP address nor use a port other than the scheme's default; nor can it refresh the list between requests. " +
          "List the servers (or a load balancer) instead";
      }
      if (isBrowser) {
        return "sys.nodes gives each node's publish address, usually a private address that a browser cannot reach, " +
          "and every node would also have to allow this page's origin (CORS). List the servers the browser can reach instead";
      }
      return undefined;
    }
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

const CORS_DEFAULT_HEADERS = ["X-Requested-With", "Content-Type", "Content-Length"];
// Headers a browser sends without asking (CORS-safelisted); they need no allow-headers entry.
const SAFELISTED = new Set(["accept", "accept-language", "content-language", "range", "content-type", "content-length", "x-requested-with"]);
const CASED: Record<string, string> = { authorization: "Authorization", "default-schema": "Default-Schema", "content-encoding": "Content-Encoding" };

function explain(err: unknown, req: TransportRequest): string | undefined {
  if (!isBrowser || !(err instanceof TypeError) || !OPAQUE.test(err.message)) return undefined;
  const origin = g.location?.origin ?? "<this page's origin>";
  const needed = new Set(["Authorization", "Default-Schema"]);
  for (const name of Object.keys(req.headers)) if (!SAFELISTED.has(name.toLowerCase())) needed.add(CASED[name.toLowerCase()] ?? name);
  return "the browser does not say why. If CrateDB is on another origin than this page, every node must allow CORS: " +
    `http.cors.enabled: true, http.cors.allow-origin: "${origin}", ` +
    `http.cors.allow-headers: "${[...CORS_DEFAULT_HEADERS, ...needed].join(", ")}"`;
}

const NO_SESSIONS = "Sessions (and stream(), which runs on one) need every request on one HTTP connection, since CrateDB " +
  "keeps a session per connection; a browser decides by itself which connection a fetch uses, so sessions are not supported in browsers";

export function webTransport(fetchImpl: FetchLike | undefined): Transport {
  if (fetchImpl !== undefined || !isBrowser) return new FetchTransport(fetchImpl, { explain });
  return new FetchTransport(fetchImpl, { explain, pin: () => { throw new NotSupportedError(NO_SESSIONS); } });
}
