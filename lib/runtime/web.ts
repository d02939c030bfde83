/**
 * Browsers, Cloudflare Workers and unknown fetch runtimes: plain `fetch`, which offers no TLS or
 * socket knobs, so every such option the user sets is refused loudly at connect().
 */
import type { Platform, PlatformOption } from "../options.js";

interface Nav { userAgent?: string }

function runtimeName(): string {
  const nav = (globalThis as { navigator?: Nav }).navigator;
  if (nav?.userAgent === "Cloudflare-Workers") return "Cloudflare Workers";
  if (typeof (globalThis as { document?: unknown }).document !== "undefined") return "browsers";
  return "this runtime (plain fetch)";
}

const TLS: ReadonlySet<PlatformOption> = new Set(["verifySslCert", "caCert", "certFile", "keyFile", "sslRelaxMinimumVersion"]);

/** The platform of the web entry. */
export const webPlatform: Platform = {
  name: runtimeName(),
  unsupported(option) {
    const name = runtimeName();
    if (TLS.has(option)) {
      return name === "Cloudflare Workers"
        ? "fetch in Workers has no TLS options; for client certificates pass a bound mTLS fetch (env.MY_CERT.fetch) as the 'fetch' option"
        : "fetch offers no TLS options here; the platform verifies certificates itself";
    }
    return "fetch offers no connection or TCP keepalive options here";
  },
};
