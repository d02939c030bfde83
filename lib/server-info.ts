/** `conn.serverInfo()`: `GET /` on a node, loaded (a chunk of its own) on its first call. */
import type { Kit } from "./kit.js";
import type { RequestOptions } from "./options.js";
import type { Requester, RequestSpec } from "./request.js";
import type { ServerEntry } from "./servers.js";

/** What `GET /` tells about a node. */
export interface ServerInfo {
  /** The server asked, `scheme://host:port[/prefix]`. */
  server: string;
  /** The node name. */
  name: string;
  clusterName: string;
  /** The CrateDB version number, e.g. "6.4.3". */
  version: string;
}

const ROOT_HEADERS: Record<string, string> = { accept: "application/json" };

/** Asks `server` (only that one, no failover) or the server the pool picks. */
export async function serverInfo(kit: Kit, requester: Requester, server: string | undefined, o: RequestOptions, since?: number): Promise<ServerInfo> {
  const spec: RequestSpec = { method: "GET", path: "/", headers: ROOT_HEADERS, retrySafe: true, schema: true };
  if (since !== undefined) spec.since = since;
  if (server !== undefined) spec.pinned = entryFor(kit, requester, server);
  if (o.signal !== undefined) spec.signal = o.signal;
  if (o.timeout !== undefined) spec.timeout = o.timeout;
  const answer = await requester.send(spec);
  const { body } = await kit.readJson(answer, { int64: "number", numeric: "number" });
  const version = body.version as { number?: unknown } | undefined;
  return {
    server: answer.server,
    name: typeof body.name === "string" ? body.name : "",
    clusterName: typeof body.cluster_name === "string" ? body.cluster_name : "",
    version: typeof version?.number === "string" ? version.number : "0.0.0",
  };
}

function entryFor(kit: Kit, requester: Requester, server: string): ServerEntry {
  if (typeof server !== "string") throw new kit.InterfaceError("serverInfo() server must be a string");
  const wanted = kit.parseServer(server).url;
  const known = requester.servers.find((s) => s.url === wanted);
  if (known === undefined) throw new kit.InterfaceError(`Unknown server '${wanted}': use one of ${requester.servers.map((s) => s.url).join(", ")}`);
  return known;
}
