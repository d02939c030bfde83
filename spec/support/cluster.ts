/**
 * Runtime-agnostic spec-side client for the fake CrateDB control server (global `fetch` only).
 *
 * The control URL comes from `globalThis.CRATEDB_FETCH_CONTROL`, else the env var `CRATEDB_FETCH_CONTROL`
 * (Node/Bun `process.env`, Deno `Deno.env`).
 */
import type {
  ClusterCerts,
  ClusterHandle,
  ClusterInfo,
  ClusterOptions,
  ClusterStats,
  CursorCounts,
  FaultRule,
  JobInfo,
  KillInfo,
  SeenRequest,
} from "./cluster-api.js";

import { leakCheckEveryTest } from "./leaks.js";

export type * from "./cluster-api.js";

leakCheckEveryTest();

interface RuntimeGlobals {
  CRATEDB_FETCH_CONTROL?: string;
  process?: { env?: Record<string, string | undefined> };
  Deno?: { env?: { get(name: string): string | undefined } };
}

export function controlUrl(): string {
  const g = globalThis as RuntimeGlobals;
  let url = g.CRATEDB_FETCH_CONTROL ?? g.process?.env?.["CRATEDB_FETCH_CONTROL"];
  if (url === undefined) {
    try {
      url = g.Deno?.env?.get("CRATEDB_FETCH_CONTROL");
    } catch {
      url = undefined; // Deno without --allow-env
    }
  }
  if (!url) {
    throw new Error(
      "CRATEDB_FETCH_CONTROL is not set: start `spec/support/control-server` and pass its CONTROL_URL " +
        "(as globalThis.CRATEDB_FETCH_CONTROL or the CRATEDB_FETCH_CONTROL environment variable)",
    );
  }
  return url.replace(/\/+$/, "");
}

