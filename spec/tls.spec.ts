import { expect } from "chai";
import { ConnectionError, NotSupportedError, connect } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterCerts, ClusterHandle } from "./support/cluster-api.js";
import { expectReject, expectThrow, notApplicable, runtime } from "./support/helpers.js";

describe("TLS", function () {
  let server: ClusterHandle;
  let mtls: ClusterHandle;
  let certs: ClusterCerts;
  before(async function () {
    if (runtime === "browser" || runtime === "workerd") return;
    server = await startCluster({ tls: true });
    mtls = await startCluster({ tls: true, clientCert: "required" });
    certs = server.certs as ClusterCerts;
  });
  after(async () => {
    await server?.close();
    await mtls?.close();
  });
  beforeEach(function () {
    if (runtime === "browser" || runtime === "workerd") {
      notApplicable(this, "fetch here takes no TLS options (covered by the NotSupportedError specs); HTTPS with the platform's own " +
        `trust is covered by the ${runtime === "browser" ? "chromium" : "workerd"} lane's own TLS specs`);
    }
  });

  it("verifies the server with a custom CA given as PEM text", async () => {
    const conn = connect(server.urls, { caCert: certs.ca });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    await conn.close();
  });

  it("reads the CA from a file path", async () => {
    const conn = connect(server.urls, { caCert: certs.caPath });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    await conn.close();
  });

  it("rejects a server whose CA is not trusted (verification is on by default)", async () => {
    const conn = connect(server.urls);
    await expectReject(conn.query("SELECT 1"), ConnectionError, /certificate|self[- ]signed|issuer/i);
    const wrong = connect(server.urls, { caCert: certs.otherCa });
    await expectReject(wrong.query("SELECT 1"), ConnectionError, /certificate|self[- ]signed|issuer/i);
    await conn.close();
    await wrong.close();
  });

  it("skips verification with verifySslCert: false", async () => {
    const conn = connect(server.urls, { verifySslCert: false });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    await conn.close();
  });

  it("presents a client certificate given as PEM text", async () => {
    const conn = connect(mtls.urls, { caCert: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    await conn.close();
  });

  it("presents a client certificate given as file paths", async () => {
    const conn = connect(mtls.urls, { caCert: certs.caPath, certFile: certs.clientCertPath, keyFile: certs.clientKeyPath });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    await conn.close();
  });

  it("fails without the client certificate the server requires", async () => {
    const conn = connect(mtls.urls, { caCert: certs.ca });
    await expectReject(conn.query("SELECT 1"), ConnectionError);
    await conn.close();
  });

  it("allows TLS 1.0/1.1 only with sslRelaxMinimumVersion", async () => {
    if (runtime === "deno") {
      expectThrow(() => connect("https://h", { sslRelaxMinimumVersion: true }), NotSupportedError, /sslRelaxMinimumVersion.*Deno.*rustls/);
      return;
    }
    const old = await startCluster({ tls: true, tlsVersions: { min: "TLSv1", max: "TLSv1.1" } });
    try {
      const strict = connect(old.urls, { caCert: certs.ca });
      await expectReject(strict.query("SELECT 1"), ConnectionError, /version|protocol|alert|handshake/i);
      const relaxed = connect(old.urls, { caCert: certs.ca, sslRelaxMinimumVersion: true });
      expect((await relaxed.query("SELECT 1")).rows).to.deep.equal([[1]]);
      await strict.close();
      await relaxed.close();
    } finally {
      await old.close();
    }
  });

  it("keeps the key out of every error message", async () => {
    const conn = connect("https://127.0.0.1:1", { caCert: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey });
    const err = await expectReject<Error>(conn.query("SELECT 1"), ConnectionError);
    expect(`${err.message} ${err.stack}`).not.to.include("PRIVATE KEY");
    await conn.close();
  });
});
