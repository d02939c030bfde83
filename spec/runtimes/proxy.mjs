// Proxy lane: the failover, chaos and blob specs, and spec/proxy.spec.ts, in Node through real reverse
// proxies: first nginx, then HAProxy.
//
// For each proxy the lane starts the proxy front (spec/support/proxy/front.ts) in front of the control
// server that `npm test` started: every fake cluster a spec creates gets its own proxy process, and
// `startCluster()` hands out per-node proxy URLs (`https://127.0.0.1:<port>/crate`), so the specs run
// unchanged, TLS terminated at the proxy (its test CA reaches Node as NODE_EXTRA_CA_CERTS). Specs whose
// expectation legitimately differs behind a proxy say so with notApplicableBehindProxy(): counted and
// listed as "not applicable behind <proxy>", never as passed. After each proxy the lane stops the front
// (which stops every proxy) and checks that no process of any proxy's process group is left; a leftover is
// killed and counted as a failure. LANE_RESULT carries the sum and `parts` per proxy.
import { build } from "esbuild";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { mochaArgs, root } from "./bundle.mjs";
import { startControl } from "./process.mjs";
import { exitFlushed } from "./exit.mjs";

// SPEC_PROXIES=haproxy runs one of them only (while working on it).
const PROXIES = process.env.SPEC_PROXIES ? process.env.SPEC_PROXIES.split(",") : ["nginx", "haproxy"];
const SPECS = ["failover", "chaos", "blobs", "proxy"];
const control = process.env.CRATEDB_FETCH_CONTROL;
if (!control) throw new Error("CRATEDB_FETCH_CONTROL is not set (run the lane through spec/run.mjs)");

const front = join(root, "build/support/proxy-front.mjs");
await build({
  entryPoints: [join(root, "spec/support/proxy/front.ts")], outfile: front,
  bundle: true, format: "esm", platform: "node", target: "es2022", external: ["node:*"], logLevel: "warning",
});
const files = SPECS.map((s) => join(root, "build/spec", `${s}.spec.mjs`));
for (const f of files) if (!existsSync(f)) throw new Error(`${f} is missing (spec/run.mjs builds it)`);
const grep = process.env.SPEC_GREP ? ["--grep", process.env.SPEC_GREP] : [];

// Stopped from outside (Ctrl-C, CI timeout): stop mocha and the front (which stops its proxies), sweep, exit.
const running = { mocha: undefined, front: undefined, kind: undefined };
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, async () => {
    running.mocha?.kill("SIGTERM");
    running.front?.stop();
    await Promise.race([running.front?.exited, new Promise((res) => setTimeout(res, 10_000))]);
    if (running.kind) sweepOrphans(running.kind);
    process.exit(1);
  });
}

/** Runs mocha with `env`, passing its output through; resolves with its LANE_RESULT. */
function mocha(env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--expose-gc", ...mochaArgs(files, grep)], { cwd: root, env, stdio: ["ignore", "pipe", "inherit"] });
    running.mocha = child;
    let result;
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /^LANE_RESULT (.*)$/.exec(line);
      if (m) result = JSON.parse(m[1]);
      else console.log(line);
    });
    child.once("close", (code) => {
      result ??= { passed: 0, failed: 1, notApplicable: 0, failures: [`mocha ended (exit ${code}) without a result`] };
      if (code !== 0 && result.failed === 0) result.failed = 1, result.failures = [`mocha exited with ${code}`];
      resolve(result);
    });
  });
}

/** Process groups recorded by the front that still have a live process: killed, and returned. */
function sweepOrphans(kind) {
  const file = join(root, "build/proxy", kind, "pgids");
  const pgids = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number) : [];
  const orphans = [];
  for (const pgid of pgids) {
    try {
      process.kill(-pgid, 0);
    } catch {
      continue;
    }
    orphans.push(pgid);
    try {
      process.kill(-pgid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
  return { started: pgids.length, orphans };
}

const parts = {};
const total = { passed: 0, failed: 0, notApplicable: 0, failures: [] };
for (const kind of PROXIES) {
  console.log(`\n--- proxy: ${kind} ---`);
  const t0 = Date.now();
  let r;
  if (spawnSync(kind, ["-v"], { stdio: "ignore" }).error) {
    // Not presented as passing: one n/a per proxy, named, and CI installs both (.ci/run).
    const reason = `not applicable behind ${kind}: ${kind} is not installed (apt-get install ${kind === "nginx" ? "nginx-light" : "haproxy"})`;
    console.log(`  not applicable: proxy lane: ${reason}`);
    r = { passed: 0, failed: 0, notApplicable: 1, failures: [] };
  } else {
    running.kind = kind;
    const fr = (running.front = await startControl(front, [kind], { CRATEDB_FETCH_UPSTREAM_CONTROL: control, CRATEDB_FETCH_PROXY_DIR: join(root, "build/proxy") }));
    try {
      r = await mocha({
        ...process.env,
        CRATEDB_FETCH_CONTROL: fr.url,
        CRATEDB_FETCH_PROXY: kind,
        NODE_EXTRA_CA_CERTS: join(root, "build/proxy", kind, "ca.crt"),
      });
    } finally {
      fr.stop();
      await Promise.race([fr.exited, new Promise((res) => setTimeout(res, 10_000))]);
    }
    const { started, orphans } = sweepOrphans(kind);
    console.log(`  ${kind}: ${started} proxy process groups started, ${orphans.length} left after the run`);
    if (orphans.length) r.failed++, (r.failures ??= []).push(`${orphans.length} ${kind} process group(s) outlived the lane (killed): ${orphans.join(", ")}`);
  }
  r.seconds = Number(((Date.now() - t0) / 1000).toFixed(1));
  console.log(`proxy/${kind}: ${r.passed} passed, ${r.failed} failed, ${r.notApplicable} not applicable (${r.seconds} s)`);
  parts[kind] = { passed: r.passed, failed: r.failed, notApplicable: r.notApplicable, seconds: r.seconds };
  total.passed += r.passed;
  total.failed += r.failed;
  total.notApplicable += r.notApplicable;
  total.failures.push(...(r.failures ?? []).map((f) => `${kind}: ${f}`));
}
console.log(`LANE_RESULT ${JSON.stringify({ ...total, parts })}`);
exitFlushed(total.failed === 0 ? 0 : 1);
