// The Node clients under test. Each: { name, query(stmt) → rows, bulk(stmt, rows) → item count, close() }.
// The raw clients POST the same JSON to the same URL (`/_sql?types=true`) and JSON.parse the answer.
import http from "node:http";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const RAW_HTTP = "raw node:http";
/** The same client as RAW_HTTP in a second process: the A/A pair whose ratio shows the bench's noise floor. */
export const RAW_HTTP_AA = "raw node:http (A/A)";
/** The raw client of the unsafe-BIGINT large query, in a process of its own (see large-decode). */
export const RAW_HTTP_UNSAFE = "raw node:http (unsafe)";
export const RAW_FETCH = "raw fetch";
export const CF = "cratedb-fetch";
export const CF_FETCH = "cratedb-fetch (fetch)";
export const NODE_CRATE = "node-crate";
export const CF_BIGINT = 'cratedb-fetch int64:"bigint"';

const JSON_HEADERS = { "content-type": "application/json", accept: "application/json" };

function rawHttp(url, name = RAW_HTTP) {
  const agent = new http.Agent({ keepAlive: true });
  const u = new URL("/_sql?types=true", url);
  const post = (payload) => new Promise((resolve, reject) => {
    const body = Buffer.from(JSON.stringify(payload));
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: "POST", agent,
      headers: { ...JSON_HEADERS, "content-length": body.length } }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        try {
          const json = JSON.parse(Buffer.concat(chunks).toString());
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${json.error?.message}`));
          else resolve(json);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on("error", reject);
    req.end(body);
  });
  return {
    name,
    query: async (stmt) => (await post({ stmt })).rows,
    bulk: async (stmt, rows) => (await post({ stmt, bulk_args: rows })).results.length,
    close: async () => agent.destroy(),
  };
}

function rawFetch(url) {
  const u = new URL("/_sql?types=true", url).href;
  const post = async (payload) => {
    const res = await fetch(u, { method: "POST", headers: JSON_HEADERS, body: JSON.stringify(payload) });
    const json = JSON.parse(await res.text());
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${json.error?.message}`);
    return json;
  };
  return {
    name: RAW_FETCH,
    query: async (stmt) => (await post({ stmt })).rows,
    bulk: async (stmt, rows) => (await post({ stmt, bulk_args: rows })).results.length,
    close: async () => {},
  };
}

function cratedbFetch(name, connect, url, options) {
  const conn = connect(url, options);
  return {
    name,
    query: async (stmt) => (await conn.query(stmt)).rows,
    bulk: async (stmt, rows) => (await conn.bulk(stmt, rows)).results.length,
    close: () => conn.close(),
  };
}

function nodeCrate(url, root) {
  const require = createRequire(join(root, "package.json"));
  const crate = require("node-crate").getNewInstance();
  crate.connect(url);
  return {
    name: NODE_CRATE,
    query: async (stmt) => (await crate.execute(stmt)).rows,
    bulk: async (stmt, rows) => (await crate.executeBulk(stmt, rows)).results.length,
    close: async () => http.globalAgent.destroy(),
  };
}

/** Loads dist/node.js (what `import "cratedb-fetch"` gives Node), or its snapshot in $BENCH_DIST. */
export async function loadCratedbFetch(root) {
  return import(pathToFileURL(join(process.env.BENCH_DIST ?? join(root, "dist"), "node.js")).href);
}

/** All Node clients, in a fixed order. `which` filters by name. */
export async function makeClients(url, root, which) {
  const { connect } = await loadCratedbFetch(root);
  const all = {
    [RAW_HTTP]: () => rawHttp(url),
    [RAW_HTTP_AA]: () => rawHttp(url, RAW_HTTP_AA),
    [RAW_HTTP_UNSAFE]: () => rawHttp(url, RAW_HTTP_UNSAFE),
    [RAW_FETCH]: () => rawFetch(url),
    [CF]: () => cratedbFetch(CF, connect, url),
    [CF_FETCH]: () => cratedbFetch(CF_FETCH, connect, url, { fetch: globalThis.fetch }),
    [NODE_CRATE]: () => nodeCrate(url, root),
    [CF_BIGINT]: () => cratedbFetch(CF_BIGINT, connect, url, { int64: "bigint" }),
  };
  return (which ?? Object.keys(all)).map((n) => all[n]());
}