/** `nullOn404`: a 404 whose body is JSON `null` (an absent item, not an unknown route or cluster) resolves to null. */
async function call<T>(method: string, path: string, body?: unknown, nullOn404 = false): Promise<T> {
  const url = controlUrl() + path;
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new Error(`control server unreachable at ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await res.text();
  if (nullOn404 && res.status === 404 && text.trim() === "null") return null as T;
  if (!res.ok) {
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new Error(`control server ${method} ${path} → ${res.status}: ${message}`);
  }
  return JSON.parse(text) as T;
}

class Handle implements ClusterHandle {
  private closed = false;
  constructor(readonly info: ClusterInfo) {}

  get urls(): string[] {
    return this.info.urls;
  }
  get certs(): ClusterCerts | undefined {
    return this.info.certs;
  }
  private path(rest: string): string {
    return `/clusters/${encodeURIComponent(this.info.id)}${rest}`;
  }
  async fault(rule: FaultRule): Promise<void> {
    await call("POST", this.path("/faults"), rule);
  }
  async clearFaults(): Promise<void> {
    await call("POST", this.path("/clear-faults"));
  }
  async stopNode(node: number): Promise<void> {
    await call("POST", this.path(`/nodes/${node}/stop`));
  }
  async startNode(node: number): Promise<void> {
    await call("POST", this.path(`/nodes/${node}/start`));
  }
  /** The requests seen, without CORS preflights (a browser's own traffic) unless asked for. */
  async requests(node?: number, opts: { preflights?: boolean } = {}): Promise<SeenRequest[]> {
    const all = await call<SeenRequest[]>("GET", this.path(node === undefined ? "/requests" : `/requests?node=${node}`));
    return opts.preflights ? all : all.filter((r) => !(r.method === "OPTIONS" && r.headers["access-control-request-method"] !== undefined));
  }
  stats(): Promise<ClusterStats> {
    return call("GET", this.path("/stats"));
  }
  async resetLog(): Promise<void> {
    await call("POST", this.path("/reset-log"));
  }
  cursors(): Promise<CursorCounts> {
    return call("GET", this.path("/cursors"));
  }
  jobs(): Promise<JobInfo[]> {
    return call("GET", this.path("/jobs"));
  }
  kills(): Promise<KillInfo[]> {
    return call("GET", this.path("/kills"));
  }
  blob(table: string, digest: string): Promise<{ size: number; sha1: string } | null> {
    return call("GET", this.path(`/blobs/${encodeURIComponent(table)}/${encodeURIComponent(digest)}`), undefined, true);
  }
  async seedBlob(table: string, size: number, seed: number): Promise<string> {
    const found = await call<{ digest: string } | null>("POST", this.path(`/blobs/${encodeURIComponent(table)}?size=${size}&seed=${seed}`), undefined, true);
    if (!found) throw new Error(`seedBlob: no blob table ${table}`);
    return found.digest;
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await call("DELETE", this.path(""));
  }
}

// A page on another origin can only talk to the fake with CORS, as with a real CrateDB; specs that
// test CORS itself pass their own `cors` (or `cors: null` for none). Content-Encoding is for the
// `compress` specs: an app that gzips its requests needs it in http.cors.allow-headers too.
const BROWSER_CORS = {
  allowOrigin: "*",
  allowHeaders: "X-Requested-With,Content-Type,Content-Length,Content-Encoding,Authorization,Default-Schema,X-App,X-Trace-Id,X-Tenant",
};
const inBrowser = typeof (globalThis as { document?: unknown }).document !== "undefined";

export async function startCluster(opts: Omit<ClusterOptions, "cors"> & { cors?: ClusterOptions["cors"] | null } = {}): Promise<ClusterHandle> {
  const { cors, ...rest } = opts;
  const options: ClusterOptions = { ...rest };
  if (cors !== null && (cors !== undefined || inBrowser)) options.cors = cors ?? BROWSER_CORS;
  return new Handle(await call<ClusterInfo>("POST", "/clusters", options));
}

/**
 * A black-holed peer: a TCP listener that accepts and never sends a byte. `https://` to it hangs in the TLS
 * handshake, as a connect to a dropped host does; `http://` to it hangs after the request was sent.
 */
export interface Tarpit {
  port: number;
  /** Connections accepted so far, and open now. */
  stats(): Promise<{ accepted: number; open: number }>;
  close(): Promise<void>;
}

export async function startTarpit(): Promise<Tarpit> {
  const { id, port } = await call<{ id: string; port: number }>("POST", "/tarpits");
  return {
    port,
    stats: () => call<{ accepted: number; open: number }>("GET", `/tarpits/${id}`),
    close: async () => void (await call<unknown>("DELETE", `/tarpits/${id}`)),
  };
}

/** Start a cluster, run `fn`, and always close the cluster (also when `fn` throws). */
export async function withCluster<T>(opts: ClusterOptions, fn: (c: ClusterHandle) => Promise<T>): Promise<T> {
  const c = await startCluster(opts);
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

/**
 * One cluster for a whole `describe` (call it inside one): started in `before` and handed to `started`,
 * closed in `after`, with faults and the request log cleared before each test. With `restartNodes`, every
 * node is listening again after each test (for suites that stop nodes).
 */
export function clusterPerSuite(opts: ClusterOptions, started: (c: ClusterHandle) => void, { restartNodes = false } = {}): void {
  let cluster: ClusterHandle | undefined;
  before(async () => {
    cluster = await startCluster(opts);
    started(cluster);
  });
  after(async () => cluster?.close());
  beforeEach(async () => {
    await cluster?.clearFaults();
    await cluster?.resetLog();
  });
  if (restartNodes) {
    afterEach(async () => {
      if (cluster === undefined) return;
      await cluster.clearFaults();
      for (let i = 0; i < cluster.urls.length; i++) await cluster.startNode(i).catch(() => undefined);
    });
  }
}

/** The kill of a cancelled statement (see spec/cancel.spec.ts): a sys.jobs lookup or a KILL, sent in the background. */
export function isKill(body: string): boolean {
  return body.includes("FROM sys.jobs WHERE strpos(stmt, concat('/* cratedb-fetch:'") || body.startsWith('{"stmt":"KILL ?"');
}

/**
 * The node of every request the cluster has seen since its log was last reset, in order — without the
 * background kills of timed-out or aborted statements, which the cancellation spec covers.
 */
export async function nodesSeen(cluster: ClusterHandle): Promise<number[]> {
  return (await cluster.requests()).filter((r) => !isKill(r.body)).map((r) => r.node);
}
