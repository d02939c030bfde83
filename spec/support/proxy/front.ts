/**
 * The proxy front: a control server (same routes, see control-server.ts) that stands between the specs
 * and the real control server and puts a real reverse proxy in front of every fake cluster.
 *
 *   node build/support/proxy-front.mjs nginx|haproxy     (env CRATEDB_FETCH_UPSTREAM_CONTROL = the real control URL)
 *
 * `POST /clusters` creates the cluster upstream, starts one proxy process for it (spec/support/proxy/
 * processes.ts) and answers the cluster's info with every node URL replaced by that node's proxy URL,
 * `https://127.0.0.1:<port>/crate`: the specs' `startCluster()` hands out proxy URLs and the specs run
 * unchanged. `DELETE /clusters/:id` stops the proxy (and its workers) before deleting the cluster.
 * One more route, `GET /clusters/:id/proxy`, tells spec/proxy.spec.ts the round-robin URL and the timeouts.
 * Every other request is passed through as it is.
 *
 * TLS: the proxy presents a server certificate of the test CA (spec/support/fake/certs.ts); the CA is
 * copied to build/proxy/<kind>/ca.crt, which the lane passes to the specs' Node as NODE_EXTRA_CA_CERTS.
 * Prints `CONTROL_URL=…` once listening; stops every proxy on SIGTERM/SIGINT and when stdin closes.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { ClusterInfo } from "../cluster-api.js";
import { getCerts, removeCerts } from "../fake/certs.js";
import { KEEPALIVE_MS, PREFIX, READ_TIMEOUT_MS } from "./configs.js";
import { startProxy, type ProxyKind, type RunningProxy } from "./processes.js";

const kind = process.argv[2] as ProxyKind;
if (kind !== "nginx" && kind !== "haproxy") throw new Error(`usage: proxy-front nginx|haproxy (got ${String(kind)})`);
const upstream = (process.env["CRATEDB_FETCH_UPSTREAM_CONTROL"] ?? "").replace(/\/+$/, "");
if (!upstream) throw new Error("CRATEDB_FETCH_UPSTREAM_CONTROL is not set");
const root = path.resolve(process.env["CRATEDB_FETCH_PROXY_DIR"] ?? "build/proxy", kind);

fs.rmSync(root, { recursive: true, force: true });
fs.mkdirSync(root, { recursive: true });
const certs = getCerts();
const tls = {
  certPath: path.join(certs.dir, "server.crt"),
  keyPath: path.join(certs.dir, "server.key"),
  pemPath: path.join(root, "server.pem"),
};
fs.writeFileSync(tls.pemPath, certs.serverCert + certs.serverKey, { mode: 0o600 });
fs.writeFileSync(path.join(root, "ca.crt"), certs.ca);

const proxies = new Map<string, RunningProxy>();

function send(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "application/json", "access-control-allow-origin": "*", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function forward(method: string, url: string, body: Buffer): Promise<{ status: number; text: string }> {
  const init: RequestInit = { method };
  if (body.length > 0) init.body = body.toString("utf8"), init.headers = { "content-type": "application/json" };
  const res = await fetch(upstream + url, init);
  return { status: res.status, text: await res.text() };
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const method = req.method ?? "GET";
  const url = req.url ?? "/";
  const parts = new URL(url, "http://front").pathname.split("/").filter(Boolean);
  const body = await readBody(req);
  if (method === "GET" && parts[0] === "clusters" && parts[2] === "proxy" && parts.length === 3) {
    const p = proxies.get(parts[1] ?? "");
    if (!p) return send(res, 404, JSON.stringify({ error: `no proxy for cluster ${parts[1]}` }));
    return send(res, 200, JSON.stringify({
      kind, balancer: `https://127.0.0.1:${p.layout.balancer}${PREFIX}`, nodes: p.layout.routes.map((r) => r.node),
      keepaliveMs: KEEPALIVE_MS, readTimeoutMs: READ_TIMEOUT_MS, dir: p.layout.dir,
    }));
  }
  if (method === "DELETE" && parts[0] === "clusters" && parts.length === 2) {
    const p = proxies.get(parts[1] ?? "");
    proxies.delete(parts[1] ?? "");
    await p?.stop();
  }
  const answer = await forward(method, url, body);
  if (method !== "POST" || url !== "/clusters" || answer.status !== 200) return send(res, answer.status, answer.text);

  const info = JSON.parse(answer.text) as ClusterInfo;
  let proxy: RunningProxy;
  try {
    proxy = await startProxy(kind, root, path.join(root, `cluster-${info.id}`), tls, info.urls);
  } catch (e) {
    await forward("DELETE", `/clusters/${encodeURIComponent(info.id)}`, Buffer.alloc(0)).catch(() => undefined);
    throw e;
  }
  if (shuttingDown) return void (await proxy.stop(), send(res, 503, JSON.stringify({ error: "shutting down" })));
  proxies.set(info.id, proxy);
  info.urls = proxy.layout.routes.map((r) => `https://127.0.0.1:${r.listen}${PREFIX}`);
  // The client talks TLS to the proxy, so the CA that matters is the proxy's.
  if (info.certs) info.certs = { ...info.certs, ca: certs.ca, caPath: path.join(root, "ca.crt") };
  send(res, 200, JSON.stringify(info));
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    if (!res.headersSent) send(res, 500, JSON.stringify({ error: `proxy front: ${message}` }));
    else res.destroy();
  });
});
server.keepAliveTimeout = 0;

let shuttingDown = false;
async function shutdown(): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  const timer = setTimeout(() => process.exit(1), 8000);
  timer.unref();
  try {
    await Promise.all([...proxies.values()].map((p) => p.stop()));
    proxies.clear();
    server.close();
    removeCerts();
  } finally {
    process.exit(0);
  }
}
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
process.stdin.on("end", () => void shutdown());
process.stdin.on("close", () => void shutdown());
process.stdin.on("error", () => void shutdown());
process.stdin.resume();

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`CONTROL_URL=http://127.0.0.1:${(server.address() as AddressInfo).port}\n`);
});
