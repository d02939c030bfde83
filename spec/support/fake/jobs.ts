/**
 * `sys.jobs` and `KILL` in the fake. Every `/_sql` statement is a job while it executes (its raw text, comments
 * included); a `job` fault holds a statement as a running job for `ms` (visible in `sys.jobs` only after `planMs`,
 * as CrateDB lists a job only after planning), then runs it, unless a `KILL` ends it first: its request then
 * answers 500/5005 `JobKilledException[Job killed. KILL invoked by user: <user>]` and the statement never runs.
 */
import { stringify, type JsonValue } from "./json.js";
import { SqlError } from "./sql-lexer.js";

export interface JobNode {
  index: number;
  id: string;
  name: string;
}

export interface Job {
  id: string;
  node: number;
  nodeId: string;
  nodeName: string;
  user: string;
  stmt: string;
  /** Epoch ms. */
  started: number;
  state: "running" | "done" | "killed";
  /** Epoch ms from which `sys.jobs` lists it. */
  visibleAt: number;
  /** Held by a `job` fault. */
  held: boolean;
}

export interface KillRecord {
  node: number;
  jobId: string;
  found: boolean;
  at: number;
}

/** A held job's outcome: the kill reason, or undefined when it ran its time. */
type Release = (killedBy: string | undefined) => void;

export class JobBook {
  private history: Job[] = [];
  private readonly running = new Map<string, Job>();
  private readonly holds = new Map<string, { timer: NodeJS.Timeout; release: Release }>();
  private killLog: KillRecord[] = [];

  begin(node: JobNode, user: string, stmt: string, planMs = 0): Job {
    const now = Date.now();
    const job: Job = {
      id: crypto.randomUUID(),
      node: node.index,
      nodeId: node.id,
      nodeName: node.name,
      user,
      stmt,
      started: now,
      state: "running",
      visibleAt: now + planMs,
      held: false,
    };
    this.running.set(job.id, job);
    this.history.push(job);
    return job;
  }

  end(job: Job, state: "done" | "killed" = "done"): void {
    if (job.state !== "running") return;
    job.state = state;
    this.running.delete(job.id);
  }

  /** Hold a running job for `ms`: resolves with the kill reason if a KILL came first, else undefined. */
  hold(job: Job, ms: number): Promise<string | undefined> {
    job.held = true;
    return new Promise((resolve) => {
      const release: Release = (killedBy) => {
        clearTimeout(timer);
        this.holds.delete(job.id);
        if (killedBy !== undefined) this.end(job, "killed");
        resolve(killedBy);
      };
      const timer = setTimeout(() => release(undefined), Math.max(0, ms));
      this.holds.set(job.id, { timer, release });
    });
  }

  /** Running jobs past their planning time, as `sys.jobs` lists them. */
  visible(): Job[] {
    const now = Date.now();
    return [...this.running.values()].filter((j) => j.visibleAt <= now);
  }

  /** `KILL '<id>'` on `node` by `user`: true when a running (held) job was killed. */
  kill(id: string, node: number, user: string): boolean {
    const held = this.holds.get(id);
    const found = held !== undefined && this.running.has(id);
    this.killLog.push({ node, jobId: id, found, at: Date.now() });
    if (found) held.release(`KILL invoked by user: ${user}`);
    return found;
  }

  jobs(): Array<{ id: string; node: number; stmt: string; state: Job["state"]; started: number; held: boolean }> {
    return this.history.map((j) => ({ id: j.id, node: j.node, stmt: j.stmt, state: j.state, started: j.started, held: j.held }));
  }

  kills(): KillRecord[] {
    return [...this.killLog];
  }

  /** Forget finished jobs and the kills (running jobs stay listed). */
  reset(): void {
    this.history = this.history.filter((j) => j.state === "running");
    this.killLog = [];
  }

  /** The cluster closes: held jobs end as killed (their sockets are gone). */
  close(): void {
    for (const { release } of [...this.holds.values()]) release("the node was shut down");
  }
}

export const jobKilled = (reason: string): SqlError => new SqlError(500, 5005, "JobKilledException", `Job killed. ${reason}`);

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The KILL argument as a job id (CrateDB casts it to uuid). */
export function killTarget(v: JsonValue): string {
  if (typeof v !== "string" || !UUID.test(v)) {
    const shown = typeof v === "string" ? v : stringify(v);
    throw new SqlError(400, 4000, "SQLParseException", `Cannot cast value \`${shown}\` to type \`uuid\``);
  }
  return v.toLowerCase();
}
