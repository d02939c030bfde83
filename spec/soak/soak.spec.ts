// Soak: 20 000 queries at 32 in flight against a 3-node fake cluster, mixed reads and inserts with
// unique ids, one node killed and restarted twice during the run. Runs only through
// `node spec/soak/run.mjs` (npm run test:soak): it is outside the default spec/*.spec.ts glob.
import { expect } from "chai";
import { ConnectionError, CrateDBError, IntegrityError, connect } from "cratedb-fetch";
import { startCluster } from "../support/cluster.js";
import type { ClusterHandle } from "../support/cluster-api.js";
import { sleep } from "../support/helpers.js";

interface Env { process?: { env?: Record<string, string | undefined> }; Deno?: { env: { get(k: string): string | undefined } } }
function env(name: string): string | undefined {
  const g = globalThis as Env;
  try {
    return g.process?.env?.[name] ?? g.Deno?.env.get(name);
  } catch {
    return undefined;
  }
}

const TOTAL = Number(env("SOAK_QUERIES") ?? 20_000);
const IN_FLIGHT = Number(env("SOAK_IN_FLIGHT") ?? 32);
const KILLED = 1;
const TABLE = "soak";
/** Progress points (fraction of queries done) at which node 1 is stopped and started again. */
const SCHEDULE: Array<[number, "stop" | "start"]> = [[0.15, "stop"], [0.3, "start"], [0.55, "stop"], [0.7, "start"]];

type Kind = "read" | "write";
interface Done { kind: Kind; id: number; ok: boolean; error?: unknown; echoed?: unknown }

/** What a failure was, for the summary: class and message kind. */
function classify(err: unknown): string {
  const cls = err instanceof Error ? err.name : typeof err;
  const msg = err instanceof Error ? err.message : String(err);
  const what = /may have been executed/.test(msg) ? "uncertain (may have been executed)"
    : /^No more servers available/.test(msg) ? "no more servers"
      : /timed out/.test(msg) ? "timed out" : msg.slice(0, 80);
  return `${cls}: ${what}`;
}

function tally(items: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of items) out[x] = (out[x] ?? 0) + 1;
  return out;
}

