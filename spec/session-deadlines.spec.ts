// A session's requests settle when their signal aborts, in every phase (issue 17 item 3, transport half):
// queued behind another request (EQUEUED, nothing sent, session intact), while the socket is being opened
// (ECONNECT, nothing sent, transport unbound), after bytes were written (EABORTED, session lost).
// Pure cases run on a fake ByteSocket in every lane; real sockets (node:net / node:tls through the runtime's
// opener) and the property test of random fault schedules run where the spec can start a TCP server.
import { expect } from "chai";
import fc from "fast-check";
import type { ByteSocket } from "../lib/http1-parse.js";
import { PinnedTransport, type SocketOpener } from "../lib/http1.js";
import { workersSocketOpener, type WorkersSocket } from "../lib/runtime/workers.js";
import { TransportError, type TransportRequest, type TransportResponse } from "../lib/transport.js";
import { notApplicable, runtime, sleep } from "./support/helpers.js";

const MARGIN_MS = 300;
const enc = new TextEncoder();
const dec = new TextDecoder();

/** A socket whose answers the test pushes; it records what was written. */
class ManualSocket implements ByteSocket {
  closed = false;
  readonly written: string[] = [];
  private waiter: ((c: Uint8Array | null) => void) | undefined;
  private readonly inbox: Uint8Array[] = [];
  write(data: Uint8Array): Promise<void> {
    this.written.push(dec.decode(data));
    return Promise.resolve();
  }
  read(): Promise<Uint8Array | null> {
    if (this.closed) return Promise.resolve(null);
    const next = this.inbox.shift();
    return next !== undefined ? Promise.resolve(next) : new Promise((r) => (this.waiter = r));
  }
  answer(body: string): void {
    const chunk = enc.encode(`HTTP/1.1 200 OK\r\ncontent-length: ${enc.encode(body).length}\r\n\r\n${body}`);
    const w = this.waiter;
    this.waiter = undefined;
    if (w !== undefined) w(chunk);
    else this.inbox.push(chunk);
  }
  close(): void {
    this.closed = true;
    this.waiter?.(null);
    this.waiter = undefined;
  }
}

const request = (body: string, signal?: AbortSignal, url = "http://db:4200/_sql"): TransportRequest =>
  ({ url, method: "POST", headers: {}, body, idempotent: true, ...(signal ? { signal } : {}) });

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, "must reject with a TransportError").to.be.instanceOf(TransportError);
  return err as TransportError;
}

/** Waits until `cond` holds (polling the event loop), at most 1 s. */
async function until(cond: () => boolean): Promise<void> {
  for (const end = Date.now() + 1000; !cond(); await sleep(2)) if (Date.now() > end) throw new Error("condition not reached");
}

