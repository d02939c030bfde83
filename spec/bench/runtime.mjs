// point-c1 and point-c32 under Bun or Deno (also runs under Node): the runtime's raw fetch vs
// cratedb-fetch's native entry for that runtime (imported by path), plus raw node:http as a reference.
//   bun spec/bench/runtime.mjs <url> <dist entry path> [--quick]
//   deno run -A spec/bench/runtime.mjs <url> <dist entry path> [--quick]
// Prints one line `RESULT <json>`.
import http from "node:http";
import { burst, field, pairedRatio, quantile, rounds } from "./common.mjs";
import { STMT } from "./data.mjs";

const args = (globalThis.Deno?.args ?? process.argv.slice(2));
const [url, entry] = args;
const quick = args.includes("--quick");
const P = quick ? { rounds: 4, burstMs: 80 } : { rounds: 30, burstMs: 150 };
const JSON_HEADERS = { "content-type": "application/json", accept: "application/json" };
const runtime = globalThis.Deno ? `Deno ${Deno.version.deno}` : globalThis.Bun ? `Bun ${Bun.version}` : `Node ${process.versions.node}`;

const sqlUrl = new URL("/_sql?types=true", url);
const rawFetch = {
  name: "raw fetch",
  query: async (stmt) => {
    const res = await fetch(sqlUrl.href, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify({ stmt }) });
    const json = JSON.parse(await res.text());
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return json.rows;
  },
  close: async () => {},
};

const agent = new http.Agent({ keepAlive: true });
const rawHttp = {
  name: "raw node:http",
  query: (stmt) => new Promise((resolve, reject) => {
    const body = new TextEncoder().encode(JSON.stringify({ stmt }));
    const req = http.request({ host: sqlUrl.hostname, port: sqlUrl.port, path: sqlUrl.pathname + sqlUrl.search, method: "POST", agent,
      headers: { ...JSON_HEADERS, "content-length": body.byteLength } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString()).rows);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on("error", reject);
    req.end(body);
  }),
  close: async () => agent.destroy(),
};

const { connect } = await import(new URL(`file://${entry}`).href);
const conn = connect(url);
const cf = { name: "cratedb-fetch", query: async (stmt) => (await conn.query(stmt)).rows, close: () => conn.close() };

const clients = [rawFetch, cf, rawHttp];
for (const c of clients) {
  const rows = await c.query(STMT.point);
  if (JSON.stringify(rows) !== "[[1]]") throw new Error(`${c.name}: ${JSON.stringify(rows)}`);
}

const out = { runtime };
for (const [scenario, concurrency] of [["point-c1", 1], ["point-c32", 32]]) {
  const lat = Object.fromEntries(clients.map((c) => [c.name, []]));
  const res = await rounds(clients, async (c, warmup) => {
    await burst(() => c.query(STMT.point), { concurrency, maxOps: concurrency * 4, maxMs: 50 });
    const b = await burst(() => c.query(STMT.point), { concurrency, maxMs: P.burstMs, latencies: warmup || concurrency > 1 ? undefined : lat[c.name] });
    return { qps: b.perSec };
  }, { rounds: P.rounds });
  out[scenario] = {};
  for (const c of clients) {
    const l = lat[c.name].sort((a, b) => a - b);
    const vsRawFetch = pairedRatio(res[c.name].map((x) => x.qps), res["raw fetch"].map((x) => x.qps));
    out[scenario][c.name] = { qps: field(res[c.name], "qps"), vsRawFetch, ...(concurrency === 1 ? { p50: quantile(l, 0.5), p99: quantile(l, 0.99) } : {}) };
  }
}
for (const c of clients) await c.close();
console.log(`RESULT ${JSON.stringify(out)}`);
if (globalThis.Deno) Deno.exit(0);
else process.exit(0);
