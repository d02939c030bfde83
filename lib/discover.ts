/**
 * Node discovery (opt-in, `discover` option): reads `SELECT name, rest_url FROM sys.nodes` through the
 * request loop when the first request starts and then every `intervalMs`, and keeps the pool's
 * discovered servers in step with it. The seeds (the servers given to connect()) are never removed.
 *
 * `rest_url` is a node's HTTP publish address, `ip:port` without a scheme, IPv6 unbracketed
 * (`fe80::1:4200`). Nothing says whether the node speaks TLS, so a discovered server takes the scheme,
 * path prefix and URL credentials of the seed it was learnt from (option credentials still win, as for
 * the seed itself: the request loop applies them per server).
 */
import type { Kit } from "./kit.js";
import type { ResolvedOptions } from "./options.js";
import type { ServerPool } from "./pool.js";
import type { Answer, RequestSpec } from "./request.js";
import type { ServerEntry } from "./servers.js";

const STMT = "SELECT name, rest_url FROM sys.nodes";
// A constant object: the request loop caches merged headers per headers object.
const HEADERS: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
/** setTimeout's largest delay (a longer one fires at once on most runtimes). */
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Splits a `rest_url` (`ip:port`, `[v6]:port`, unbracketed `v6:port`, or `hostname/ip:port`) into a
 * URL authority `host:port` with IPv6 hosts bracketed, or undefined when it is not one.
 * @internal Exported for the specs.
 */