describe("Session deadlines: an aborted session request settles at once, in every phase", () => {
  it("queued behind another request: EQUEUED, never sent, the request in front and the session unaffected", async () => {
    const socket = new ManualSocket();
    const t = new PinnedTransport(async () => socket);
    const front = t.request(request("front"));
    const ctl = new AbortController();
    const queued = t.request(request("queued", ctl.signal));
    await until(() => socket.written.length === 1);
    const reason = new Error("deadline");
    const started = Date.now();
    ctl.abort(reason);
    const err = await rejection(queued);
    expect(Date.now() - started).to.be.below(MARGIN_MS);
    expect(err.message).to.equal("gave up while queued behind another request of the session");
    expect([err.sent, err.code, err.cause]).to.deep.equal([false, "EQUEUED", reason]);
    socket.answer("for front");
    expect(dec.decode((await front).body)).to.equal("for front");
    const after = t.request(request("after"));
    await until(() => socket.written.length === 2);
    socket.answer("for after");
    expect(dec.decode((await after).body)).to.equal("for after");
    expect(socket.written.map((w) => w.slice(w.indexOf("\r\n\r\n") + 4))).to.deep.equal(["front", "after"]);
    await t.close();
  });

  it("an already aborted signal: EQUEUED before anything is opened", async () => {
    let opened = 0;
    const t = new PinnedTransport(async () => (opened++, new ManualSocket()));
    const err = await rejection(t.request(request("x", AbortSignal.abort(new Error("early")))));
    expect([err.sent, err.code, opened]).to.deep.equal([false, "EQUEUED", 0]);
  });

  it("while connecting, with an opener that ignores the signal: ECONNECT at once, the late socket is closed, the transport stays unbound", async () => {
    let late: ((s: ByteSocket) => void) | undefined;
    const lateSocket = new ManualSocket();
    const next = new ManualSocket();
    const urls: string[] = [];
    const open: SocketOpener = (url) => {
      urls.push(url.origin);
      return urls.length === 1 ? new Promise((r) => (late = r)) : Promise.resolve(next);
    };
    const t = new PinnedTransport(open);
    const ctl = new AbortController();
    const reason = new Error("connect deadline");
    const p = t.request(request("a", ctl.signal, "http://a:4200/_sql"));
    await until(() => late !== undefined);
    ctl.abort(reason);
    const err = await rejection(p);
    expect([err.sent, err.code, err.cause]).to.deep.equal([false, "ECONNECT", reason]);
    late?.(lateSocket);
    await sleep(1);
    expect(lateSocket.closed, "a socket that comes back after the abort is closed").to.equal(true);
    expect(lateSocket.written).to.deep.equal([]);
    // Unbound: the next request may go to another node.
    const q = t.request(request("b", undefined, "http://b:4200/_sql"));
    await until(() => next.written.length === 1);
    next.answer("from b");
    expect(dec.decode((await q).body)).to.equal("from b");
    expect(urls).to.deep.equal(["http://a:4200", "http://b:4200"]);
    await t.close();
  });

  it("while connecting, the opener gets the signal (SocketOpener(url, signal))", async () => {
    let seen: AbortSignal | undefined;
    const t = new PinnedTransport((_url, signal) => ((seen = signal), new Promise(() => undefined)));
    const ctl = new AbortController();
    const p = t.request(request("a", ctl.signal));
    await until(() => seen !== undefined);
    ctl.abort(new Error("x"));
    expect((await rejection(p)).code).to.equal("ECONNECT");
    expect(seen?.aborted).to.equal(true);
  });

  it("after the request was written: EABORTED (sent), the socket destroyed, the session lost; queued requests fail as lost, unsent", async () => {
    const socket = new ManualSocket();
    const t = new PinnedTransport(async () => socket);
    const ctl = new AbortController();
    const reason = new Error("statement deadline");
    const p = t.request(request("slow", ctl.signal));
    const queued = t.request(request("queued"));
    await until(() => socket.written.length === 1);
    ctl.abort(reason);
    const err = await rejection(p);
    expect([err.sent, err.code, err.cause]).to.deep.equal([true, "EABORTED", reason]);
    expect(socket.closed).to.equal(true);
    const lost = await rejection(queued);
    expect([lost.sent, lost.code]).to.deep.equal([false, "ESESSIONLOST"]);
    expect(socket.written).to.have.length(1);
  });

  it("the Workers opener closes a socket whose handshake has not finished when the signal aborts", async () => {
    let closed = 0;
    const socket: WorkersSocket = {
      readable: new ReadableStream(), writable: new WritableStream(), opened: new Promise(() => undefined),
      close: async () => void closed++,
    };
    const open = workersSocketOpener(() => socket);
    const ctl = new AbortController();
    const reason = new Error("deadline");
    const p = open(new URL("https://db:4200"), ctl.signal);
    await sleep(1);
    ctl.abort(reason);
    const err = await rejection(p);
    expect([err.sent, err.code, err.cause, closed]).to.deep.equal([false, "ECONNECT", reason, 1]);
  });
});

type Net = typeof import("node:net");
const hasSockets = runtime === "node" || runtime === "deno" || runtime === "bun";
const NO_SERVER = "the spec starts raw TCP servers with node:net, which this lane's specs cannot do";

