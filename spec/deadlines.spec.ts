// Deadlines hold from the moment of the call: while connecting (a TLS handshake that never completes), while
// queued (a full pool, a busy session), and after sending. Where the expiry happened decides what follows
// (API.md, Failover): connecting → fail over, the node leaves the rotation; queued → "timed out … not sent",
// rotation untouched; after sending → the statement ran out of time: killed, the node stays, not re-sent.
import { expect } from "chai";
import { ConnectionError, connect, type ConnectOptions } from "cratedb-fetch";
import { waitAtMost } from "../lib/deadline.js";
import { lazy } from "../lib/lazy.js";
import { Requester, type RequestSpec, type ServerSource } from "../lib/request.js";
import { resolveOptions } from "../lib/resolve.js";
import type { Transport } from "../lib/transport.js";
import { startCluster, startTarpit, type Tarpit } from "./support/cluster.js";
import type { ClusterCerts, ClusterHandle } from "./support/cluster-api.js";
import { expectReject, notApplicable, runtime, sleep } from "./support/helpers.js";
import { NO_SESSIONS, sessionsHere } from "./support/sessions.js";

/** What a deadline may overrun by: timers, a loaded 2-core CI machine, the failover's next attempt. */
const MARGIN = 700;
/** Transports that see the connect phase of a pooled request (node:http, Bun's fetch); Deno's fetch cannot tell it apart. */
const pooledSeesConnect = runtime === "node" || runtime === "bun";

describe("Deadlines hold from the call: connecting, queued, sent", () => {
  let tls: ClusterHandle;
  let plain: ClusterHandle;
  let certs: ClusterCerts;
  let pit: Tarpit;
  let dead: string;

  before(async function () {
    if (runtime === "browser" || runtime === "workerd") return;
    tls = await startCluster({ tls: true });
    plain = await startCluster({ nodes: 1 });
    certs = tls.certs as ClusterCerts;
    pit = await startTarpit();
    dead = `https://127.0.0.1:${pit.port}`;
  });
  after(async () => {
    await tls?.close();
    await plain?.close();
    await pit?.close();
  });
  /** Sockets open on the tarpit, polled for up to 2 s until they are back at `count`. */
  async function openOnPit(count: number): Promise<number> {
    let open = (await pit.stats()).open;
    for (let i = 0; i < 40 && open > count; i++) {
      await sleep(50);
      open = (await pit.stats()).open;
    }
    return open;
  }

  beforeEach(async function () {
    if (runtime === "browser" || runtime === "workerd") {
      notApplicable(this, "needs TLS options (caCert) for the fake's private CA, which fetch here cannot take");
    }
    await plain.clearFaults();
    await plain.resetLog();
  });

  it("a pooled read to a node whose TLS handshake hangs settles within its timeout (and fails over where the transport sees the connect)", async () => {
    const conn = connect([dead, ...tls.urls], { caCert: certs.ca, timeout: 300 });
    const started = Date.now();
    const outcome = await conn.query("SELECT 1").then((r) => r.rows, (e: unknown) => e);
    const took = Date.now() - started;
    expect(took, "settled within timeout + margin").to.be.below(300 + MARGIN);
    if (pooledSeesConnect || Array.isArray(outcome)) {
      expect(outcome).to.deep.equal([[1]]);
      expect(conn.activeServers, "a node that cannot be connected to leaves the rotation").not.to.include(dead);
    } else {
      // fetch (Deno) does not say whether it was still connecting: the expiry counts as after sending (never re-sent).
      expect(outcome).to.be.instanceOf(ConnectionError);
      expect((outcome as Error).message).to.match(/timed out after 300 ms/);
    }
    await conn.close();
  });

  it("a pooled connect that was given up leaves no socket behind once the Connection is closed", async function () {
    if (runtime === "deno") {
      notApplicable(this, "Deno's fetch keeps a TLS connect it gave up on open after its HttpClient is closed (measured: still open 2 s later)");
    }
    const before = (await pit.stats()).open;
    const conn = connect([dead, ...tls.urls], { caCert: certs.ca, timeout: 200 });
    await conn.query("SELECT 1").catch(() => undefined);
    await conn.close();
    expect(await openOnPit(before)).to.equal(before);
  });

  it("a session's first request fails over in about its timeout while the TLS connect hangs", async function () {
    if (!sessionsHere) notApplicable(this, NO_SESSIONS);
    const conn = connect([dead, ...tls.urls], { caCert: certs.ca });
    const session = conn.session();
    const started = Date.now();
    expect((await session.query("SELECT 1", [], { timeout: 300 })).rows).to.deep.equal([[1]]);
    expect(Date.now() - started).to.be.below(300 + MARGIN);
    expect(session.server).to.equal(tls.urls[0]);
    await conn.close();
  });

  it("a session's request aborted while its TLS connect hangs rejects at once with the reason", async function () {
    if (!sessionsHere) notApplicable(this, NO_SESSIONS);
    const before = (await pit.stats()).open;
    const conn = connect([dead]);
    const session = conn.session();
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("gave up connecting")), 150);
    const started = Date.now();
    await expectReject(session.query("SELECT 1", [], { signal: ac.signal }), Error, /gave up connecting/);
    expect(Date.now() - started).to.be.below(150 + MARGIN);
    await conn.close();
    expect(await openOnPit(before), "the half-open socket is destroyed").to.equal(before);
  });

  it("a request queued behind another on a session rejects at its own deadline, is never sent, and the session stays", async function () {
    if (!sessionsHere) notApplicable(this, NO_SESSIONS);
    const conn = connect(plain.urls);
    const session = conn.session();
    await session.query("SELECT 0");
    await plain.fault({ node: 0, fault: { kind: "delay", delayMs: 800 }, stmt: "slow_first" });
    const first = session.query("SELECT 'slow_first'");
    const started = Date.now();
    const err = await expectReject<ConnectionError>(session.query("SELECT 'queued_second'", [], { timeout: 200 }), ConnectionError, /timed out after 200 ms/);
    expect(Date.now() - started).to.be.below(200 + MARGIN);
    expect(err.message).to.match(/queued/).and.not.match(/No more servers/);
    expect((await first).rows).to.deep.equal([["slow_first"]]);
    expect((await session.query("SELECT 'after'")).rows).to.deep.equal([["after"]]);
    const sent = (await plain.requests()).map((r) => r.body);
    expect(sent.some((b) => b.includes("queued_second")), "the queued request was never sent").to.equal(false);
    expect(session.closed).to.equal(false);
    await conn.close();
  });

  it("a request queued in a full pool (poolSize 1) rejects at its deadline, is never sent, and the rotation is untouched", async function () {
    if (runtime !== "node" && runtime !== "deno" && runtime !== "bun") notApplicable(this, "poolSize needs node:http");
    const conn = connect(plain.urls, { poolSize: 1 });
    await plain.fault({ node: 0, fault: { kind: "delay", delayMs: 800 }, stmt: "pool_first" });
    const first = conn.query("SELECT 'pool_first'");
    await sleep(50);
    const started = Date.now();
    const err = await expectReject<ConnectionError>(conn.query("SELECT 'pool_second'", [], { timeout: 200 }), ConnectionError, /timed out after 200 ms/);
    expect(Date.now() - started).to.be.below(200 + MARGIN);
    expect(err.message).to.match(/queued/);
    expect(conn.activeServers).to.deep.equal(plain.urls);
    expect((await first).rows).to.deep.equal([["pool_first"]]);
    const sent = (await plain.requests()).map((r) => r.body);
    expect(sent.some((b) => b.includes("pool_second"))).to.equal(false);
    await conn.close();
  });
});

