// Node: a service-style script with the options only Node's transport offers (TCP keepalive idle,
// pool size). Run: CRATEDB_URL=http://localhost:4200 node examples/run.mjs node
import { connect } from "cratedb-fetch";

const conn = connect(process.env.CRATEDB_URL ?? "http://localhost:4200", {
  username: process.env.CRATEDB_USER, password: process.env.CRATEDB_PASSWORD,
  timeout: 5_000, socketTcpKeepidle: 30_000, poolSize: 8, logger: { warn: console.warn },
});
try {
  const [{ rows }, info] = await Promise.all([conn.query("SELECT name FROM sys.cluster"), conn.serverInfo()]);
  console.log(JSON.stringify({ runtime: "node", cluster: rows[0]?.[0], version: info.version }));
} finally {
  await conn.close();
}