/** A raw HTTP server whose requests say how to be answered: `{ id, fault, delay }`. */
async function faultServer(net: Net): Promise<{ port: number; hangPort: number; open: () => number; close: () => Promise<void> }> {
  const sockets = new Set<import("node:net").Socket>();
  let open = 0;
  const serve = (socket: import("node:net").Socket): void => {
    sockets.add(socket);
    open++;
    socket.on("close", () => (sockets.delete(socket), open--));
    socket.on("error", () => undefined);
    let buf = "";
    socket.on("data", (chunk: Buffer) => {
      buf += chunk.toString("latin1");
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (end === -1) return;
        const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + len) return;
        const { id, fault, delay } = JSON.parse(buf.slice(end + 4, end + 4 + len)) as { id: number; fault: string; delay: number };
        buf = buf.slice(end + 4 + len);
        const body = JSON.stringify({ id });
        const res = (extra = ""): string => `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;
        setTimeout(() => {
          if (socket.destroyed) return;
          if (fault === "answer") socket.write(res());
          else if (fault === "reset") socket.destroy();
          else if (fault === "close") socket.end(res("connection: close\r\n"));
          else if (fault === "extra") socket.write(res() + res().replace(`{"id":${id}}`, '{"id":-1}'));
          else if (fault === "split") {
            const all = res();
            socket.write(all.slice(0, 20));
            setTimeout(() => socket.destroyed || socket.write(all.slice(20)), 5);
          } // "hang": never answer
        }, delay);
      }
    });
  };
  const server = net.createServer(serve);
  // Accepts TCP and never answers: a TLS handshake to it hangs.
  const hang = net.createServer((s) => (sockets.add(s), open++, s.resume(), s.on("error", () => undefined), s.on("close", () => (sockets.delete(s), open--))));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  await new Promise<void>((r) => hang.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as { port: number }).port,
    hangPort: (hang.address() as { port: number }).port,
    open: () => open,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => hang.close(r))]);
    },
  };
}

const TLS_DEFAULTS = {
  verifySslCert: true, caCert: undefined, certFile: undefined, keyFile: undefined, sslRelaxMinimumVersion: false,
  socketKeepalive: true, socketTcpKeepidle: undefined, socketTcpKeepintvl: undefined, socketTcpKeepcnt: undefined, poolSize: undefined,
};

describe("Session deadlines over real sockets (random fault schedules)", () => {
  let server: Awaited<ReturnType<typeof faultServer>> | undefined;
  let opener: SocketOpener | undefined;

  before(async () => {
    if (!hasSockets) return;
    const net = (await import("node:net")) as Net;
    server = await faultServer(net);
    opener = (await import("../lib/runtime/node-socket.js")).nodeSocketOpener(TLS_DEFAULTS);
  });
  after(async () => server?.close());
  beforeEach(function () {
    if (server === undefined) notApplicable(this, NO_SERVER);
  });

  it("a TLS handshake that never finishes: ECONNECT at the deadline, the half-open socket is destroyed", async () => {
    const srv = server as NonNullable<typeof server>;
    const t = new PinnedTransport(opener as SocketOpener);
    const ctl = new AbortController();
    const reason = new Error("connect deadline");
    const p = t.request(request(JSON.stringify({ id: 1, fault: "answer", delay: 0 }), ctl.signal, `https://127.0.0.1:${srv.hangPort}/_sql`));
    await until(() => srv.open() === 1);
    const started = Date.now();
    ctl.abort(reason);
    const err = await rejection(p);
    expect(Date.now() - started).to.be.below(MARGIN_MS);
    expect([err.sent, err.code, err.cause]).to.deep.equal([false, "ECONNECT", reason]);
    await until(() => srv.open() === 0);
    // Unbound: the same transport may now open a socket to another node.
    const ok = await t.request(request(JSON.stringify({ id: 2, fault: "answer", delay: 0 }), undefined, `http://127.0.0.1:${srv.port}/_sql`));
    expect(JSON.parse(dec.decode(ok.body))).to.deep.equal({ id: 2 });
    await t.close();
  });

  it("property: every request settles within its deadline + 300 ms, never with another request's body, no unhandled rejection", async function () {
    this.timeout(120_000);
    const srv = server as NonNullable<typeof server>;
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    const onEvent = (e: Event): void => (e.preventDefault(), onUnhandled((e as PromiseRejectionEvent).reason));
    const proc = (globalThis as { process?: { on(ev: string, f: (e: unknown) => void): void; off(ev: string, f: (e: unknown) => void): void } }).process;
    if (runtime === "deno") globalThis.addEventListener("unhandledrejection", onEvent);
    else proc?.on("unhandledRejection", onUnhandled);
    const seedEnv = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FUZZ_SEED;
    let worst = 0;
    const schedule = fc.record({
      tlsHang: fc.boolean(),
      requests: fc.array(fc.record({
        fault: fc.constantFrom("answer", "answer", "answer", "split", "reset", "hang", "close", "extra"),
        delay: fc.integer({ min: 0, max: 150 }),
        // Mostly short deadlines; some long ones, so that a request stuck behind one shows beyond the margin.
        deadline: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 10, max: 250 }) }, { weight: 1, arbitrary: fc.integer({ min: 450, max: 900 }) }),
        startAfter: fc.integer({ min: 0, max: 40 }),
      }), { minLength: 1, maxLength: 5 }),
    });
    try {
      await fc.assert(fc.asyncProperty(schedule, async ({ tlsHang, requests }) => {
        const t = new PinnedTransport(opener as SocketOpener);
        const outcomes = await Promise.all(requests.map(async (r, id) => {
          await sleep(r.startAfter);
          const ctl = new AbortController();
          const timer = setTimeout(() => ctl.abort(new Error(`deadline ${r.deadline} ms`)), r.deadline);
          const url = tlsHang && id === 0 ? `https://127.0.0.1:${srv.hangPort}/_sql` : `http://127.0.0.1:${srv.port}/_sql`;
          const started = Date.now();
          let res: TransportResponse | undefined;
          let err: unknown;
          try {
            res = await t.request(request(JSON.stringify({ id, fault: r.fault, delay: r.delay }), ctl.signal, url));
          } catch (e) {
            err = e;
          } finally {
            clearTimeout(timer);
          }
          const late = Date.now() - started - r.deadline;
          worst = Math.max(worst, late);
          return { id, r, res, err, late };
        }));
        await t.close();
        for (const o of outcomes) {
          const what = `request ${o.id} ${JSON.stringify(o.r)}`;
          expect(o.late, `${what} settled ${o.late} ms after its deadline`).to.be.below(MARGIN_MS);
          if (o.res !== undefined) {
            expect(JSON.parse(dec.decode(o.res.body)), `${what}: the body of another request`).to.deep.equal({ id: o.id });
            expect(["answer", "split", "close", "extra"], what).to.include(o.r.fault);
          } else {
            expect(o.err, `${what}: ${String(o.err)}`).to.be.instanceOf(TransportError);
            const te = o.err as TransportError;
            const unsent = ["EQUEUED", "ECONNECT", "ESESSIONLOST", "ESESSIONPINNED"];
            if (unsent.includes(te.code ?? "")) expect(te.sent, `${what}: ${te.code}`).to.equal(false);
            else expect(te.sent, `${what}: ${te.code} ${te.message}`).to.equal(true);
          }
        }
        expect(unhandled, "unhandled rejections").to.deep.equal([]);
      }), { seed: seedEnv ? Number(seedEnv) : 20261206, numRuns: 30, endOnFailure: true });
      await until(() => srv.open() === 0);
    } finally {
      if (runtime === "deno") globalThis.removeEventListener("unhandledrejection", onEvent);
      else proc?.off("unhandledRejection", onUnhandled);
    }
    expect(worst, "the latest settlement after a deadline").to.be.below(MARGIN_MS);
    console.log(`      (latest settlement after a deadline: ${worst} ms)`);
  });
});