// A layer that is still loading (node discovery's module, on the first request after connect()) holds
// requests back so that its first refresh picks its server first; that wait is part of the first attempt's
// deadline (it holds from the call) and honours the request's signal (the request loop with a source whose
// load never ends, or ends late). And an attempt's deadline holds across its redirect hops.
describe("Deadlines hold while a server-source layer is still loading", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster({ nodes: 2 });
  });
  after(async () => {
    await cluster?.close();
  });
  beforeEach(async () => {
    await cluster.clearFaults();
    await cluster.resetLog();
  });

  /** The request loop over this runtime's own transport, with a source that is ready after `loadMs` (never: undefined). */
  function requesterWithSlowSource(options: ConnectOptions = {}, loadMs?: number): { requester: Requester; close: () => Promise<void>; started: () => boolean } {
    const resolved = resolveOptions(cluster.urls, options, { name: "spec", unsupported: () => "n/a" });
    // This runtime's own transport, as its connect() makes it (closed with the connection).
    const conn = connect(cluster.urls);
    const transport = (conn as unknown as { transport: Transport }).transport;
    let started = false;
    let ready: Promise<void> | undefined = loadMs === undefined ? new Promise<void>(() => {}) : sleep(loadMs).then(() => void (ready = undefined));
    const source: ServerSource = {
      servers: resolved.servers,
      // What discovery's source does while its module loads.
      wait: (ms, signal) => (ready === undefined ? undefined : waitAtMost(ready, ms, signal)),
      start: () => void (started = true),
      stop: () => undefined,
    };
    const requester = new Requester(resolved, transport, () => source);
    return { requester, close: () => conn.close(), started: () => started };
  }
  const spec = (extra: Partial<RequestSpec> = {}, stmt = "SELECT 1"): RequestSpec => ({
    method: "POST", path: "/_sql", body: JSON.stringify({ stmt }), retrySafe: true, schema: false,
    headers: { "content-type": "application/json" }, ...extra,
  });

  for (const where of ["connect()", "the request"] as const) {
    it(`a request with a timeout (given to ${where}) whose layer never gets ready rejects at that timeout: not sent, rotation untouched`, async () => {
      const { requester, close, started } = requesterWithSlowSource(where === "connect()" ? { timeout: 150 } : {});
      try {
        const t0 = Date.now();
        const err = await requester.send(spec(where === "connect()" ? {} : { timeout: 150 })).then(() => undefined, (e: unknown) => e);
        const ms = Date.now() - t0;
        // The request loop from the sources (the ConnectionError class of lib/, not the package's copy).
        expect((err as Error).name).to.equal("ConnectionError");
        expect((err as Error).message).to.equal("Request timed out after 150 ms while node discovery was loading: it was not sent");
        expect(ms, "waited the timeout for the layer").to.be.at.least(140);
        expect(ms, "and not longer").to.be.below(150 + MARGIN);
        expect(await cluster.requests()).to.have.length(0);
        expect(requester.activeUrls).to.deep.equal(cluster.urls);
        expect(started(), "not started by a request that was not sent").to.equal(false);
      } finally {
        await close();
      }
    });
  }

  it("a wait that reports the time ran out is believed, even when Date.now() says a little time is left (a timer may fire early)", async () => {
    const resolved = resolveOptions(cluster.urls, { timeout: 150 }, { name: "spec", unsupported: () => "n/a" });
    const conn = connect(cluster.urls);
    const transport = (conn as unknown as { transport: Transport }).transport;
    // What a loaded machine produced in the node lane: the wait's timer fired a few ms before the deadline by the clock.
    const source: ServerSource = { servers: resolved.servers, wait: () => sleep(5).then(() => false), start: () => undefined, stop: () => undefined };
    const requester = new Requester(resolved, transport, () => source);
    try {
      const err = await requester.send(spec()).then(() => undefined, (e: unknown) => e);
      expect((err as Error | undefined)?.message).to.equal("Request timed out after 150 ms while node discovery was loading: it was not sent");
      expect(await cluster.requests()).to.have.length(0);
    } finally {
      await conn.close();
    }
  });

  it("a layer that gets ready late leaves the first attempt only the rest of its timeout", async () => {
    // Ready after 300 ms, a timeout of 500 ms, a server that answers after 350 ms: with a fresh 500 ms after
    // the wait the answer would arrive in time (at ~650 ms); from the call it cannot.
    const { requester, close, started } = requesterWithSlowSource({}, 300);
    try {
      await cluster.fault({ node: 0, fault: { kind: "delay", delayMs: 350 }, stmt: "late_layer" });
      const t0 = Date.now();
      const err = await requester.send(spec({ timeout: 500 }, "SELECT 'late_layer'")).then(() => undefined, (e: unknown) => e);
      const ms = Date.now() - t0;
      // The request loop from the sources (the ConnectionError class of lib/, not the package's copy).
      expect((err as Error).name).to.equal("ConnectionError");
      expect((err as Error).message).to.match(/timed out after 500 ms after it was sent/);
      expect(ms).to.be.at.least(490);
      expect(ms).to.be.below(500 + MARGIN);
      expect((await cluster.requests()).map((r) => r.node)).to.deep.equal([0]);
      expect(started()).to.equal(true);
    } finally {
      await close();
    }
  });

  it("a request aborted while the layer loads rejects at once with the reason, and nothing is sent", async () => {
    const { requester, close } = requesterWithSlowSource();
    try {
      const ac = new AbortController();
      const reason = new Error("user gave up");
      setTimeout(() => ac.abort(reason), 50);
      const t0 = Date.now();
      const err = await requester.send(spec({ signal: ac.signal })).then(() => undefined, (e: unknown) => e);
      expect(err).to.equal(reason);
      expect(Date.now() - t0).to.be.below(50 + MARGIN);
      expect(await cluster.requests()).to.have.length(0);
    } finally {
      await close();
    }
  });

  it("a caller's options object is read for signal, timeout and rowMode only: other fields (since, deadline) change nothing", async () => {
    const conn = connect(cluster.urls, { timeout: 300 });
    try {
      const opts = { timeout: 300, since: 0, deadline: 0, started: 0 } as unknown as { timeout: number };
      expect((await conn.query("SELECT 1", [], opts)).rows).to.deep.equal([[1]]);
    } finally {
      await conn.close();
    }
  });

  it("an attempt's timeout holds across its redirect hops", async function () {
    if (runtime === "browser") notApplicable(this, "the browser follows redirects itself (redirects.spec.ts covers what it shows)");
    const conn = connect(cluster.urls[0] as string, { timeout: 400 });
    try {
      // 250 ms to the redirect, 350 ms at its target: each hop is within 400 ms, the attempt is not.
      await cluster.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 1, delayMs: 250 }, stmt: "slow_hops" });
      await cluster.fault({ node: 1, fault: { kind: "delay", delayMs: 350 }, stmt: "slow_hops" });
      const t0 = Date.now();
      const err = await conn.query("SELECT 'slow_hops'").then(() => undefined, (e: unknown) => e);
      const ms = Date.now() - t0;
      expect(err).to.be.instanceOf(ConnectionError);
      expect((err as Error).message).to.match(/timed out after 400 ms/);
      expect(ms).to.be.at.least(390);
      expect(ms).to.be.below(400 + MARGIN);
      expect((await cluster.requests()).filter((r) => r.body.includes("slow_hops")).map((r) => r.node)).to.deep.equal([0, 1]);
    } finally {
      await conn.close();
    }
  });
});

