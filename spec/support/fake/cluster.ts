/** A fake CrateDB cluster: N nodes sharing tables, users, faults and a request log. */
import type { ClusterInfo, ClusterOptions, ClusterStats, FaultRule, SeenRequest } from "../cluster-api.js";
import { getCerts, publicCerts, type ServerCerts } from "./certs.js";
import { CursorRegistry, type CursorStats } from "./cursors.js";
import { FaultBook } from "./faults.js";
import { JobBook, type KillRecord } from "./jobs.js";
import { FakeNode, type ClusterShared } from "./node.js";
import type { Db } from "./sql.js";

export class OptionError extends Error {}

function validate(o: ClusterOptions): ClusterOptions {
  const nodes = o.nodes ?? 1;
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 32) throw new OptionError(`nodes must be an integer 1..32, got ${nodes}`);
  let prefix = o.pathPrefix ?? "";
  if (prefix !== "") {
    if (!prefix.startsWith("/")) prefix = "/" + prefix;
    prefix = prefix.replace(/\/+$/, "");
  }
  if (o.clientCert && o.clientCert !== "none" && !o.tls) throw new OptionError("clientCert needs tls: true");
  if (o.serverIdentity !== undefined && (!o.tls || !["first", "second"].includes(o.serverIdentity))) {
    throw new OptionError("serverIdentity must be \"first\" or \"second\", with tls: true");
  }
  return { ...o, nodes, pathPrefix: prefix };
}

export class FakeCluster implements ClusterShared {
  readonly options: ClusterOptions;
  readonly db: Db;
  readonly faults = new FaultBook();
  log: SeenRequest[] = [];
  readonly certs: ServerCerts | undefined;
  readonly nodes: FakeNode[];

  private constructor(
    readonly id: string,
    options: ClusterOptions,
  ) {
    this.options = validate(options);
    const certs = this.options.tls ? getCerts() : undefined;
    this.certs = certs && this.options.serverIdentity === "second" ? { ...certs, serverCert: certs.secondServerCert, serverKey: certs.secondServerKey } : certs;
    const prefix = this.options.nodeName ?? "crate";
    const n = this.options.nodes ?? 1;
    this.nodes = Array.from({ length: n }, (_, i) => new FakeNode(i, `${prefix}-${i}`, this));
    this.db = {
      tables: new Map(),
      blobs: new Map(),
      clusterName: this.options.clusterName ?? "fake-crate",
      jobs: new JobBook(),
      cursors: new CursorRegistry(),
      liveNodes: () => this.nodes.filter((x) => x.running).map((x) => ({ name: x.name, restUrl: `127.0.0.1:${x.port}` })),
    };
  }

  static async create(id: string, options: ClusterOptions): Promise<FakeCluster> {
    const c = new FakeCluster(id, options);
    try {
      for (const n of c.nodes) await n.start();
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  nodeUrl(i: number): string {
    const n = this.nodes[i];
    if (!n) throw new OptionError(`no node ${i}`);
    return `${this.options.tls ? "https" : "http"}://127.0.0.1:${n.port}${this.options.pathPrefix ?? ""}`;
  }

  liveNodeUrl(i: number): string | undefined {
    return this.nodes[i]?.running ? this.nodeUrl(i) : undefined;
  }

  node(i: number): FakeNode {
    const n = this.nodes[i];
    if (!n) throw new OptionError(`no node ${i} (cluster has ${this.nodes.length})`);
    return n;
  }

  info(): ClusterInfo {
    const info: ClusterInfo = { id: this.id, urls: this.nodes.map((_, i) => this.nodeUrl(i)) };
    if (this.certs) info.certs = publicCerts(this.certs);
    return info;
  }

  addFault(rule: FaultRule): void {
    this.node(rule.node);
    if (rule.fault.kind === "redirect" && rule.fault.location === undefined) this.node(rule.fault.to);
    this.faults.add(rule);
  }

  requests(node?: number): SeenRequest[] {
    return node === undefined ? this.log : this.log.filter((r) => r.node === node);
  }

  /** Forget the request log, finished jobs and kills (not tables, stats or open cursors). */
  resetLog(): void {
    this.log = [];
    this.db.jobs.reset();
  }

  cursors(): CursorStats {
    return this.db.cursors.stats();
  }

  jobs(): ReturnType<JobBook["jobs"]> {
    return this.db.jobs.jobs();
  }

  kills(): KillRecord[] {
    return this.db.jobs.kills();
  }

  stats(): ClusterStats {
    return {
      nodes: this.nodes.map((n) => ({ ...n.stats })),
      tables: Object.fromEntries([...this.db.tables].map(([name, t]) => [name, t.rows])),
    };
  }

  async close(): Promise<void> {
    this.faults.clear();
    this.db.jobs.close();
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
