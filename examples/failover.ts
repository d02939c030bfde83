// Multi-node failover: three nodes, round robin; one node goes down mid-way and comes back.
// Reads fail over to the next node; a node that refused is out of the rotation for retryInterval.
// Run: node examples/run.mjs failover   (or CRATEDB_URL="http://n1:4200 http://n2:4200 http://n3:4200")
import { connect } from "cratedb-fetch";
import { localCluster } from "./local-cluster.js";

const local = process.env.CRATEDB_URL ? undefined : await localCluster({ nodes: 3 });
const servers = process.env.CRATEDB_URL ?? (local?.urls as string[]);
const conn = connect(servers, { retryInterval: 1_000, timeout: 5_000, logger: { warn: (m) => console.log(`  [warn] ${m}`) } });
try {
  console.log(`servers: ${conn.servers.join(", ")}`);
  let ok = 0;
  for (let i = 0; i < 12; i++) {
    if (i === 4 && local) {
      console.log("stopping node 1…");
      await local.stopNode(1);
    }
    if (i === 8 && local) {
      console.log("starting node 1 again, waiting for retryInterval…");
      await local.startNode(1);
      await new Promise((r) => setTimeout(r, 1_100));
    }
    const info = await conn.serverInfo();
    ok++;
    console.log(`query ${String(i + 1).padStart(2)} answered by ${info.name.padEnd(8)} active: ${conn.activeServers.length}`);
  }
  console.log(JSON.stringify({ example: "failover", ok }));
} finally {
  await conn.close();
  await local?.close();
}
