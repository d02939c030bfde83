/**
 * Runtime-agnostic spec-side handle on the embedded SQL server (global `fetch` only): the control server starts a
 * server that speaks CrateDB's HTTP protocol and runs the SQL on PGlite (`spec/support/pglite/`, a test double,
 * not CrateDB) and returns its URL.
 *
 *   const server = await startSqlServer();   // { id, url, close() }
 */
import type { ClusterOptions } from "./cluster-api.js";
import { controlUrl } from "./cluster.js";

/** Options for `POST /sql-servers` on the control server (JSON). */
export interface SqlServerOptions {
  /** CORS as CrateDB's `http.cors.*`; in a browser the default allows any origin and the client's headers. */
  cors?: ClusterOptions["cors"];
  /** Password/JWT users; without it every request runs as `crate`. */
  auth?: ClusterOptions["auth"];
  clusterName?: string;
  nodeName?: string;
}

export interface SqlServerHandle {
  readonly id: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  close(): Promise<void>;
}

interface RuntimeGlobals {
  process?: { env?: Record<string, string | undefined> };
  Deno?: { env?: { get(name: string): string | undefined } };
}

/** An environment variable in Node, Bun and Deno (with --allow-env); undefined elsewhere. */
export function envVar(name: string): string | undefined {
  const g = globalThis as RuntimeGlobals;
  const fromProcess = g.process?.env?.[name];
  if (fromProcess !== undefined) return fromProcess;
  try {
    return g.Deno?.env?.get(name);
  } catch {
    return undefined;
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const url = controlUrl() + path;
  const init: RequestInit = { method };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { "content-type": "application/json" };
  }
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`control server ${method} ${path} → ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

const BROWSER_CORS = {
  allowOrigin: "*",
  allowHeaders: "X-Requested-With,Content-Type,Content-Length,Content-Encoding,Authorization,Default-Schema",
};
const inBrowser = typeof (globalThis as { document?: unknown }).document !== "undefined";

export async function startSqlServer(opts: SqlServerOptions = {}): Promise<SqlServerHandle> {
  const options: SqlServerOptions = { ...opts };
  if (!options.cors && inBrowser) options.cors = BROWSER_CORS;
  const { id, url } = await call<{ id: string; url: string }>("POST", "/sql-servers", options);
  let closed = false;
  return {
    id,
    url,
    async close() {
      if (closed) return;
      closed = true;
      await call("DELETE", `/sql-servers/${encodeURIComponent(id)}`);
    },
  };
}
