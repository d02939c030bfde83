/**
 * The TLS and socket options, for runtimes whose transport has them (Node, Deno, Bun): a layer over the
 * core resolver (resolve.ts), carried by the runtime's Platform. Where a runtime has no such options
 * (plain fetch: browsers, Workers) this module is never imported and the core refuses them by name.
 */
import { InterfaceError, NotSupportedError } from "./errors.js";
import type { OptionLayer, Platform, PlatformOption, ResolvedOptions } from "./options.js";
import { bool, fail, num, str } from "./resolve.js";

const KEYS: PlatformOption[] = ["verifySslCert", "caCert", "certFile", "keyFile", "sslRelaxMinimumVersion",
  "socketKeepalive", "socketTcpKeepidle", "socketTcpKeepintvl", "socketTcpKeepcnt", "poolSize"];

const PYTHON_NAMES: Record<string, string> = {
  verify_ssl_cert: "verifySslCert", ca_cert: "caCert", cert_file: "certFile", key_file: "keyFile",
  ssl_relax_minimum_version: "sslRelaxMinimumVersion", socket_keepalive: "socketKeepalive", socket_tcp_keepidle: "socketTcpKeepidle",
  socket_tcp_keepintvl: "socketTcpKeepintvl", socket_tcp_keepcnt: "socketTcpKeepcnt", pool_size: "poolSize",
};

function pem(v: string | undefined, key: string, platform: Platform): string | undefined {
  if (v === undefined || v.includes("-----BEGIN")) return v;
  if (platform.readFile === undefined) {
    throw new NotSupportedError(`Option '${key}' is a file path, but ${platform.name} has no file system: pass the PEM text instead`);
  }
  try {
    return platform.readFile(v);
  } catch (err) {
    // A keyFile value that is not PEM may be key material in another form: never echo it (nor the
    // file error, which quotes the path), only the error code.
    if (key === "keyFile") {
      const code = (err as { code?: unknown } | null)?.code;
      throw new InterfaceError(`Option 'keyFile' is neither PEM text (-----BEGIN …) nor a readable file${typeof code === "string" ? ` (${code})` : ""}`);
    }
    throw new InterfaceError(`Option '${key}': cannot read file '${v}' (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
}

/** True when the user set an option to something other than what every platform does anyway. */
function isSet(option: PlatformOption, o: Record<string, unknown>): boolean {
  if (option === "verifySslCert" || option === "socketKeepalive") return o[option] === false;
  if (option === "sslRelaxMinimumVersion") return o[option] === true;
  return o[option] !== undefined;
}

/** The layer: checks every TLS and socket option, asks the platform which it honours, reads PEM files. */
export const tlsOptions: OptionLayer = {
  keys: KEYS,
  hint: (key) => PYTHON_NAMES[key],
  resolve(o: Record<string, unknown>, r: ResolvedOptions, platform: Platform): void {
    r.verifySslCert = bool(o, "verifySslCert", true);
    r.caCert = str(o, "caCert");
    r.certFile = str(o, "certFile");
    r.keyFile = str(o, "keyFile");
    r.sslRelaxMinimumVersion = bool(o, "sslRelaxMinimumVersion", false);
    r.socketKeepalive = bool(o, "socketKeepalive", true);
    r.socketTcpKeepidle = num(o, "socketTcpKeepidle", { min: 0, positive: true });
    r.socketTcpKeepintvl = num(o, "socketTcpKeepintvl", { min: 0, positive: true });
    r.socketTcpKeepcnt = num(o, "socketTcpKeepcnt", { min: 0, integer: true, positive: true });
    r.poolSize = num(o, "poolSize", { min: 0, integer: true, positive: true });
    if ((r.certFile === undefined) !== (r.keyFile === undefined)) fail("Options 'certFile' and 'keyFile' must be given together");
    if (!r.socketKeepalive && (r.socketTcpKeepidle ?? r.socketTcpKeepintvl ?? r.socketTcpKeepcnt) !== undefined) {
      fail("TCP keepalive tuning needs 'socketKeepalive' (it is false)");
    }
    for (const option of KEYS) {
      if (!isSet(option, o)) continue;
      const why = platform.unsupported(option, r);
      if (why !== undefined) throw new NotSupportedError(`Option '${option}' is not supported on ${platform.name}: ${why}`);
    }
    r.caCert = pem(r.caCert, "caCert", platform);
    r.certFile = pem(r.certFile, "certFile", platform);
    r.keyFile = pem(r.keyFile, "keyFile", platform);
  },
};
