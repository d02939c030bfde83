// Large results: read a query's rows through a server-side cursor, a batch at a time, instead of one
// response held whole in memory. Run: node examples/run.mjs stream   (or CRATEDB_URL=… for a real cluster)
// Without CRATEDB_URL it starts the embedded CrateDB-protocol test server (SQL on PGlite, not CrateDB).
import { connect } from "cratedb-fetch";

const ROWS = 200_000;
// JS heap, not RSS: the embedded server runs PostgreSQL (WebAssembly memory) in this same process.
const heap = (): number => process.memoryUsage().heapUsed / 2 ** 20;

let local: { url: string; close: () => Promise<void> } | undefined;
if (!process.env.CRATEDB_URL) {
  const { startPgliteServer } = await import("../spec/support/pglite/server.js");
  local = await startPgliteServer({});
}
const conn = connect(process.env.CRATEDB_URL ?? (local?.url as string), {
  username: process.env.CRATEDB_USER ?? "crate", password: process.env.CRATEDB_PASSWORD,
});
try {
  // Row by row: the loop sees one row at a time; the client holds at most one batch of 10 000.
  const before = heap();
  let peak = before;
  let count = 0;
  let sum = 0;
  const rows = conn.stream<[number]>(`SELECT generate_series FROM generate_series(1, ${ROWS})`, [], { batchSize: 10_000 });
  for await (const [n] of rows) {
    count++;
    sum += n;
    if (count % 10_000 === 0) peak = Math.max(peak, heap());
  }
  console.log(`streamed ${count} rows (sum ${sum}); columns ${JSON.stringify(rows.cols)}; JS heap growth ${(peak - before).toFixed(1)} MB`);

  // By batch, stopping early: `break` closes the cursor and the stream's session at once.
  let batches = 0;
  for await (const batch of conn.stream(`SELECT generate_series FROM generate_series(1, ${ROWS})`, [], { batchSize: 1000 }).batches()) {
    if (++batches === 3) break;
    console.log(`batch ${batches}: ${batch.length} rows, first ${JSON.stringify(batch[0])}`);
  }

  // A session keeps settings between its requests, and its streams see them.
  const schemas = await conn.withSession(async (s) => {
    await s.query("SET search_path TO doc");
    const out: unknown[] = [];
    for await (const row of s.stream("SELECT current_schema")) out.push(row);
    return out;
  });
  console.log(`in a session: ${JSON.stringify(schemas)}`);
  console.log(JSON.stringify({ example: "stream", ok: count === ROWS && sum === (ROWS * (ROWS + 1)) / 2 && batches === 3 }));
} finally {
  await conn.close();
  await local?.close();
}
