// Bulk import with a progress bar: rows in bulks of 2 000, one request per bulk; failed rows (e.g.
// duplicate keys) are reported per row without failing the batch. 100 000 rows against CRATEDB_URL,
// 10 000 against the local test double (its toy engine is slow).
// Run: node examples/run.mjs bulk-import   (or CRATEDB_URL=…)
import { connect } from "cratedb-fetch";
import { localCluster } from "./local-cluster.js";

const TOTAL = process.env.CRATEDB_URL ? 100_000 : 10_000;
const CHUNK = 2_000;
const local = process.env.CRATEDB_URL ? undefined : await localCluster({ nodes: 2 });
const conn = connect(process.env.CRATEDB_URL ?? (local?.urls as string[]), { timeout: 30_000 });

function bar(done: number): string {
  const width = 30;
  const filled = Math.round((done / TOTAL) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(Math.round((done / TOTAL) * 100)).padStart(3)}% ${done}/${TOTAL}`;
}

try {
  await conn.query("CREATE TABLE IF NOT EXISTS bulk_readings (id BIGINT PRIMARY KEY, sensor TEXT, value DOUBLE, ts TIMESTAMP)");
  const started = Date.now();
  let inserted = 0;
  let failed = 0;
  for (let from = 0; from < TOTAL; from += CHUNK) {
    const rows = Array.from({ length: Math.min(CHUNK, TOTAL - from) }, (_v, i) => {
      const id = from + i;
      return [id, `sensor-${id % 16}`, Math.round(Math.sin(id / 100) * 1000) / 10, new Date(started + id)];
    });
    const res = await conn.bulk("INSERT INTO bulk_readings (id, sensor, value, ts) VALUES (?, ?, ?, ?)", rows);
    inserted += Math.max(0, res.rowcount);
    failed += res.failed.length;
    process.stdout.write(`\r${bar(from + rows.length)}`);
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`\n${inserted} rows inserted, ${failed} failed, in ${seconds.toFixed(1)} s (${Math.round(inserted / seconds)} rows/s)`);
  await conn.query("DROP TABLE bulk_readings");
  console.log(JSON.stringify({ example: "bulk-import", ok: inserted === TOTAL && failed === 0 }));
} finally {
  await conn.close();
  await local?.close();
}
