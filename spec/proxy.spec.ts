// A real reverse proxy doing round robin over 3 fake nodes, as many CrateDB clusters are deployed:
// the client knows one URL (`https://127.0.0.1:<port>/crate`, TLS terminated at the proxy) and the
// proxy (nginx `upstream`, HAProxy `balance roundrobin`; configs in spec/support/proxy/configs.ts)
// picks the node. Runs only in the proxy lane (spec/runtimes/proxy.mjs), once behind nginx and once
// behind HAProxy; other lanes do not run it, and run alone it reports itself not applicable.
//
// What it proves: a node lost mid-request becomes a 502 (killed) or 504 (proxy read timeout) at the
// proxy; a write then rejects with "may have been executed" and is stored once or not at all, never
// re-sent (neither by the client nor by the proxy); a read is retried and the round robin sends it to a
// healthy node; and a proxy closing idle keep-alive sockets never surfaces as an error.
// With a single server URL the client retries only with backoffFactor > 0 (API.md, Failover: with 0 a
// request stops once every server has failed it once), so the connections here set one.
import { expect } from "chai";
import { ConnectionError, connect } from "cratedb-fetch";
import { controlUrl, startCluster } from "./support/cluster.js";
import type { ClusterHandle, Fault, SeenRequest } from "./support/cluster-api.js";
import { expectReject, notApplicable, proxy, sleep } from "./support/helpers.js";

interface ProxyInfo {
  kind: string;
  balancer: string;
  keepaliveMs: number;
  readTimeoutMs: number;
}

const UNCERTAIN = /may have been executed/;
const RETRYING = { backoffFactor: 20 };

async function proxyInfo(cluster: ClusterHandle): Promise<ProxyInfo> {
  const res = await fetch(`${controlUrl()}/clusters/${encodeURIComponent(cluster.info.id)}/proxy`);
  if (!res.ok) throw new Error(`no proxy info for cluster ${cluster.info.id}: ${res.status} ${await res.text()}`);
  return (await res.json()) as ProxyInfo;
}

/** The requests whose SQL contains `marker`. */
const carrying = (seen: SeenRequest[], marker: string): SeenRequest[] => seen.filter((r) => r.body.includes(marker));

/**
 * Puts `fault` on every node for statements containing `marker`, then calls `send`; once the proxy has
 * handed the statement to a node, drops the other faults. Resolves with that node and `send`'s promise.
 */
async function faultWherever<T>(cluster: ClusterHandle, fault: Fault, marker: string, send: () => Promise<T>): Promise<{ node: number; sent: Promise<T> }> {
  for (let node = 0; node < 3; node++) await cluster.fault({ node, fault, stmt: marker });
  const sent = send();
  let settled = false;
  sent.then(() => (settled = true), () => (settled = true));
  for (let i = 0; i < 300 && !settled; i++) {
    const hit = carrying(await cluster.requests(), marker)[0];
    if (hit) {
      await cluster.clearFaults();
      return { node: hit.node, sent };
    }
    await sleep(10);
  }
  await sent.catch(() => undefined);
  throw new Error(`the statement ${marker} never reached a node`);
}

async function rows(cluster: ClusterHandle, table: string): Promise<unknown[][]> {
  return (await cluster.stats()).tables[`doc.${table}`] ?? [];
}

