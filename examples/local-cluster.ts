// For the examples: a local fake CrateDB cluster (spec/support/fake, a test double that speaks CrateDB's
// HTTP protocol) when CRATEDB_URL is not set. Not part of the library.
import type { ClusterOptions } from "../spec/support/cluster-api.js";

export interface Local {
  urls: string[];
  ca?: string;
  stopNode(i: number): Promise<void>;
  startNode(i: number): Promise<void>;
  close(): Promise<void>;
}

export async function localCluster(options: ClusterOptions): Promise<Local> {
  const { FakeCluster } = await import("../spec/support/fake/cluster.js");
  const cluster = await FakeCluster.create("example", options);
  const info = cluster.info();
  const local: Local = {
    urls: info.urls,
    stopNode: (i) => cluster.node(i).stop(),
    startNode: (i) => cluster.node(i).start(),
    close: () => cluster.close(),
  };
  if (info.certs) local.ca = info.certs.ca;
  return local;
}
