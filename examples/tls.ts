// TLS with a private CA: verify the server with your own CA (PEM text or a file path) and, where the
// server asks for one, present a client certificate (certFile/keyFile).
// Run: node examples/run.mjs tls   (or CRATEDB_URL=https://… CRATEDB_CA=/path/ca.pem)
import { ConnectionError, connect } from "cratedb-fetch";
import { localCluster } from "./local-cluster.js";

const local = process.env.CRATEDB_URL ? undefined : await localCluster({ nodes: 1, tls: true });
const url = process.env.CRATEDB_URL ?? (local?.urls[0] as string);
const ca = process.env.CRATEDB_CA ?? (local?.ca as string);
try {
  const untrusted = connect(url, { timeout: 5_000 });
  try {
    await untrusted.query("SELECT 1");
    console.log("the server's certificate is publicly trusted: no private CA needed");
  } catch (err) {
    if (!(err instanceof ConnectionError)) throw err;
    console.log(`without the CA: ${err.message.slice(0, 120)}…`);
  } finally {
    await untrusted.close();
  }
  const conn = connect(url, { caCert: ca, timeout: 5_000 });
  const { rows } = await conn.query("SELECT name FROM sys.cluster");
  console.log(`with caCert: connected to cluster ${String(rows[0]?.[0])}`);
  await conn.close();
  console.log(JSON.stringify({ example: "tls", ok: true }));
} finally {
  await local?.close();
}
