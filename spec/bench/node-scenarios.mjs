// Node network scenarios, one scenario per coordinator process (run by run.mjs):
//   node spec/bench/node-scenarios.mjs <scenario> <url> [--quick]
// Every client runs in a worker process of its own (worker.mjs, --expose-gc) and only when asked:
// rounds interleave the clients (A B C …, rotated each round), medians are reported. With
// BENCH_INPROCESS=1 all clients share one process instead (to show how much co-residency skews).
// BENCH_CLIENTS=a,b restricts the clients (raw node:http is always included).
// Prints one line `RESULT <json>`.
import { fork } from "node:child_process";
import http from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { burst, field, now, pairedRatio, quantile, rounds } from "./common.mjs";
import { CF, CF_BIGINT, CF_FETCH, NODE_CRATE, RAW_FETCH, RAW_HTTP, RAW_HTTP_AA, RAW_HTTP_UNSAFE, makeClients } from "./clients.mjs";
import { LARGE_ROWS, STMT } from "./data.mjs";

const here = fileURLToPath(new URL(".", import.meta.url));
const root = join(here, "../..");
const [scenario, url] = process.argv.slice(2);
const quick = process.argv.includes("--quick");
const inProcess = process.env.BENCH_INPROCESS === "1";
const MAIN = [RAW_HTTP, RAW_HTTP_AA, RAW_FETCH, CF, CF_FETCH, NODE_CRATE]
  .filter((n) => n === RAW_HTTP || n === RAW_HTTP_AA || !process.env.BENCH_CLIENTS || process.env.BENCH_CLIENTS.split(",").includes(n));

// Many short rounds rather than a few long ones: a ratio is taken per round, between clients that ran
// next to each other, so a short round sees less drift of a shared machine's load, and more rounds
// give the bootstrap interval of the median ratio more to work with.
const P = quick
  ? { rounds: 6, burstMs: 60, largeRounds: 3, bulkRounds: 4, bulkTimes: 3 }
  : { rounds: 40, burstMs: 150, largeRounds: 25, bulkRounds: 40, bulkTimes: 5 };

/** Per-round paired ratios to `base` of the fields `keys`: { key: { ratio, lo, hi, n } } (common.mjs). */
const ratios = (rs, base, keys) => Object.fromEntries(keys.map((k) => [k, pairedRatio(rs.map((x) => x[k]), base.map((x) => x[k]))]));

// ---------------------------------------------------------------- clients: workers or in-process

const workers = new Set();
process.on("exit", () => { for (const w of workers) w.kill("SIGKILL"); });

