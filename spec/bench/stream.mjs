// The stream scenario, one measurement in a fresh process (run by run.mjs with --expose-gc):
//   node --expose-gc spec/bench/stream.mjs <query|stream> <url> <distDir> [batchSize]
// (no batchSize: the library's default, which is what the target is about)
// Reads the STREAM_ROWS-row statement once, either whole through `conn.query()` or through
// `conn.stream(…, { batchSize })` (DECLARE/FETCH/CLOSE on a session of its own), touching every row
// and keeping none. Reports rows/s and the peak RSS growth (maxRSS after − RSS before), after warming
// up the same path on a short run so that both modes start from a warm, collected heap. Also samples
// RSS − RSS before every SAMPLE_MS (timer-driven: a long synchronous parse shows as a gap, and the
// final maxRSS catches the peak inside it) for the chart of RSS over time.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { STMT, STREAM_ROWS } from "./data.mjs";

const [mode, url, dist, batchArg] = process.argv.slice(2);
const batchSize = batchArg === undefined ? undefined : Number(batchArg);
const streamOptions = batchSize === undefined ? {} : { batchSize };
const gc = globalThis.gc;
const { connect } = await import(pathToFileURL(join(dist, "node.js")).href);
const conn = connect(url);

let sink = 0;
async function viaQuery() {
  const { rows } = await conn.query(STMT.stream);
  for (const row of rows) sink += row[0];
  return rows.length;
}
async function viaStream(limit = Infinity) {
  let n = 0;
  for await (const rows of conn.stream(STMT.stream, [], streamOptions).batches()) {
    for (const row of rows) sink += row[0];
    n += rows.length;
    if (n >= limit) break;
  }
  return n;
}

// Warm-up: the same code paths, small amounts.
for (let i = 0; i < 20; i++) await conn.query(STMT.small);
await viaStream((batchSize ?? 1000) * 3);
gc();
gc();
const before = process.memoryUsage().rss;
const SAMPLE_MS = 20;
const rss = []; // [ms since start, RSS − before]
const c0 = process.cpuUsage();
const t = performance.now();
const sample = () => rss.push([Math.round(performance.now() - t), process.memoryUsage.rss() - before]);
sample();
const timer = setInterval(sample, SAMPLE_MS);
const rows = mode === "query" ? await viaQuery() : await viaStream();
const ms = performance.now() - t;
const cu = process.cpuUsage(c0);
clearInterval(timer);
sample();
const peak = process.resourceUsage().maxRSS * 1024;
if (rows !== STREAM_ROWS) throw new Error(`${mode}: ${rows} rows, expected ${STREAM_ROWS}`);
await conn.close();
process.stdout.write(`RESULT ${JSON.stringify({ mode, batchSize, rows, ms, rowsPerSec: (rows / ms) * 1000, cpuMs: (cu.user + cu.system) / 1000, peakRssDelta: peak - before, rss, sink })}\n`);
process.exit(0);
