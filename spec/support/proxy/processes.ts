/**
 * Starts and stops one real proxy process (nginx or HAProxy) for one fake cluster.
 *
 * Each proxy runs in the foreground (nginx `-g 'daemon off; pid …;'`, HAProxy `-db`) as a child of the
 * proxy front, in a process group of its own (`detached`), so that stopping it signals the master and
 * its workers together, and an empty group proves that nothing is left behind. Every group id is also
 * appended to `<root>/pgids` so that the lane can sweep and report orphans even if the front died.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { haproxyConfig, nginxConfig, type ProxyLayout, type Route } from "./configs.js";

export type ProxyKind = "nginx" | "haproxy";

export interface RunningProxy {
  kind: ProxyKind;
  layout: ProxyLayout;
  pgid: number;
  stop(): Promise<void>;
}

/** A port that was free a moment ago (the proxy binds it next; a lost race makes the start fail and retry). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True while any process of the group is alive. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-8).join("\n");
  } catch {
    return "";
  }
}

function launch(kind: ProxyKind, l: ProxyLayout, logFile: string): ChildProcess {
  const out = fs.openSync(logFile, "a");
  try {
    if (kind === "nginx") {
      const conf = path.join(l.dir, "nginx.conf");
      fs.writeFileSync(conf, nginxConfig(l));
      // -e: the error log before the config is read (the Debian build's default is stderr/var/log).
      return spawn("nginx", ["-p", l.dir, "-e", path.join(l.dir, "error.log"), "-c", conf, "-g", `daemon off; pid ${path.join(l.dir, "nginx.pid")};`],
        { detached: true, stdio: ["ignore", out, out] });
    }
    const cfg = path.join(l.dir, "haproxy.cfg");
    fs.writeFileSync(cfg, haproxyConfig(l));
    return spawn("haproxy", ["-f", cfg, "-db"], { detached: true, stdio: ["ignore", out, out] });
  } finally {
    fs.closeSync(out);
  }
}

async function stopGroup(child: ChildProcess, pgid: number): Promise<void> {
  const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => child.once("exit", () => r()));
  try {
    process.kill(-pgid, "SIGTERM"); // nginx: fast shutdown; HAProxy: hard stop
  } catch {
    // already gone
  }
  await Promise.race([exited, sleep(3000)]);
  for (let i = 0; i < 30 && groupAlive(pgid); i++) await sleep(100);
  if (groupAlive(pgid)) {
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // gone after all
    }
  }
}

/**
 * Starts `kind` for the given nodes in `dir` (created), with one listener per node and a balancer.
 * Resolves once every listener accepts connections.
 */
export async function startProxy(kind: ProxyKind, root: string, dir: string, certs: { certPath: string; keyPath: string; pemPath: string }, nodes: string[]): Promise<RunningProxy> {
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    fs.rmSync(dir, { recursive: true, force: true });
    for (const sub of ["tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"]) fs.mkdirSync(path.join(dir, sub), { recursive: true });
    const routes: Route[] = [];
    for (const node of nodes) routes.push({ listen: await freePort(), node });
    const layout: ProxyLayout = { dir, ...certs, routes, balancer: await freePort() };
    const logFile = path.join(dir, `${kind}.out`);
    const child = launch(kind, layout, logFile);
    const pgid = child.pid;
    if (pgid === undefined) throw new Error(`${kind} could not be started (is it installed?)`);
    fs.appendFileSync(path.join(root, "pgids"), `${pgid}\n`);
    let exited = false;
    child.once("exit", () => (exited = true));
    const ports = [...routes.map((r) => r.listen), layout.balancer];
    const deadline = Date.now() + 5000;
    let ready = false;
    while (!exited && Date.now() < deadline) {
      if ((await Promise.all(ports.map(canConnect))).every(Boolean)) {
        ready = true;
        break;
      }
      await sleep(20);
    }
    if (ready && !exited) return { kind, layout, pgid, stop: () => stopGroup(child, pgid) };
    await stopGroup(child, pgid);
    lastError = new Error(`${kind} did not start (attempt ${attempt + 1}):\n${tail(logFile)}\n${tail(path.join(dir, "error.log"))}`);
  }
  throw lastError ?? new Error(`${kind} did not start`);
}