function spawnWorker(name) {
  const child = fork(join(here, "worker.mjs"), [name, url, root], { execArgv: ["--expose-gc"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  workers.add(child);
  const pending = new Map();
  let seq = 0;
  let dead;
  child.on("exit", (code) => {
    workers.delete(child);
    dead = new Error(`worker ${name} exited (${code})`);
    for (const p of pending.values()) p.reject(dead);
  });
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${name} not ready in 30 s`)), 30_000);
    child.once("message", (m) => { clearTimeout(timer); if (m.ready) resolve(); else reject(new Error(`worker ${name}: ${JSON.stringify(m)}`)); });
  });
  child.on("message", (m) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.error) p.reject(new Error(`${name}: ${m.error}`));
    else p.resolve(m.result);
  });
  const call = (op, a = {}, timeoutMs = 120_000) => new Promise((resolve, reject) => {
    if (dead) return reject(dead);
    const id = ++seq;
    const timer = setTimeout(() => { pending.delete(id); reject(new Error(`${name}: ${op} timed out`)); }, timeoutMs);
    pending.set(id, { resolve, reject, timer });
    child.send({ id, op, ...a });
  });
  return { name, ready, call };
}

/** In-process handles with the same `call` interface as the workers. */
async function inProcessHandles(names) {
  const clients = await makeClients(url, root, names);
  const gc = globalThis.gc ?? (() => {});
  return clients.map((client) => ({
    name: client.name,
    ready: Promise.resolve(),
    async call(op, a = {}) {
      if (op === "check") {
        const rows = await client.query(a.stmt);
        return { rows: rows.length, sample: JSON.stringify((a.sample ?? [0]).map((i) => rows[i]), (_k, v) => (typeof v === "bigint" ? `${v}n` : v)) };
      }
      if (op === "burst") {
        const q = () => client.query(a.stmt);
        gc();
        await burst(q, { concurrency: a.concurrency, maxOps: a.concurrency * 4, maxMs: 50 });
        const lat = a.latency ? [] : undefined;
        const c0 = process.cpuUsage();
        const b = await burst(q, { concurrency: a.concurrency, maxMs: a.maxMs, latencies: lat });
        const cu = process.cpuUsage(c0);
        return { qps: b.perSec, ops: b.ops, ms: b.ms, clientUsPerOp: (cu.user + cu.system) / b.ops, lat };
      }
      if (op === "one") {
        const times = a.times ?? 1;
        if (a.bulkRows) this.args ??= (await import("./data.mjs")).bulkArgs(a.bulkRows);
        gc();
        const c0 = process.cpuUsage();
        const s = now();
        for (let i = 0; i < times; i++) {
          const result = a.bulkRows ? await client.bulk(a.stmt, this.args) : await client.query(a.stmt);
          const got = a.bulkRows ? result : result.length;
          if (a.expectRows !== undefined && got !== a.expectRows) throw new Error(`${client.name}: ${got}`);
          if (process.env.BENCH_HOLD_PREVIOUS !== "0") this.previous = result; // as worker.mjs
        }
        const ms = (now() - s) / times;
        const cu = process.cpuUsage(c0);
        return { ms, cpuMs: (cu.user + cu.system) / 1000 / times };
      }
      if (op === "bulkCheck") {
        this.args ??= (await import("./data.mjs")).bulkArgs(a.n);
        return { results: await client.bulk(a.stmt, this.args) };
      }
      if (op === "close") return client.close();
      throw new Error(op);
    },
  }));
}

async function handles(names) {
  const hs = inProcess ? await inProcessHandles(names) : names.map(spawnWorker);
  await Promise.all(hs.map((h) => h.ready));
  return hs;
}

const closeAll = (hs) => Promise.all(hs.map((h) => h.call("close").catch(() => {})));

function serverCpu() {
  return new Promise((resolve, reject) => {
    http.get(new URL("/_bench/cpu", url), { agent: false }, (res) => {
      let s = "";
      res.on("data", (c) => (s += c));
      res.on("end", () => {
        const j = JSON.parse(s);
        resolve((j.user + j.system) / 1000);
      });
    }).on("error", reject);
  });
}

async function agree(hs, stmt, rows, sample = [0, rows - 1]) {
  const got = await Promise.all(hs.map(async (h) => [h.name, await h.call("check", { stmt, sample })]));
  for (const [n, r] of got) if (r.rows !== rows) throw new Error(`${n}: expected ${rows} rows for ${stmt}, got ${r.rows}`);
  return Object.fromEntries(got.map(([n, r]) => [n, r.sample]));
}

// ---------------------------------------------------------------- scenarios

/** Throughput: queries/s per round, client CPU per query, server CPU share, pooled latencies. */
async function throughput(stmt, rowsExpected, concurrency, withLatency) {
  const hs = await handles(MAIN);
  const samples = await agree(hs, stmt, rowsExpected);
  if (new Set(Object.values(samples)).size !== 1) throw new Error(`clients disagree on the rows of ${stmt}: ${JSON.stringify(samples)}`);
  const lat = Object.fromEntries(hs.map((h) => [h.name, []]));
  const res = await rounds(hs, async (h, warmup) => {
    const s0 = await serverCpu();
    const r = await h.call("burst", { stmt, concurrency, maxMs: P.burstMs, latency: withLatency && !warmup });
    const s1 = await serverCpu();
    if (r.lat) lat[h.name].push(...r.lat);
    return { qps: r.qps, ops: r.ops, clientUsPerOp: r.clientUsPerOp, serverShare: (s1 - s0) / (r.ms + 50) };
  }, { rounds: P.rounds });
  const out = {};
  for (const h of hs) {
    const r = res[h.name];
    const l = lat[h.name].sort((a, b) => a - b);
    out[h.name] = {
      qps: field(r, "qps"), clientUsPerOp: field(r, "clientUsPerOp"), serverShare: field(r, "serverShare"),
      ops: r.reduce((a, x) => a + x.ops, 0),
      vsRaw: ratios(r, res[RAW_HTTP], ["qps", "clientUsPerOp"]),
      ...(withLatency ? { p50: quantile(l, 0.5), p99: quantile(l, 0.99) } : {}),
    };
  }
  await closeAll(hs);
  return out;
}

async function largeDecode() {
  // Every client process runs one statement, the same number of times: the raw client of the unsafe query
  // is a process of its own. (It ran in raw node:http's process, whose heap the second large query per
  // round kept larger: raw against itself, A/A, read 1.06–1.14 in six runs, and every client paid for it.)
  const hs = await handles([...MAIN, RAW_HTTP_UNSAFE, CF_BIGINT]);
  const by = Object.fromEntries(hs.map((h) => [h.name, h]));
  const entries = [
    ...MAIN.map((n) => ({ name: n, h: by[n], stmt: STMT.large })),
    { name: RAW_HTTP_UNSAFE, h: by[RAW_HTTP_UNSAFE], stmt: STMT.unsafe },
    { name: `${CF_BIGINT} (unsafe)`, h: by[CF_BIGINT], stmt: STMT.unsafe },
  ];
  const sample = [0, 12_345, LARGE_ROWS - 1];
  const safe = await agree(hs.filter((h) => h.name !== CF_BIGINT && h.name !== RAW_HTTP_UNSAFE), STMT.large, LARGE_ROWS, sample);
  if (new Set(Object.values(safe)).size !== 1) throw new Error(`clients disagree on the large result: ${JSON.stringify(safe).slice(0, 500)}`);
  const big = JSON.parse((await by[CF_BIGINT].call("check", { stmt: STMT.unsafe, sample: [3] })).sample);
  if (big[0][5] !== "9007199254764750n") throw new Error(`int64: "bigint" gave ${big[0][5]}, expected 9007199254764750n`);
  const t0 = now();
  const res = await rounds(entries, (e) => e.h.call("one", { stmt: e.stmt, expectRows: LARGE_ROWS }),
    { rounds: P.largeRounds, warmupRounds: quick ? 0 : 1, maxMs: quick ? 8_000 : 90_000 });
  const out = {};
  for (const e of entries) {
    const base = res[e.name.endsWith("(unsafe)") ? RAW_HTTP_UNSAFE : RAW_HTTP];
    out[e.name] = { ms: field(res[e.name], "ms"), cpuMs: field(res[e.name], "cpuMs"), vsRaw: ratios(res[e.name], base, ["ms", "cpuMs"]) };
  }
  await closeAll(hs);
  return { results: out, wallMs: now() - t0 };
}

async function bulkInsert() {
  const hs = await handles(MAIN);
  for (const h of hs) {
    const r = await h.call("bulkCheck", { stmt: STMT.bulk, n: 10_000 });
    if (r.results !== 10_000) throw new Error(`${h.name}: ${r.results} bulk results`);
  }
  const res = await rounds(hs, (h) => h.call("one", { stmt: STMT.bulk, bulkRows: 10_000, expectRows: 10_000, times: P.bulkTimes }),
    { rounds: P.bulkRounds, maxMs: quick ? 5_000 : 30_000 });
  const out = {};
  for (const h of hs) out[h.name] = { ms: field(res[h.name], "ms"), cpuMs: field(res[h.name], "cpuMs"), vsRaw: ratios(res[h.name], res[RAW_HTTP], ["ms", "cpuMs"]) };
  await closeAll(hs);
  return out;
}

let result;
switch (scenario) {
  case "point-c1": result = await throughput(STMT.point, 1, 1, true); break;
  case "point-c32": result = await throughput(STMT.point, 1, 32, false); break;
  case "small-c8": result = await throughput(STMT.small, 10, 8, false); break;
  case "large-decode": result = await largeDecode(); break;
  case "bulk-insert": result = await bulkInsert(); break;
  default: throw new Error(`unknown scenario ${scenario}`);
}
const mode = `${inProcess ? "in-process" : "process per client"}${process.env.BENCH_HOLD_PREVIOUS === "0" ? ", no client holding its previous result (BENCH_HOLD_PREVIOUS=0)" : ", each client holding its previous result"}`;
process.stdout.write(`RESULT ${JSON.stringify({ mode, data: result })}\n`);
process.exit(0);
