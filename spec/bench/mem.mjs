// Memory of one large query, in a fresh process (run by run.mjs with --expose-gc):
//   node --expose-gc spec/bench/mem.mjs <client name> <url> <safe|unsafe> <distDir>
// After warming up on small queries: peak RSS growth during the query (maxRSS − RSS before) and the
// heap the result keeps alive (heapUsed after a full GC while holding the rows − before).
import { makeClients } from "./clients.mjs";
import { STMT, LARGE_ROWS } from "./data.mjs";

const [name, url, kind, root] = process.argv.slice(2);
const gc = globalThis.gc;
const [client] = await makeClients(url, root, [name]);
for (let i = 0; i < 20; i++) await client.query(STMT.small);
gc();
gc();
const before = process.memoryUsage();
let rows = await client.query(kind === "unsafe" ? STMT.unsafe : STMT.large);
const maxAfter = process.resourceUsage().maxRSS * 1024;
if (rows.length !== LARGE_ROWS) throw new Error(`${name}: ${rows.length} rows`);
gc();
gc();
const held = process.memoryUsage();
rows = null;
const result = {
  peakRssDelta: maxAfter - before.rss,
  retainedHeap: held.heapUsed + held.external - (before.heapUsed + before.external),
};
await client.close();
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
