// CPU pinning for the bench: the server on one CPU, every client process on another, so that the
// client never competes with the server for a core (on a 2-core machine an unpinned scheduler moves
// both around and the ratios swing). Linux with a working `taskset` only; elsewhere, or with fewer
// than two CPUs allowed, the processes run unpinned and `note` says so (it is printed in the report).
// Affinity is inherited, so the workers a pinned scenario process forks stay on the client CPU.
import { spawnSync } from "node:child_process";

/** "0-2,5" → [0, 1, 2, 5] */
function parseList(list) {
  const cpus = [];
  for (const part of list.split(",")) {
    const [a, b] = part.trim().split("-").map(Number);
    if (!Number.isInteger(a)) continue;
    for (let c = a; c <= (Number.isInteger(b) ? b : a); c++) cpus.push(c);
  }
  return cpus;
}

/**
 * Returns { note, client, server, wrap(role, cmd, args) → [cmd, args] }. `BENCH_PIN=0` turns pinning
 * off (to compare), `BENCH_PIN=client,server` picks the CPUs.
 */
export function pinning() {
  const off = (note) => ({ note, client: undefined, server: undefined, wrap: (_role, cmd, args) => [cmd, args] });
  if (process.env.BENCH_PIN === "0") return off("not pinned (BENCH_PIN=0)");
  if (process.platform !== "linux") return off(`not pinned: no taskset on ${process.platform}`);
  const probe = spawnSync("taskset", ["-cp", String(process.pid)], { encoding: "utf8" });
  if (probe.error !== undefined || probe.status !== 0) return off("not pinned: `taskset` is not available (util-linux)");
  const allowed = parseList(probe.stdout.split(":").pop() ?? "");
  let client = allowed[0];
  let server = allowed[allowed.length - 1];
  if (process.env.BENCH_PIN) [client, server] = process.env.BENCH_PIN.split(",").map(Number);
  if (allowed.length < 2 || client === server || !allowed.includes(client) || !allowed.includes(server)) {
    return off(`not pinned: this process may run on CPUs [${allowed.join(",")}] only, two different ones are needed`);
  }
  // A container may refuse sched_setaffinity even where taskset exists.
  const test = spawnSync("taskset", ["-c", String(server), "true"]);
  if (test.status !== 0) return off("not pinned: `taskset -c` was refused (sched_setaffinity)");
  return {
    note: `pinned with taskset: server on CPU ${server}, client processes on CPU ${client} (of ${allowed.length} allowed; other load on the machine is not excluded)`,
    client,
    server,
    wrap: (role, cmd, args) => ["taskset", ["-c", String(role === "server" ? server : client), cmd, ...args]],
  };
}