// Every layer a call may load before it sends (cancellation, tracing, cursor parameters, streams, blobs, server
// info, a session's socket module) loads through `Lazy.within`: the load is part of the call, so its deadline and
// signal hold, and a load that fails is a typed error. The mechanism, with loads that never end, end late, fail.
describe("Deadlines hold while a layer of the call is still loading", () => {
  const never = (): Promise<{ v: number }> => new Promise(() => {});
  const late = (): Promise<{ v: number }> => sleep(100).then(() => ({ v: 2 }));
  const failing = (): Promise<{ v: number }> => sleep(20).then(() => Promise.reject(new TypeError("Failed to fetch dynamically imported module: https://app.example/chunks/cancel-X.js")));

  const table: Array<[string, () => Promise<{ v: number }>, { ms?: number; abortAt?: number }, (out: { err?: unknown; value?: { v: number }; took: number }) => void]> = [
    ["never ends, timeout 150 ms → the 'timed out' ConnectionError at 150 ms, nothing sent", never, { ms: 150 }, ({ err, took }) => {
      expect((err as Error).name).to.equal("ConnectionError");
      expect((err as Error).message).to.equal("Request timed out after 150 ms while cratedb-fetch's spec module was loading: it was not sent");
      expect(took).to.be.at.least(140).and.below(150 + MARGIN);
    }],
    ["never ends, signal aborts at 50 ms → the signal's reason at once", never, { abortAt: 50 }, ({ err, took }) => {
      expect((err as Error).message).to.equal("user left");
      expect(took).to.be.below(50 + MARGIN);
    }],
    ["never ends, timeout 150 ms and signal at 50 ms → the reason, at 50 ms", never, { ms: 150, abortAt: 50 }, ({ err, took }) => {
      expect((err as Error).message).to.equal("user left");
      expect(took).to.be.below(150);
    }],
    ["ends after 100 ms, timeout 400 ms → the module", late, { ms: 400 }, ({ value, took }) => {
      expect(value).to.deep.equal({ v: 2 });
      expect(took).to.be.at.least(90).and.below(400);
    }],
    ["ends after 100 ms, no timeout, no signal → the module", late, {}, ({ value }) => expect(value).to.deep.equal({ v: 2 })],
    ["fails → InterfaceError naming the layer and the cause, nothing sent", failing, { ms: 400 }, ({ err }) => {
      expect((err as Error).name).to.equal("InterfaceError");
      expect((err as Error).message).to.match(/^Could not load cratedb-fetch's spec module \(Failed to fetch dynamically imported module: .*\): the request was not sent$/);
      expect((err as Error).cause).to.be.instanceOf(TypeError);
    }],
  ];
  for (const [what, load, { ms, abortAt }, check] of table) {
    it(what, async () => {
      const layer = lazy(load, "spec");
      const ac = new AbortController();
      const timer = abortAt === undefined ? undefined : setTimeout(() => ac.abort(new Error("user left")), abortAt);
      const t0 = Date.now();
      const out = await layer.within(ms, abortAt === undefined ? undefined : ac.signal).then((value) => ({ value }), (err: unknown) => ({ err }));
      clearTimeout(timer);
      check({ ...out, took: Date.now() - t0 });
    });
  }

  it("a loaded layer is handed over without a wait, and later calls share one load", async () => {
    let loads = 0;
    const layer = lazy(() => (loads++, sleep(30).then(() => ({ v: 1 }))), "spec");
    const [a, b] = await Promise.all([layer.within(500, undefined), layer.within(undefined, undefined)]);
    expect([a, b, loads]).to.deep.equal([{ v: 1 }, { v: 1 }, 1]);
    expect(layer.now).to.deep.equal({ v: 1 });
    expect(await layer.within(0, AbortSignal.abort(new Error("already")))).to.deep.equal({ v: 1 });
  });
});
