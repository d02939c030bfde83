// One client in a process of its own (forked by node-scenarios.mjs with --expose-gc), so that clients
// do not share JIT state, inline caches or heap. It runs only when the coordinator asks, so only
// one client is busy at any time (interleaved rounds, no competition for the CPU).
//   fork("worker.mjs", [client name, url, root])  →  messages { id, op, ... } → { id, result | error }
import { burst, now } from "./common.mjs";
import { makeClients } from "./clients.mjs";
import { bulkArgs } from "./data.mjs";

const [name, url, root] = process.argv.slice(2);
const gc = globalThis.gc ?? (() => {});
const [client] = await makeClients(url, root, [name]);
let args;

const replacer = (_k, v) => (typeof v === "bigint" ? `${v}n` : v);

// Every client holds its previous result: `one` keeps the previous call's result reachable until the next
// call has returned, as `data = await conn.query(…)` in an application does. Raw node:http does this by
// itself (a heap snapshot: its last IncomingMessage → 'data' listener → closure context → resolve →
// promise → the result), so without it, after the gc() below, raw's heap alone keeps the previous 100 000
// rows (~19 MB), V8's old-generation limit, computed from the live size, is that much higher for raw only,
// and the others run a full mark-compact in the middle of their parse that raw does not: the comparison
// then measures which client keeps its last result by accident. BENCH_HOLD_PREVIOUS=0 turns it off (the
// full run also measures large-decode that way and reports it beside).
const holdPrevious = process.env.BENCH_HOLD_PREVIOUS !== "0";
let previous; // eslint-disable-line no-unused-vars -- held, never read

const ops = {
  /** Runs a statement once; returns the row count and some rows as JSON (bigints as "…n"). */
  async check({ stmt, sample = [0] }) {
    const rows = await client.query(stmt);
    return { rows: rows.length, sample: JSON.stringify(sample.map((i) => rows[i]), replacer) };
  },
  async bulkCheck({ stmt, n }) {
    args ??= bulkArgs(n);
    return { results: await client.bulk(stmt, args) };
  },
  /** A warm-up burst, then a measured one: queries/s, client CPU per query, latencies. */
  async burst({ stmt, concurrency, maxMs, latency }) {
    const op = () => client.query(stmt);
    gc();
    await burst(op, { concurrency, maxOps: concurrency * 4, maxMs: 50 });
    const lat = latency ? [] : undefined;
    const c0 = process.cpuUsage();
    const b = await burst(op, { concurrency, maxMs, latencies: lat });
    const cu = process.cpuUsage(c0);
    return { qps: b.perSec, ops: b.ops, ms: b.ms, clientUsPerOp: (cu.user + cu.system) / b.ops, lat };
  },
  /**
   * One query (or one bulk) `times` times in a row, after a GC: wall ms and client CPU ms per call
   * (several calls per measurement where one is only a few ms, shorter than a scheduler's time slice).
   */
  async one({ stmt, bulkRows, expectRows, times = 1 }) {
    if (bulkRows) args ??= bulkArgs(bulkRows);
    gc();
    const c0 = process.cpuUsage();
    const s = now();
    for (let i = 0; i < times; i++) {
      const result = bulkRows ? await client.bulk(stmt, args) : await client.query(stmt);
      const got = bulkRows ? result : result.length;
      if (expectRows !== undefined && got !== expectRows) throw new Error(`${name}: ${got} rows, expected ${expectRows}`);
      if (holdPrevious) previous = result;
    }
    const ms = (now() - s) / times;
    const cu = process.cpuUsage(c0);
    return { ms, cpuMs: (cu.user + cu.system) / 1000 / times };
  },
  async close() {
    await client.close();
    setImmediate(() => process.exit(0));
    return {};
  },
};

process.on("message", async ({ id, op, ...a }) => {
  try {
    process.send({ id, result: await ops[op](a) });
  } catch (err) {
    process.send({ id, error: String(err?.stack ?? err) });
  }
});
process.on("disconnect", () => process.exit(0));
process.send({ ready: true });
