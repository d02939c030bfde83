/** Shared by the session, stream and cancellation specs. */
import type { ClusterHandle } from "./cluster-api.js";
import { runtime, sleep } from "./helpers.js";

/** Lanes where a session can pin a socket; the others must refuse sessions loudly. */
export const sessionsHere: boolean = runtime !== "browser";
export const NO_SESSIONS = "browsers choose the connection of every fetch themselves, so a session cannot be pinned to one";

/** Waits (up to `ms`, 1 s by default) for a KILL of the job whose statement contains `needle`; returns that job. */
export async function waitForKill(cluster: ClusterHandle, needle: string, ms = 1000): Promise<{ id: string; stmt: string }> {
  const until = Date.now() + ms;
  for (;;) {
    const [jobs, kills] = await Promise.all([cluster.jobs(), cluster.kills()]);
    const job = jobs.find((j) => j.stmt.includes(needle) && j.state === "killed");
    if (job !== undefined && kills.some((k) => k.jobId === job.id && k.found)) return job;
    if (Date.now() > until) {
      throw new Error(`no KILL of a job with ${JSON.stringify(needle)} within ${ms} ms: jobs ${JSON.stringify(jobs.map((j) => [j.stmt.slice(0, 60), j.state]))}, kills ${JSON.stringify(kills)}`);
    }
    await sleep(20);
  }
}

/** Polls until `check` holds (or fails after `ms`). */
export async function waitFor(check: () => Promise<boolean>, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not reached in time");
    await sleep(25);
  }
}