/** Blocks the event loop (see chaos.spec.ts): the proxy's FIN arrives while the client cannot see it. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

describe(`Behind a real proxy (${proxy ?? "none"}): one URL, round robin over 3 nodes`, function () {
  this.timeout(30_000);
  let cluster: ClusterHandle;
  let info: ProxyInfo;
  beforeEach(async function () {
    if (proxy === undefined) return notApplicable(this, "runs only in the proxy lane, behind a real nginx or HAProxy (spec/runtimes/proxy.mjs)");
    cluster = await startCluster({ nodes: 3 });
    info = await proxyInfo(cluster);
  });
  afterEach(async () => cluster?.close());

  it("spreads requests over all 3 nodes", async () => {
    const conn = connect(info.balancer);
    for (let i = 0; i < 6; i++) expect((await conn.query("SELECT ?", [i])).rows).to.deep.equal([[i]]);
    const nodes = (await cluster.requests()).map((r) => r.node);
    expect([0, 1, 2].map((n) => nodes.filter((x) => x === n).length), `nodes seen: ${nodes.join(",")}`).to.deep.equal([2, 2, 2]);
    await conn.close();
  });

  for (const [fault, executes] of [[{ kind: "delay", delayMs: 5000 }, true], [{ kind: "hang" }, false]] as Array<[Fault, boolean]>) {
    it(`a node killed mid-write (${fault.kind}, then stopped): 502, "may have been executed", stored ${executes ? "once" : "not at all"}, never re-sent`, async () => {
      const conn = connect(info.balancer, RETRYING);
      const table = `px_kill_${fault.kind}`;
      const { node, sent: write } = await faultWherever(cluster, fault, table, () => conn.query(`INSERT INTO ${table} (id) VALUES (?)`, [1]));
      await cluster.stopNode(node);
      const outcome = await write.then((value) => ({ value }), (error: unknown) => ({ error }));
      await sleep(200); // a proxy re-sending in the background would show it by now
      const sent = carrying(await cluster.requests(), table);
      const stored = await rows(cluster, table);
      const what = "error" in outcome ? `${String(outcome.error)}, status ${(outcome.error as ConnectionError).status}` : "success";
      console.log(`      measured behind ${proxy}: ${what}; sent to nodes ${sent.map((r) => `${r.node}(${r.status ?? "killed"})`).join(", ")}, stored ${stored.length} row(s)`);
      const err = await expectReject<ConnectionError>("error" in outcome ? Promise.reject(outcome.error) : Promise.resolve(outcome.value), ConnectionError, UNCERTAIN);
      expect(err.status, err.message).to.equal(502);
      expect(sent.map((r) => r.node), "the write reached one node, once").to.deep.equal([node]);
      expect(stored).to.deep.equal(executes ? [[1]] : []);
      await conn.close();
      await cluster.startNode(node);
    });
  }

  it("a node killed mid-read: the read is retried and the round robin answers it from a healthy node", async () => {
    const conn = connect(info.balancer, RETRYING);
    const { node, sent: read } = await faultWherever(cluster, { kind: "hang" }, "px_kill_read", () => conn.query("SELECT ? AS px_kill_read", ["answered"]));
    await cluster.stopNode(node);
    expect((await read).rows).to.deep.equal([["answered"]]);
    const sent = carrying(await cluster.requests(), "px_kill_read");
    console.log(`      measured behind ${proxy}: read sent to nodes ${sent.map((r) => `${r.node}(${r.status ?? "killed"})`).join(", ")}`);
    expect(sent).to.have.length(2);
    expect(sent[0]?.node).to.equal(node);
    expect(sent[1]?.node).to.not.equal(node);
    expect(sent[1]?.status).to.equal(200);
    await conn.close();
    await cluster.startNode(node);
  });

  it("the proxy's read timeout (504): a read is retried and succeeds, a write rejects as uncertain and is stored once", async () => {
    const slow: Fault = { kind: "delay", delayMs: info.readTimeoutMs + 1500 };
    const conn = connect(info.balancer, RETRYING);
    const started = Date.now();
    const { node: readNode, sent: read } = await faultWherever(cluster, slow, "px_504_read", () => conn.query("SELECT ? AS px_504_read", ["late but fine"]));
    expect((await read).rows).to.deep.equal([["late but fine"]]);
    const readMs = Date.now() - started;
    const reads = carrying(await cluster.requests(), "px_504_read");
    expect(reads.map((r) => r.node)[0]).to.equal(readNode);
    expect(reads).to.have.length(2);
    expect(readMs, "the proxy gave up after its read timeout").to.be.within(info.readTimeoutMs - 100, info.readTimeoutMs + 1400);

    const { node: writeNode, sent: write } = await faultWherever(cluster, slow, "px_504_write", () => conn.query("INSERT INTO px_504_write (id) VALUES (?)", [1]));
    const err = await expectReject<ConnectionError>(write, ConnectionError, UNCERTAIN);
    await sleep(slow.kind === "delay" ? slow.delayMs - info.readTimeoutMs + 200 : 0); // until the node has answered the proxy
    const sent = carrying(await cluster.requests(), "px_504_write");
    const stored = await rows(cluster, "px_504_write");
    console.log(`      measured behind ${proxy}: read ${readMs} ms (retried on node ${reads[1]?.node}), write status ${err.status}, sent ${sent.length}×, stored ${stored.length} row(s)`);
    expect(err.status, err.message).to.equal(504);
    expect(sent.map((r) => r.node)).to.deep.equal([writeNode]);
    expect(stored).to.deep.equal([[1]]);
    await conn.close();
  });

  it("closes idle keep-alive sockets after its keepalive timeout", async () => {
    const tls = await import("node:tls");
    const url = new URL(info.balancer);
    const socket = tls.connect({ host: url.hostname, port: Number(url.port), servername: "localhost" });
    const closedAt = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
    socket.once("error", () => undefined);
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    const answered = new Promise<number>((resolve) => socket.once("data", () => resolve(Date.now())));
    socket.write(`GET ${url.pathname}/ HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n\r\n`);
    const idleMs = (await closedAt) - (await answered);
    console.log(`      measured behind ${proxy}: an idle keep-alive socket was closed after ${idleMs} ms`);
    expect(idleMs).to.be.within(info.keepaliveMs - 150, info.keepaliveMs + 1000);
  });

  it("a socket the proxy closed while idle: the next reads have no stale-socket error and the server stays in the rotation", async () => {
    const warnings: string[] = [];
    const conn = connect(info.balancer, { ...RETRYING, logger: { warn: (m) => warnings.push(m) } });
    for (let i = 0; i < 3; i++) await conn.query("SELECT 1");
    await sleep(info.keepaliveMs + 400); // closed, and the client has seen the FIN
    expect((await conn.query("SELECT ?", ["after idle"])).rows).to.deep.equal([["after idle"]]);
    expect((await conn.query("INSERT INTO px_idle (id) VALUES (?)", [1])).rowcount).to.equal(1);
    for (let round = 0; round < 3; round++) {
      await conn.query("SELECT 1");
      blockFor(info.keepaliveMs + 150); // closed while the client cannot notice: the stale-socket race
      const results = await Promise.all([1, 2, 3].map((i) => conn.query("SELECT ?", [`raced ${round}.${i}`])));
      expect(results.map((r) => r.rows)).to.deep.equal([1, 2, 3].map((i) => [[`raced ${round}.${i}`]]));
    }
    expect(warnings, "no server was taken out of the rotation").to.deep.equal([]);
    expect(await rows(cluster, "px_idle")).to.deep.equal([[1]]);
    await conn.close();
  });

  // CrateDB keeps a session per HTTP connection, so a session needs the proxy to keep one upstream connection
  // per client connection. HAProxy does with `http-reuse never` (configs.ts); nginx cannot: without upstream
  // keep-alive every request gets a new upstream connection, with it idle ones are shared between clients.
  it("sessions: HAProxy (http-reuse never) keeps one upstream connection per session; nginx loses the session between requests", async () => {
    const conn = connect(cluster.urls[0] as string);
    const s = conn.session();
    await s.query("SET search_path TO behind_proxy");
    const schema = (await s.query("SELECT current_schema")).rows[0]?.[0];
    const upstream = new Set((await cluster.requests()).map((r) => `${r.node}/${r.connection}`));
    console.log(`      measured behind ${info.kind}: ${upstream.size} upstream connection(s) for one session; current_schema after SET: ${String(schema)}`);
    if (info.kind === "haproxy") {
      expect(schema).to.equal("behind_proxy");
      expect(upstream.size).to.equal(1);
      const ids: unknown[] = [];
      for await (const [id] of conn.stream<[number]>("SELECT * FROM generate_series(1, 5)", [], { batchSize: 2 })) ids.push(id);
      expect(ids).to.deep.equal([1, 2, 3, 4, 5]);
    } else {
      expect(schema, "the SET ran on another upstream connection").to.equal("doc");
      expect(upstream.size).to.equal(2);
      await expectReject((async () => {
        for await (const row of conn.stream("SELECT * FROM generate_series(1, 5)", [], { batchSize: 2 })) void row;
      })(), Error, /No cursor named/);
    }
    expect((await cluster.cursors()).open).to.equal(0);
    await conn.close();
  });
});