describe(`Soak: ${TOTAL} queries, ${IN_FLIGHT} in flight, node ${KILLED} killed and restarted twice`, function () {
  this.timeout(180_000);
  let cluster: ClusterHandle;
  const results: Done[] = [];
  const unhandled: unknown[] = [];
  const events: string[] = [];
  let wallMs = 0;
  let closeMs = 0;
  let stored: number[] = [];
  let sentCount = new Map<number, number>();
  let openAfterClose: number[] = [];

  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  const onUnhandledEvent = (e: Event): void => {
    unhandled.push((e as PromiseRejectionEvent).reason);
    e.preventDefault();
  };
  const proc = (globalThis as { process?: { on?(e: string, f: (r: unknown) => void): void; off?(e: string, f: (r: unknown) => void): void } }).process;

  before(async () => {
    if (proc?.on) proc.on("unhandledRejection", onUnhandled);
    else globalThis.addEventListener?.("unhandledrejection", onUnhandledEvent);
    cluster = await startCluster({ nodes: 3 });
    const conn = connect(cluster.urls, { retryInterval: 500, logger: { warn: (m) => events.push(m) } });
    const control: Array<Promise<void>> = [];
    let chain = Promise.resolve();
    let step = 0;
    let next = 0;
    let done = 0;
    const started = Date.now();
    const worker = async (): Promise<void> => {
      while (next < TOTAL) {
        const i = next++;
        const kind: Kind = i % 3 === 0 ? "write" : "read";
        try {
          if (kind === "write") {
            await conn.query(`INSERT INTO ${TABLE} (id, note) VALUES (?, ?)`, [i, `w${i}`]);
            results.push({ kind, id: i, ok: true });
          } else {
            const res = await conn.query("SELECT ?, ?", [i, `r${i}`]);
            results.push({ kind, id: i, ok: true, echoed: res.rows });
          }
        } catch (error) {
          results.push({ kind, id: i, ok: false, error });
        }
        done++;
        while (step < SCHEDULE.length && done >= (SCHEDULE[step] as [number, string])[0] * TOTAL) {
          const [at, action] = SCHEDULE[step++] as [number, "stop" | "start"];
          chain = chain.then(async () => {
            events.push(`${action} node ${KILLED} at ${Math.round(at * 100)}% (${Date.now() - started} ms)`);
            await (action === "stop" ? cluster.stopNode(KILLED) : cluster.startNode(KILLED));
          });
          control.push(chain);
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    await Promise.all(control);
    wallMs = Date.now() - started;

    const seen = await cluster.requests();
    sentCount = new Map();
    for (const r of seen) {
      if (!r.body.includes(`INTO ${TABLE} `)) continue;
      const id = (JSON.parse(r.body) as { args: number[] }).args[0] as number;
      sentCount.set(id, (sentCount.get(id) ?? 0) + 1);
    }
    stored = ((await cluster.stats()).tables[`doc.${TABLE}`] ?? []).map((row) => row[0] as number);

    const closing = Date.now();
    await conn.close();
    for (let t = 0; t < 40; t++) {
      openAfterClose = (await cluster.stats()).nodes.map((n) => n.connectionsOpen);
      if (openAfterClose.every((n) => n === 0)) break;
      await sleep(50);
    }
    closeMs = Date.now() - closing;
  });

  after(async () => {
    if (proc?.off) proc.off("unhandledRejection", onUnhandled);
    else globalThis.removeEventListener?.("unhandledrejection", onUnhandledEvent);
    const reads = results.filter((r) => r.kind === "read");
    const writes = results.filter((r) => r.kind === "write");
    const storedCount = tally(stored.map(String));
    const summary = {
      queries: results.length,
      inFlight: IN_FLIGHT,
      wallTimeMs: wallMs,
      queriesPerSecond: Math.round(results.length / (wallMs / 1000)),
      reads: { ok: reads.filter((r) => r.ok).length, failed: tally(reads.filter((r) => !r.ok).map((r) => classify(r.error))) },
      writes: { ok: writes.filter((r) => r.ok).length, failed: tally(writes.filter((r) => !r.ok).map((r) => classify(r.error))) },
      uncertainWrites: {
        stored: writes.filter((r) => !r.ok && stored.includes(r.id)).length,
        notStored: writes.filter((r) => !r.ok && !stored.includes(r.id)).length,
      },
      rowsStored: stored.length,
      duplicateRows: Object.values(storedCount).filter((n) => n > 1).length,
      writesSentTwice: [...sentCount.values()].filter((n) => n > 1).length,
      unhandledRejections: unhandled.length,
      socketsOpenAfterClose: openAfterClose,
      closeToZeroMs: closeMs,
      nodeEvents: events.filter((e) => /^(stop|start) node/.test(e)),
      serverRemovedEvents: events.filter((e) => e.startsWith("server removed")).length,
      serverRestoredEvents: events.filter((e) => e.startsWith("server restored")).length,
    };
    console.log(`SOAK ${JSON.stringify(summary, null, 2)}`);
    await cluster?.close();
  });

  it("ran every query, within the time budget", () => {
    expect(results).to.have.length(TOTAL);
    expect(wallMs).to.be.below(120_000);
  });

  it("noticed the node going down and coming back", () => {
    expect(events.filter((e) => e.startsWith("stop node")).length).to.equal(2);
    expect(events.some((e) => e.startsWith(`server removed: ${cluster.urls[KILLED]}`)), events.join("\n")).to.equal(true);
    expect(events.some((e) => e === `server restored: ${cluster.urls[KILLED]}`), events.join("\n")).to.equal(true);
  });

  it("every read succeeded with the right answer, or failed with a typed error", () => {
    for (const r of results.filter((x) => x.kind === "read")) {
      if (r.ok) expect(r.echoed, `read ${r.id}`).to.deep.equal([[r.id, `r${r.id}`]]);
      else expect(r.error, `read ${r.id}: ${String(r.error)}`).to.be.instanceOf(CrateDBError);
    }
  });

  it("every insert id is stored at most once and reached the servers at most once", () => {
    const counts = tally(stored.map(String));
    const dup = Object.entries(counts).filter(([, n]) => n > 1);
    expect(dup, "ids stored twice").to.deep.equal([]);
    const twice = [...sentCount.entries()].filter(([, n]) => n > 1);
    expect(twice, "ids sent twice").to.deep.equal([]);
    const integrity = results.filter((r) => !r.ok && r.error instanceof IntegrityError);
    expect(integrity.map((r) => r.id), "duplicate-key errors (a re-sent write)").to.deep.equal([]);
  });

  it("every write that succeeded is stored", () => {
    const have = new Set(stored);
    const missing = results.filter((r) => r.kind === "write" && r.ok && !have.has(r.id)).map((r) => r.id);
    expect(missing).to.deep.equal([]);
  });

  it("every failed write is a ConnectionError; one that may have run says so, one that cannot have run is not stored", () => {
    const have = new Set(stored);
    for (const r of results.filter((x) => x.kind === "write" && !x.ok)) {
      expect(r.error, `write ${r.id}: ${String(r.error)}`).to.be.instanceOf(ConnectionError);
      const msg = (r.error as Error).message;
      if (/^No more servers available/.test(msg)) {
        expect(have.has(r.id) || sentCount.has(r.id), `write ${r.id} was reported as never sent, but the server has it`).to.equal(false);
      } else {
        expect(msg, `write ${r.id}`).to.match(/may have been executed/);
      }
    }
  });

  it("no unhandled rejection", () => {
    expect(unhandled.map(String)).to.deep.equal([]);
  });

  it("leaves no socket open on the server after close()", () => {
    expect(openAfterClose).to.deep.equal([0, 0, 0]);
  });
});
