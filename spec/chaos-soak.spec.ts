// A bounded, seeded chaos soak of the newer features: concurrent reads and writes, sessions, streams that end,
// break, throw, abort and get closed, and statements that time out, over 3 fake nodes, while a driver resets,
// hangs, stops and restarts nodes and answers 503. At the end: no duplicate write, no untyped error, no
// unhandled rejection, nothing past its deadline, no silently cut stream, no cursor or socket left open, and a
// KILL for every timed-out job whose node stayed up.
import { expect } from "chai";
import { CrateDBError, connect, type Connection } from "cratedb-fetch";
import { clusterPerSuite } from "./support/cluster.js";
import type { ClusterHandle, Fault } from "./support/cluster-api.js";
import { notApplicable, runtime, sleep } from "./support/helpers.js";
import { NO_SESSIONS, sessionsHere } from "./support/sessions.js";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
const SEED = Number(env?.SOAK_SEED ?? 170_17);
const OPS = 160;
const IN_FLIGHT = 8;
const TIMEOUT = 1_500;
/** Every operation settles within this (a read may try three nodes, with backoff). */
const DEADLINE = 3 * TIMEOUT + 2_000;

/** mulberry32: a small seeded PRNG, so that a failing schedule can be replayed with SOAK_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind = "read" | "write" | "session" | "stream-all" | "stream-break" | "stream-throw" | "stream-abort" | "stream-close" | "timed";
const KINDS: Kind[] = ["read", "read", "write", "write", "session", "stream-all", "stream-break", "stream-throw", "stream-abort", "stream-close", "timed"];

class Mine extends Error {}

describe("Chaos soak: sessions, streams and timeouts under node faults (seeded)", function () {
  this.timeout(120_000);
  let cluster: ClusterHandle;
  let urls: string[];
  clusterPerSuite({ nodes: 3 }, (c) => {
    cluster = c;
    urls = c.urls;
  }, { restartNodes: true });

  it(`keeps every promise (seed ${SEED}, ${OPS} operations, ${IN_FLIGHT} in flight)`, async function () {
    if (!sessionsHere) notApplicable(this, NO_SESSIONS);
    if (runtime === "workerd") notApplicable(this, "workerd's fetch keeps its own sockets and re-sends; the chaos and failover specs cover its pooled path");
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const conn: Connection = connect(urls, { timeout: TIMEOUT, retryInterval: 300, backoffFactor: 25, maxRetries: 6 });
    await conn.query("CREATE TABLE soak_writes (id INT)");
    await cluster.resetLog();

    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    const proc = (globalThis as { process?: { on(e: string, f: (x: unknown) => void): void; off(e: string, f: (x: unknown) => void): void } }).process;
    const onEvent = (e: Event): void => {
      unhandled.push((e as PromiseRejectionEvent).reason);
      e.preventDefault();
    };
    if (proc !== undefined) proc.on("unhandledRejection", onUnhandled);
    else globalThis.addEventListener?.("unhandledrejection", onEvent);

    // The driver: a fault or an outage every ~80 ms, on a random node, until the operations are done.
    const stops: Array<{ node: number; from: number; to: number }> = [];
    let driving = true;
    const driver = (async () => {
      while (driving) {
        await sleep(40 + random() * 80);
        const node = Math.floor(random() * 3);
        const roll = random();
        if (roll < 0.1) {
          const from = Date.now();
          await cluster.stopNode(node);
          await sleep(150);
          await cluster.startNode(node);
          stops.push({ node, from, to: Date.now() });
        } else {
          const fault: Fault = roll < 0.4 ? { kind: "reset-before-headers" } : roll < 0.55 ? { kind: "reset-after-headers" }
            : roll < 0.65 ? { kind: "hang" } : roll < 0.85 ? { kind: "status", status: 503 } : { kind: "truncated-body" };
          await cluster.fault({ node, fault });
        }
      }
    })();

    const stored = new Set<number>();
    const acknowledged: number[] = [];
    const timedOut: string[] = [];
    const problems: string[] = [];
    const errors = new Map<string, number>();
    const typed = (e: unknown, what: string): void => {
      const name = e instanceof Error ? e.name : typeof e;
      errors.set(name, (errors.get(name) ?? 0) + 1);
      if (!(e instanceof CrateDBError) && !(e instanceof Mine) && !(e instanceof Error && /^(abort|closed)-\d+$/.test(e.message))) {
        problems.push(`${what}: untyped ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
    };

    const run = async (i: number, kind: Kind): Promise<void> => {
      switch (kind) {
        case "read": {
          const r = await conn.query("SELECT ?", [i]).catch((e: unknown) => typed(e, "read"));
          if (r !== undefined) expect(r.rows).to.deep.equal([[i]]);
          return;
        }
        case "write":
          await conn.query("INSERT INTO soak_writes (id) VALUES (?)", [i]).then(() => void acknowledged.push(i), (e: unknown) => typed(e, "write"));
          return;
        case "session":
          await conn.withSession(async (s) => {
            await s.query("SET search_path TO soak_s");
            expect((await s.query("SELECT current_schema")).rows).to.deep.equal([["soak_s"]]);
          }).catch((e: unknown) => typed(e, "session"));
          return;
        case "timed": {
          const marker = `soak_timed_${i}`;
          for (let n = 0; n < 3; n++) await cluster.fault({ node: n, fault: { kind: "job", ms: 5_000 }, stmt: marker });
          const started = Date.now();
          await conn.query(`SELECT '${marker}'`, [], { timeout: 200 }).then(
            () => problems.push(`${marker} answered although every node held it for 5 s`),
            (e: unknown) => {
              typed(e, "timed");
              if (e instanceof Error && /timed out after 200 ms/.test(e.message)) timedOut.push(marker);
            });
          if (Date.now() - started > 200 + 1_500) problems.push(`${marker} settled after ${Date.now() - started} ms`);
          return;
        }
        default: {
          const ac = new AbortController();
          const stream = conn.stream("SELECT * FROM generate_series(1, 2000)", [], { batchSize: 100, signal: ac.signal });
          let expected = 1;
          try {
            for await (const [n] of stream as AsyncIterable<[number]>) {
              if (n !== expected) throw new Error(`stream row ${n} where ${expected} was expected`);
              expected++;
              if (kind === "stream-break" && n === 250) break;
              if (kind === "stream-throw" && n === 250) throw new Mine("thrown by the consumer");
              if (kind === "stream-abort" && n === 250) ac.abort(new Error(`abort-${i}`));
              if (kind === "stream-close" && n === 250) void stream.close();
            }
            // Ended without an error: complete, or the consumer broke off.
            if (kind === "stream-break") expect(expected).to.equal(251);
            else if (expected !== 2001) problems.push(`${kind} ${i} ended quietly after ${expected - 1} rows`);
          } catch (e) {
            typed(e, kind);
            if (kind === "stream-throw" && !(e instanceof Mine) && !(e instanceof CrateDBError)) problems.push(`stream-throw ${i}: ${String(e)}`);
          }
        }
      }
    };

    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < OPS) {
        const i = next++;
        const kind = pick(KINDS);
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), DEADLINE)));
        const outcome = await Promise.race([run(i, kind).then(() => "ok" as const, (e: unknown) => (problems.push(`${kind} ${i}: ${String(e)}`), "ok" as const)), late]);
        clearTimeout(timer);
        if (outcome === "late") problems.push(`${kind} ${i} did not settle within ${DEADLINE} ms`);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    driving = false;
    await driver;
    await cluster.clearFaults();
    for (let n = 0; n < 3; n++) await cluster.startNode(n).catch(() => undefined);
    await conn.close();
    if (proc !== undefined) proc.off("unhandledRejection", onUnhandled);
    else globalThis.removeEventListener?.("unhandledrejection", onEvent);

    const rows = (await cluster.stats()).tables["doc.soak_writes"] ?? [];
    for (const [id] of rows as Array<[number]>) {
      if (stored.has(id)) problems.push(`write ${id} stored twice`);
      stored.add(id);
    }
    for (const id of acknowledged) if (!stored.has(id)) problems.push(`write ${id} acknowledged but not stored`);
    // A timed-out job is killed, unless its node went down while it ran (then it is gone anyway). Only the jobs
    // the fault held count: an attempt that met a driver fault first (a reset or truncated body after executing)
    // ran at once and finished, and the read was re-sent to the node that then held it.
    const [jobs, kills] = await Promise.all([cluster.jobs(), cluster.kills()]);
    for (const marker of timedOut) {
      for (const job of jobs.filter((j) => j.held && j.stmt.includes(`'${marker}'`))) {
        const stoppedMeanwhile = stops.some((s) => s.node === job.node && s.to >= job.started && s.from <= job.started + 3_000);
        if (!stoppedMeanwhile && !kills.some((k) => k.jobId === job.id)) problems.push(`${marker}: no KILL for job ${job.id}`);
      }
    }
    console.log(`      soak: ${stored.size} writes stored, ${timedOut.length} timed out and killed, ${stops.length} node stops, ` +
      `errors ${JSON.stringify(Object.fromEntries(errors))}`);
    expect(unhandled.map(String), "unhandled rejections").to.deep.equal([]);
    expect(problems, `seed ${SEED}: ${JSON.stringify(problems).slice(0, 2000)}`).to.deep.equal([]);
    expect(timedOut.length, "the schedule had timed-out statements").to.be.above(0);
    expect(stored.size, "the schedule stored writes").to.be.above(0);
  });
});
