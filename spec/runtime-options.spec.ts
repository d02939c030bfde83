import { expect } from "chai";
import { NotSupportedError, connect, type ConnectOptions } from "cratedb-fetch";
import { InterfaceError } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterCerts } from "./support/cluster-api.js";
import { expectThrow, notApplicable, runtime } from "./support/helpers.js";

const BROKEN_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const certs = {} as ClusterCerts;

const ALL: Array<[string, ConnectOptions | (() => ConnectOptions)]> = [
  ["verifySslCert", { verifySslCert: false }],
  ["caCert", () => ({ caCert: certs.ca })],
  ["certFile", () => ({ certFile: certs.clientCert, keyFile: certs.clientKey })],
  ["sslRelaxMinimumVersion", { sslRelaxMinimumVersion: true }],
  ["socketKeepalive", { socketKeepalive: false }],
  ["socketTcpKeepidle", { socketTcpKeepidle: 10_000 }],
  ["socketTcpKeepintvl", { socketTcpKeepintvl: 1_000 }],
  ["socketTcpKeepcnt", { socketTcpKeepcnt: 3 }],
  ["poolSize", { poolSize: 4 }],
];

/** The options each runtime cannot honour, and the runtime name its errors must carry. */
const UNSUPPORTED: Record<typeof runtime, { name: RegExp; options: string[] }> = {
  node: { name: /Node\.js/, options: ["socketTcpKeepintvl", "socketTcpKeepcnt"] },
  deno: { name: /Deno/, options: ["socketTcpKeepintvl", "socketTcpKeepcnt", "sslRelaxMinimumVersion"] },
  bun: { name: /Bun/, options: ["socketTcpKeepintvl", "socketTcpKeepcnt"] },
  browser: { name: /browsers/, options: ALL.map(([name]) => name) },
  workerd: { name: /Cloudflare Workers/, options: ALL.map(([name]) => name) },
};

describe(`Options this runtime (${runtime}) cannot honour`, () => {
  before(async () => {
    const cluster = await startCluster({ tls: true });
    Object.assign(certs, cluster.certs);
    await cluster.close();
  });

  const { name, options } = UNSUPPORTED[runtime];
  for (const [option, given] of ALL) {
    const value = (): ConnectOptions => (typeof given === "function" ? given() : given);
    if (options.includes(option)) {
      it(`throws NotSupportedError for ${option}, naming the option and the runtime`, () => {
        const err = expectThrow<NotSupportedError>(() => connect("https://127.0.0.1:1", value()), NotSupportedError);
        expect(err.message).to.include(`'${option}'`);
        expect(err.message).to.match(name);
      });
    } else {
      it(`accepts ${option}`, () => {
        expect(connect("https://127.0.0.1:1", value()).closed).to.equal(false);
      });
    }
  }

  it("accepts the defaults spelled out (they are the platform's behaviour)", () => {
    expect(connect("https://127.0.0.1:1", { verifySslCert: true, socketKeepalive: true, sslRelaxMinimumVersion: false }).closed).to.equal(false);
  });

  it("points Workers users to a bound mTLS fetch for client certificates", function () {
    if (runtime !== "workerd") return notApplicable(this, "a Workers-only hint");
    expectThrow(() => connect("https://h", { certFile: certs.clientCert, keyFile: certs.clientKey }), NotSupportedError, /env\.MY_CERT\.fetch/);
  });

  it("rejects broken PEM text with InterfaceError at connect()", function () {
    if (runtime === "browser" || runtime === "workerd") return notApplicable(this, "TLS options are refused here anyway");
    expectThrow(() => connect("https://h", { caCert: BROKEN_PEM }), InterfaceError, /caCert|TLS/);
    expectThrow(() => connect("https://h", { caCert: certs.ca, certFile: certs.clientCert, keyFile: certs.ca }), InterfaceError, /TLS/);
  });
});
