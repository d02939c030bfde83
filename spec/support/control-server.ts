/**
 * Control server for fake CrateDB clusters (JSON over HTTP; see `cluster-api.ts`).
 *
 * Prints exactly one stdout line `CONTROL_URL=http://127.0.0.1:PORT` once listening. Every response is JSON with
 * `access-control-allow-origin: *` so a browser page on another origin can drive it. Exits on SIGTERM/SIGINT and,
 * when stdin is a pipe or socket, when stdin closes (an orphaned child dies with its parent).
 *
 *   POST   /clusters                         ClusterOptions → ClusterInfo
 *   POST   /clusters/:id/faults              FaultRule → {}
 *   POST   /clusters/:id/clear-faults        → {}
 *   POST   /clusters/:id/nodes/:n/stop|start → {}
 *   GET    /clusters/:id/requests[?node=n]   → SeenRequest[]
 *   POST   /clusters/:id/reset-log           → {}  (also forgets finished jobs and kills)
 *   GET    /clusters/:id/stats               → ClusterStats
 *   GET    /clusters/:id/cursors             → { open, declared, closed }
 *   GET    /clusters/:id/jobs                → [{ id, node, stmt, state, started }]
 *   GET    /clusters/:id/kills               → [{ node, jobId, found, at }]
 *   GET    /clusters/:id/blobs/:table/:digest → { size, sha1 } · 404 `null` when the blob (or blob table) is absent
 *   POST   /clusters/:id/blobs/:table?size=N&seed=S → { digest } · 404 `null` when the blob table is absent
 *   DELETE /clusters/:id                     → {}
 *   POST   /sql-servers                      SqlServerOptions → { id, url }  (CrateDB protocol, SQL on PGlite; pglite/)
 *   DELETE /sql-servers/:id                  → {}
 */
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import type { AddressInfo, Socket } from "node:net";
import type { ClusterOptions, FaultRule } from "./cluster-api.js";
import { blobInfo, seedBlob } from "./fake/blobs.js";
import { removeCerts } from "./fake/certs.js";
import { FakeCluster, OptionError } from "./fake/cluster.js";
import { stringify } from "./fake/json.js";
import { startPgliteServer, type PgliteServer } from "./pglite/server.js";
import type { SqlServerOptions } from "./sql-server.js";

const clusters = new Map<string, FakeCluster>();
let nextId = 1;
const sqlServers = new Map<string, PgliteServer>();
/** Tarpits: TCP listeners that accept and never send a byte (a TLS handshake to one hangs: a black-holed peer). */
const tarpits = new Map<string, { server: net.Server; sockets: Set<Socket>; accepted: number }>();

async function startTarpit(): Promise<{ id: string; port: number }> {
  const sockets = new Set<Socket>();
  const pit = { server: net.createServer(), sockets, accepted: 0 };
  pit.server.on("connection", (s) => {
    pit.accepted++;
    sockets.add(s);
    s.on("error", () => undefined);
    s.on("close", () => sockets.delete(s));
    s.resume(); // read and drop what arrives (so a client's close is seen); never answer

  });
  await new Promise<void>((resolve) => pit.server.listen(0, "127.0.0.1", resolve));
  const id = String(nextId++);
  tarpits.set(id, pit);
  return { id, port: (pit.server.address() as AddressInfo).port };
}

function stopTarpit(id: string): void {
  const pit = tarpits.get(id);
  if (!pit) throw new HttpError(404, `unknown tarpit ${id}`);
  tarpits.delete(id);
  pit.server.close();
  for (const s of pit.sockets) s.destroy();
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const CORS_HEADERS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
  "access-control-allow-headers": "*, content-type",
  "access-control-max-age": "600",
};

function send(res: http.ServerResponse, status: number, json: string): void {
  res.writeHead(status, { ...CORS_HEADERS, "content-type": "application/json", "content-length": Buffer.byteLength(json) });
  res.end(json);
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8").trim();
  if (text === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, "request body is not JSON");
  }
}

