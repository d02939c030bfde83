/**
 * What the request loop sends to each server, computed once and cached: the Authorization value
 * (option credentials beat URL credentials), the merged headers per caller's headers object, and the
 * URL of each (server, path).
 */
import type { ResolvedOptions } from "./options.js";
import { basic } from "./resolve.js";
import type { ServerEntry } from "./servers.js";

export class ServerHeaders {
  private readonly authByServer = new Map<ServerEntry, string | undefined>();
  // Merged request headers per server, per headers object of the caller (constants for SQL).
  private readonly headerCache = new WeakMap<object, Map<ServerEntry, Record<string, string>>>();
  // The URL of each (server, path): the same string object every time, so that the transport's
  // per-URL cache finds it without hashing a freshly concatenated string on every request.
  private readonly urls = new WeakMap<ServerEntry, Map<string, string>>();

  constructor(private readonly opts: ResolvedOptions) {}

  /** The Authorization value for a server: option credentials beat URL credentials. */
  private auth(server: ServerEntry): string | undefined {
    if (this.authByServer.has(server)) return this.authByServer.get(server);
    const o = this.opts;
    let value: string | undefined;
    if (o.jwtToken !== undefined) value = `Bearer ${o.jwtToken}`;
    else if (o.username !== undefined) value = `Basic ${basic(o.username, o.password ?? "")}`;
    else if (server.username !== undefined) value = `Basic ${basic(server.username, o.password ?? server.password ?? "")}`;
    this.authByServer.set(server, value);
    return value;
  }

  /** The headers of a request to a server (shared: copy before changing); `schema` adds Default-Schema. */
  for(server: ServerEntry, headers: Record<string, string>, schema: boolean): Record<string, string> {
    let byServer = this.headerCache.get(headers);
    const cached = byServer?.get(server);
    if (cached !== undefined && schema) return cached;
    const h: Record<string, string> = { ...this.opts.headers, ...headers };
    const auth = this.auth(server);
    if (auth !== undefined) h.authorization = auth;
    if (schema && this.opts.schema !== undefined) h["default-schema"] = this.opts.schema;
    if (schema) {
      if (byServer === undefined) this.headerCache.set(headers, (byServer = new Map()));
      byServer.set(server, h);
    }
    return h;
  }

  url(server: ServerEntry, path: string): string {
    let byPath = this.urls.get(server);
    if (byPath === undefined) this.urls.set(server, (byPath = new Map()));
    let url = byPath.get(path);
    if (url === undefined) {
      if (byPath.size >= 64) byPath.clear(); // blob paths vary: keep it small
      byPath.set(path, (url = server.url + path));
    }
    return url;
  }
}