export function restUrlAuthority(restUrl: string): string | undefined {
  let text = restUrl.trim();
  const slash = text.lastIndexOf("/"); // Java's InetSocketAddress form: "hostname/ip:port"
  if (slash >= 0) text = text.slice(slash + 1);
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return undefined;
  let host = text.slice(0, colon);
  const port = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) return undefined;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (host === "" || /[\s[\]/@?#]/.test(host)) return undefined;
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The server for a node's `rest_url`, with the seed's scheme, path prefix and URL credentials, or
 * undefined when the address cannot be used.
 * @internal Exported for the specs.
 */
export function discoveredServer(kit: Pick<Kit, "parseServer" | "serverEntry">, restUrl: string, seed: ServerEntry): ServerEntry | undefined {
  const authority = restUrlAuthority(restUrl);
  if (authority === undefined) return undefined;
  const base = new URL(seed.url);
  let entry: ServerEntry;
  try {
    entry = kit.parseServer(`${base.protocol}//${authority}${base.pathname.replace(/\/+$/, "")}`);
  } catch {
    return undefined; // e.g. an IPv6 zone id, which URLs cannot carry
  }
  return kit.serverEntry(entry.url, entry.https, seed.username, seed.password);
}

/** What discovery needs from the request loop. */
export interface DiscoveryHost {
  readonly pool: ServerPool<ServerEntry>;
  send(spec: RequestSpec): Promise<Answer>;
}

/** Keeps the discovered servers of one connection up to date. Owned by its Requester. */
export class Discovery {
  /** The seeds, then the discovered servers: what `conn.servers` shows. */
  servers: readonly ServerEntry[];
  private discovered: ServerEntry[] = [];
  /** The seed each server was learnt from (a seed maps to itself). */
  private readonly seedOf = new Map<string, ServerEntry>();
  /** One entry object per URL, so that the pool and the request loop's caches see the same server. */
  private readonly known = new Map<string, ServerEntry>();
  private started = false;
  private stopped = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly controller = new AbortController();

  constructor(private readonly kit: Kit, private readonly host: DiscoveryHost, private readonly opts: ResolvedOptions, private readonly intervalMs: number) {
    this.servers = opts.servers;
    for (const s of opts.servers) this.seedOf.set(s.url, s);
  }

  /** Starts the first refresh (once; later calls do nothing). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    void this.refresh();
  }

  /** Stops the timer and aborts a refresh in flight. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.controller.abort(new Error("connection closed"));
  }

  private async refresh(): Promise<void> {
    try {
      const spec: RequestSpec = {
        method: "POST", path: "/_sql", body: JSON.stringify({ stmt: STMT }), headers: HEADERS,
        // schema: a new keep-alive socket starts its CrateDB session with the first request's Default-Schema.
        retrySafe: true, schema: true, signal: this.controller.signal,
      };
      const answer = await this.host.send(spec);
      if (this.stopped) return;
      // The server the loop asked (set per attempt), not answer.server: after a redirect that is the
      // redirect target, which need not be a seed nor known at all.
      this.apply(answer, spec.lastServer);
    } catch (err) {
      if (this.stopped) return;
      const why = this.opts.redactor.redact(err instanceof Error ? err.message : String(err));
      this.log("warn", `node discovery failed, keeping the current servers: ${why}`);
    } finally {
      if (!this.stopped) this.schedule();
    }
  }

  private schedule(): void {
    const timer = setTimeout(() => {
      this.timer = undefined;
      void this.refresh();
    }, Math.min(this.intervalMs, MAX_DELAY));
    // Never keep a process alive for discovery alone (Node, Bun and Deno 2.9 timers have unref).
    (timer as { unref?: () => void }).unref?.();
    this.timer = timer;
  }

  private apply(answer: Answer, asked: ServerEntry | undefined): void {
    const text = new TextDecoder().decode(answer.body);
    // Redact before cutting: a cut can leave a piece of an echoed secret that no longer matches it.
    if (answer.status !== 200) throw new Error(`${answer.server} answered ${answer.status}: ${answer.redact(text).slice(0, 200)}`);
    const body = JSON.parse(text) as { cols?: unknown; rows?: unknown };
    const cols = Array.isArray(body.cols) ? body.cols : [];
    const at = cols.indexOf("rest_url");
    if (at < 0 || !Array.isArray(body.rows)) throw new Error(`${answer.server} sent no rest_url column`);
    // The credentials and scheme of the seed that was asked (or that the asked node was learnt from),
    // never another seed's: seeds may belong to different users, and an https seed's nodes never get http.
    const seed = asked === undefined ? undefined : this.seedOf.get(asked.url);
    if (seed === undefined) throw new Error(`${answer.server} answered, but no seed is known for it`);
    const next: ServerEntry[] = [];
    const urls = new Set(this.opts.servers.map((s) => s.url));
    for (const row of body.rows as unknown[]) {
      const restUrl = Array.isArray(row) ? row[at] : undefined;
      if (typeof restUrl !== "string") continue; // a node without HTTP
      const found = discoveredServer(this.kit, restUrl, seed);
      if (found === undefined) {
        this.log("debug", `node discovery: ignoring rest_url '${restUrl}'`);
        continue;
      }
      if (urls.has(found.url)) continue; // a seed, or listed twice
      urls.add(found.url);
      let entry = this.known.get(found.url);
      if (entry === undefined) this.known.set(found.url, (entry = found));
      next.push(entry);
    }
    const keep = new Set(next);
    for (const s of this.discovered) {
      if (keep.has(s)) continue;
      this.host.pool.remove(s);
      this.seedOf.delete(s.url);
      this.log("info", `server dropped (no longer in sys.nodes): ${s.url}`);
    }
    const had = new Set(this.discovered);
    for (const s of next) {
      if (had.has(s)) continue;
      this.host.pool.add(s);
      this.seedOf.set(s.url, seed);
      this.log("info", `server discovered: ${s.url}`);
    }
    // Known servers keep their place; new ones follow.
    this.discovered = [...this.discovered.filter((s) => keep.has(s)), ...next.filter((s) => !had.has(s))];
    this.servers = [...this.opts.servers, ...this.discovered];
    this.log("debug", `node discovery: ${body.rows.length} node(s) in sys.nodes, ${this.servers.length} server(s) in use`);
  }

  private log(level: "debug" | "info" | "warn", message: string): void {
    const fn = this.opts.logger[level];
    if (fn !== undefined) fn.call(this.opts.logger, message);
  }
}
