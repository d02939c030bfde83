/**
 * The contract between the specs and the fake CrateDB cluster.
 *
 * Specs never touch `node:*`: they drive the fake cluster through this interface, which is
 * plain JSON over HTTP to a control server (`spec/support/control-server.ts`) running in a
 * Node process. That keeps one spec suite runnable in Node, Deno, Bun, workerd and Chromium.
 * Every type here must stay JSON-serialisable.
 */

/** Options for one fake cluster. All nodes of a cluster share tables, users and blobs. */
export interface ClusterOptions {
  /** Number of nodes, each on its own 127.0.0.1 port. @default 1 */
  nodes?: number;
  /** Serve HTTPS with a certificate signed by the test CA (SAN localhost, 127.0.0.1). @default false */
  tls?: boolean;
  /**
   * With `tls`: which of two server certificates the nodes present; both are signed by the test CA, each has
   * a key of its own (the chromium lane makes the browser trust the second key only). @default "first"
   */
  serverIdentity?: "first" | "second";
  /** With `tls`: ask for a client certificate. `"required"` rejects handshakes without one. @default "none" */
  clientCert?: "none" | "optional" | "required";
  /** With `tls`: restrict the server to this TLS version range, e.g. `{ max: "TLSv1.2" }`. */
  tlsVersions?: { min?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3"; max?: "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3" };
  /**
   * Enable password / JWT auth (HBA-like). Without it every request runs as `crate` (trust).
   * `users` maps user name → password; `tokens` maps an opaque bearer token → user name.
   */
  auth?: { users?: Record<string, string>; tokens?: Record<string, string> };
  /** Enable CORS as CrateDB's `http.cors.*` settings do (protocol doc §6). @default disabled */
  cors?: { allowOrigin?: string; allowHeaders?: string; allowMethods?: string; allowCredentials?: boolean };
  /** Close keep-alive sockets idle for this many ms (imitates a load balancer). @default never */
  idleTimeout?: number;
  /** Serve every node under this path prefix, e.g. "/crate" (imitates a reverse proxy). */
  pathPrefix?: string;
  /** Node name prefix; node i is named `${nodeName}-${i}`. @default "crate" */
  nodeName?: string;
  /** Cluster name in `GET /`. @default "fake-crate" */
  clusterName?: string;
  /** Version number in `GET /`. @default "6.4.3" */
  version?: string;
  /**
   * Blob GET/HEAD (and PUT with `Expect: 100-continue`) reaching a node other than the blob's home node
   * (first digest byte modulo `nodes`) answer 307 to the home node, as CrateDB does for non-local shards. @default false
   */
  blobRedirects?: boolean;
}

/** Certificates generated with `openssl` for a TLS cluster: PEM text and file paths. */
export interface ClusterCerts {
  ca: string;
  caPath: string;
  clientCert: string;
  clientCertPath: string;
  clientKey: string;
  clientKeyPath: string;
  /** A CA that did not sign anything here (for "wrong CA" specs). */
  otherCa: string;
}

export interface ClusterInfo {
  id: string;
  /** One base URL per node: `http://127.0.0.1:PORT` (plus the path prefix, no trailing slash). */
  urls: string[];
  /** Present when `tls` was set. */
  certs?: ClusterCerts;
}

/**
 * A fault applied to the next `times` requests (default 1) that reach `node` and match `path`
 * (a substring of the request path, default "/_sql") and `stmt` (a case-insensitive substring of the
 * SQL statement, if given). CORS preflights (a browser's own OPTIONS) never match.
 */
export type Fault =
  /** Destroy the socket as soon as the request head arrives, before any response byte. */
  | { kind: "reset-before-headers" }
  /** Execute the statement, write status line + headers, then destroy the socket. */
  | { kind: "reset-after-headers" }
  /** Accept the request, never answer (until the cluster is closed). */
  | { kind: "hang" }
  /** Execute the statement, then send the body in `chunks` pieces `delayMs` apart. */
  | { kind: "slow-body"; delayMs: number; chunks?: number }
  /** Execute the statement, send headers with the full content-length but only half the body, then close. */
  | { kind: "truncated-body" }
  /** Do not execute; answer 503 with a CrateDB JSON error (code 5030 by default). */
  | { kind: "status"; status: number; code?: number; message?: string }
  /** Do not execute; answer a proxy's HTML error page with this status (502 by default). */
  | { kind: "html"; status?: number }
  /** Do not execute; answer exactly this (body is sent as given; `json` is serialised compactly). */
  | { kind: "respond"; status: number; headers?: Record<string, string>; body?: string; json?: unknown }
  /** Execute, then wait `delayMs` before sending the response head. */
  | { kind: "delay"; delayMs: number }
  /** Redirect with this status to node `to` (same path), e.g. 307, after `delayMs` (default 0). */
  | { kind: "redirect"; status: number; to: number; location?: string; delayMs?: number }
  /**
   * Hold the statement as a running job for `ms`, then execute and answer it normally, unless a `KILL` of its
   * id comes first: then it answers 500/5005 `JobKilledException[…]` and is not executed. It shows in `sys.jobs`
   * only after `planMs` (a job appears after planning). @default planMs 30
   */
  | { kind: "job"; ms: number; planMs?: number };

export interface FaultRule {
  node: number;
  fault: Fault;
  times?: number;
  path?: string;
  stmt?: string;
}

/** One request as the server saw it (after gunzip of the body). */
export interface SeenRequest {
  node: number;
  /** Server-side connection id (per node, increasing). */
  connection: number;
  method: string;
  /** Raw request target, including the query string. */
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The decoded body text (after gunzip), "" when none; for `/_blobs` requests `"<N bytes>"` (decoded length), not the bytes. */
  body: string;
  /** Byte length of the body as it arrived on the wire (before gunzip). */
  wireBytes: number;
  /** The user the request authenticated as, or null on an auth failure. */
  user: string | null;
  /** Response status sent, or null when the socket was destroyed / the request hung. */
  status: number | null;
}

export interface NodeStats {
  /** Connections accepted since start (TLS: completed handshakes). */
  connectionsOpened: number;
  /** Connections open right now. */
  connectionsOpen: number;
  requests: number;
}

export interface ClusterStats {
  nodes: NodeStats[];
  /** Rows in a fake table, keyed by table name, shared by all nodes. */
  tables: Record<string, unknown[][]>;
}

export interface CursorCounts {
  open: number;
  declared: number;
  closed: number;
}

export interface JobInfo {
  /** The job id, as `sys.jobs.id` lists it and `KILL` takes it. */
  id: string;
  node: number;
  /** The raw statement text, comments included. */
  stmt: string;
  state: "running" | "done" | "killed";
  /** Epoch ms. */
  started: number;
  /** True when a `job` fault held it (it ran past planning and could be killed), false when it ran at once. */
  held: boolean;
}

export interface KillInfo {
  /** The node that received the KILL. */
  node: number;
  jobId: string;
  /** True when a running job with that id was killed. */
  found: boolean;
  /** Epoch ms. */
  at: number;
}

/** What the specs get back. Every method is a round trip to the control server. */
export interface ClusterHandle {
  readonly info: ClusterInfo;
  readonly urls: string[];
  readonly certs: ClusterCerts | undefined;
  fault(rule: FaultRule): Promise<void>;
  /** Drop every fault rule that has not fired yet. */
  clearFaults(): Promise<void>;
  /** Stop listening on a node; new connections are refused, open ones are destroyed. */
  stopNode(node: number): Promise<void>;
  /** Listen again on the same port. */
  startNode(node: number): Promise<void>;
  /** The requests seen so far (optionally only of one node), oldest first; CORS preflights only when asked. */
  requests(node?: number, opts?: { preflights?: boolean }): Promise<SeenRequest[]>;
  stats(): Promise<ClusterStats>;
  /** Forget the request log, finished jobs and kills (not tables, stats or open cursors). */
  resetLog(): Promise<void>;
  /**
   * SQL cursors across the cluster: `declared` since start, `closed` since start (by CLOSE, COMMIT for cursors
   * without hold, or the end of their session: socket closed or user changed), `open` = declared − closed.
   */
  cursors(): Promise<CursorCounts>;
  /** Every `/_sql` statement run as a job since `resetLog()` (or start), oldest first; running ones always. */
  jobs(): Promise<JobInfo[]>;
  /** Every `KILL` received since `resetLog()` (or start), oldest first. */
  kills(): Promise<KillInfo[]>;
  /** Size and SHA-1 (of the stored bytes) of a blob in blob table `table` (`name` or `blob.name`), or null if absent. */
  blob(table: string, digest: string): Promise<{ size: number; sha1: string } | null>;
  /**
   * Store `size` bytes made on the server by the generator `x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff; byte = (x >>> 16) & 0xff`
   * (starting from `x = seed`) in blob table `table`; resolves with their SHA-1 digest.
   */
  seedBlob(table: string, size: number, seed: number): Promise<string>;
  close(): Promise<void>;
}