function cluster(id: string): FakeCluster {
  const c = clusters.get(id);
  if (!c) throw new HttpError(404, `unknown cluster ${id}`);
  return c;
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const method = req.method ?? "GET";
  if (method === "OPTIONS") {
    res.writeHead(204, { ...CORS_HEADERS, "content-length": "0" });
    res.end();
    return;
  }
  const url = new URL(req.url ?? "/", "http://control");
  const parts = url.pathname.split("/").filter((p) => p !== "");
  const param = (i: number) => i === 1 || i === 3 || (i === 4 && parts[2] === "blobs");
  const route = `${method} ${parts.map((p, i) => (param(i) ? ":" : p)).join("/")}`;
  const id = parts[1] ?? "";
  switch (route) {
    case "POST clusters": {
      const opts = (await readJson(req)) as ClusterOptions;
      const key = String(nextId++);
      const c = await FakeCluster.create(key, opts ?? {});
      clusters.set(key, c);
      return send(res, 200, stringify(c.info()));
    }
    case "POST clusters/:/faults":
      cluster(id).addFault((await readJson(req)) as FaultRule);
      return send(res, 200, "{}");
    case "POST clusters/:/clear-faults":
      cluster(id).faults.clear();
      return send(res, 200, "{}");
    case "POST clusters/:/nodes/:/stop":
    case "POST clusters/:/nodes/:/start": {
      const node = cluster(id).node(Number(parts[3]));
      await (parts[4] === "stop" ? node.stop() : node.start());
      return send(res, 200, "{}");
    }
    case "GET clusters/:/requests": {
      const n = url.searchParams.get("node");
      return send(res, 200, stringify(cluster(id).requests(n === null || n === "" ? undefined : Number(n))));
    }
    case "POST clusters/:/reset-log":
      cluster(id).resetLog();
      return send(res, 200, "{}");
    case "GET clusters/:/cursors":
      return send(res, 200, stringify(cluster(id).cursors()));
    case "GET clusters/:/jobs":
      return send(res, 200, stringify(cluster(id).jobs()));
    case "GET clusters/:/kills":
      return send(res, 200, stringify(cluster(id).kills()));
    case "GET clusters/:/stats":
      return send(res, 200, stringify(cluster(id).stats()));
    case "GET clusters/:/blobs/:/:": {
      const found = blobInfo(cluster(id).db, decodeURIComponent(parts[3] ?? ""), decodeURIComponent(parts[4] ?? ""));
      return found ? send(res, 200, stringify(found)) : send(res, 404, "null");
    }
    case "POST clusters/:/blobs/:": {
      const size = Number(url.searchParams.get("size"));
      const seed = Number(url.searchParams.get("seed") ?? "1");
      if (!Number.isSafeInteger(size) || size < 0 || size > 1 << 30) return send(res, 400, stringify({ error: "size must be 0 … 1 GiB" }));
      const digest = seedBlob(cluster(id).db, decodeURIComponent(parts[3] ?? ""), size, seed);
      return digest ? send(res, 200, stringify({ digest })) : send(res, 404, "null");
    }
    case "DELETE clusters/:": {
      const c = cluster(id);
      clusters.delete(id);
      await c.close();
      return send(res, 200, "{}");
    }
    case "POST sql-servers": {
      const o = ((await readJson(req)) ?? {}) as SqlServerOptions;
      const key = String(nextId++);
      const server = await startPgliteServer({
        ...(o.cors ? { cors: o.cors } : {}),
        ...(o.auth ? { auth: o.auth } : {}),
        ...(o.clusterName ? { clusterName: o.clusterName } : {}),
        ...(o.nodeName ? { nodeName: o.nodeName } : {}),
      });
      if (shuttingDown) {
        await server.close();
        throw new HttpError(503, "control server is shutting down");
      }
      sqlServers.set(key, server);
      return send(res, 200, stringify({ id: key, url: server.url }));
    }
    case "GET leaks": {
      // What a spec may leave behind, across every live fake cluster (the harness's leak check).
      let sockets = 0;
      let cursors = 0;
      for (const c of clusters.values()) {
        for (const n of c.stats().nodes) sockets += n.connectionsOpen;
        cursors += c.cursors().open;
      }
      return send(res, 200, stringify({ sockets, cursors }));
    }
    case "POST tarpits":
      return send(res, 200, stringify(await startTarpit()));
    case "GET tarpits/:": {
      const pit = tarpits.get(id);
      if (!pit) throw new HttpError(404, `unknown tarpit ${id}`);
      return send(res, 200, stringify({ accepted: pit.accepted, open: pit.sockets.size }));
    }
    case "DELETE tarpits/:":
      stopTarpit(id);
      return send(res, 200, "{}");
    case "DELETE sql-servers/:": {
      const server = sqlServers.get(id);
      if (!server) throw new HttpError(404, `unknown SQL server ${id}`);
      sqlServers.delete(id);
      await server.close();
      return send(res, 200, "{}");
    }
    default:
      throw new HttpError(404, `no route ${method} ${url.pathname}`);
  }
}

const sockets = new Set<Socket>();
const server = http.createServer((req, res) => {
  handle(req, res).catch((e: unknown) => {
    const status = e instanceof HttpError ? e.status : e instanceof OptionError ? 400 : 500;
    const message = e instanceof Error ? e.message : String(e);
    if (!res.headersSent) send(res, status, JSON.stringify({ error: message }));
    else res.destroy();
  });
});
server.keepAliveTimeout = 0;
server.on("connection", (s: Socket) => {
  sockets.add(s);
  s.on("close", () => sockets.delete(s));
});

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  const timer = setTimeout(() => process.exit(code), 3000);
  timer.unref();
  try {
    await Promise.all([...clusters.values()].map((c) => c.close()));
    clusters.clear();
    await Promise.all([...sqlServers.values()].map((s) => s.close()));
    sqlServers.clear();
    for (const id of [...tarpits.keys()]) stopTarpit(id);
    server.close();
    for (const s of sockets) s.destroy();
    removeCerts();
  } finally {
    process.exit(code);
  }
}

process.on("SIGTERM", () => void shutdown(0));
process.on("SIGINT", () => void shutdown(0));

/** Watch stdin only when it is a pipe/socket; a /dev/null or TTY stdin must not stop the server. */
function watchStdin(): void {
  let st: fs.Stats;
  try {
    st = fs.fstatSync(0);
  } catch {
    return;
  }
  if (!st.isFIFO() && !st.isSocket()) return;
  process.stdin.on("end", () => void shutdown(0));
  process.stdin.on("close", () => void shutdown(0));
  process.stdin.on("error", () => void shutdown(0));
  process.stdin.resume();
}

server.listen(0, "127.0.0.1", () => {
  const port = (server.address() as AddressInfo).port;
  process.stdout.write(`CONTROL_URL=http://127.0.0.1:${port}\n`);
  watchStdin();
});
