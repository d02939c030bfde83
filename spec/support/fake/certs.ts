/**
 * Test certificates, generated once per control-server process with the `openssl` CLI (commands from
 * docs/runtimes.md §1) into a fresh temp directory outside the repo. A second, unrelated CA is made for
 * "wrong CA" specs.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { ClusterCerts } from "../cluster-api.js";

export interface ServerCerts extends ClusterCerts {
  serverCert: string;
  serverKey: string;
  /** A second server certificate from the same CA with a key of its own (`ClusterOptions.serverIdentity`). */
  secondServerCert: string;
  secondServerKey: string;
  dir: string;
}

let cached: ServerCerts | undefined;

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

function makeCa(dir: string, name: string, cn: string): void {
  openssl(dir, [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "3650",
    "-subj", `/CN=${cn}`,
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
  ]);
}

function makeLeaf(dir: string, name: string, cn: string, ext: string): void {
  openssl(dir, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  openssl(dir, [
    "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
    "-out", `${name}.crt`, "-days", "825", "-extfile", `${name}.ext`,
  ]);
}

/** Generate (first call) or return the process-wide test certificates. */
export function getCerts(): ServerCerts {
  if (cached) return cached;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cratedb-fetch-certs-"));
  makeCa(dir, "ca", "Test CA");
  makeCa(dir, "other-ca", "Other Test CA");
  makeLeaf(dir, "server", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  makeLeaf(dir, "server2", "localhost", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  makeLeaf(dir, "client", "test-client", "extendedKeyUsage=clientAuth\n");
  const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
  cached = {
    dir,
    ca: read("ca.crt"),
    caPath: path.join(dir, "ca.crt"),
    clientCert: read("client.crt"),
    clientCertPath: path.join(dir, "client.crt"),
    clientKey: read("client.key"),
    clientKeyPath: path.join(dir, "client.key"),
    otherCa: read("other-ca.crt"),
    serverCert: read("server.crt"),
    serverKey: read("server.key"),
    secondServerCert: read("server2.crt"),
    secondServerKey: read("server2.key"),
  };
  return cached;
}

/** The public part handed to specs (no server key). */
export function publicCerts(c: ServerCerts): ClusterCerts {
  return {
    ca: c.ca,
    caPath: c.caPath,
    clientCert: c.clientCert,
    clientCertPath: c.clientCertPath,
    clientKey: c.clientKey,
    clientKeyPath: c.clientKeyPath,
    otherCa: c.otherCa,
  };
}

/** Remove the temp directory (on control-server exit). */
export function removeCerts(): void {
  if (cached) fs.rmSync(cached.dir, { recursive: true, force: true });
  cached = undefined;
}
