// workerd lane: the spec suite inside Cloudflare's workerd (npm `workerd`) against dist/workerd.js (the package's
// "workerd" export: the web entry plus cloudflare:sockets for sessions).
//
// esbuild bundles mocha's browser build, chai, every spec/*.spec.ts and the workerd-only specs
// (spec/runtimes/workerd/) into one ES module worker whose test() handler runs mocha; `workerd test`
// runs it with the config written to build/workerd/config.capnp. examples/worker.ts runs as a second
// worker in the same config, against a fake cluster this script starts (spec "example: worker").
// Raw workerd needs a network service that allows local addresses to reach the fake clusters on 127.0.0.1.
import { build } from "esbuild";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";
import { join, relative, resolve } from "node:path";
import { root, specFiles } from "./bundle.mjs";
import { exitFlushed } from "./exit.mjs";

const out = join(root, "build/workerd");
const control = (process.env.CRATEDB_FETCH_CONTROL ?? "").replace(/\/+$/, "");
if (!control) {
  console.log("workerd: CRATEDB_FETCH_CONTROL is not set (run the lane through spec/run.mjs)");
  console.log(`LANE_RESULT ${JSON.stringify({ passed: 0, failed: 1, notApplicable: 0 })}`);
  process.exit(1);
}

// `cratedb-fetch` is the built web entry (what the package's "workerd" export condition points at).
const distWeb = {
  name: "cratedb-fetch-dist-web",
  setup(b) {
    b.onResolve({ filter: /^cratedb-fetch$/ }, () => ({ path: join(root, "dist/workerd.js") }));
    b.onResolve({ filter: /^cratedb-fetch\/lite$/ }, () => ({ path: join(root, "dist/lite.js") }));
    b.onResolve({ filter: /^cratedb-fetch\/(kysely|drizzle)$/ }, (a) => ({ path: join(root, "dist", `${a.path.slice(14)}.js`) }));
  },
};
// `workerd-specs`: one import per spec file, in a stable order, the workerd-only specs last. The
// package says "sideEffects": false, so the bare imports of specs and of the mocha setup are marked
// as having side effects, or esbuild would drop them.
const specsModule = {
  name: "workerd-specs",
  setup(b) {
    b.onResolve({ filter: /^workerd-specs$/ }, () => ({ path: "workerd-specs", namespace: "workerd-specs" }));
    b.onResolve({ filter: /.*/, namespace: "workerd-specs" }, (a) => ({ path: a.path, sideEffects: true }));
    b.onResolve({ filter: /^\.\/setup\.mjs$/ }, (a) => ({ path: join(a.resolveDir, a.path), sideEffects: true }));
    b.onLoad({ filter: /.*/, namespace: "workerd-specs" }, () => ({
      contents: [...specFiles().sort(), join(root, "spec/runtimes/workerd/workerd.spec.mjs")]
        .map((f) => `import ${JSON.stringify(f)};`).join("\n"),
      resolveDir: root,
    }));
  },
};
const common = {
  bundle: true, format: "esm", platform: "browser", target: "es2022", conditions: ["workerd", "worker", "browser"],
  // node:* stays an import: only fake-server.spec.ts uses one (node:https), in tests that skip here.
  // workerd ignores source maps: this script maps the stack frames of failures itself (sourceMapped).
  external: ["node:*", "cloudflare:*"], sourcemap: "external", logLevel: "warning", plugins: [distWeb, specsModule],
};

async function controlCall(method, path, body) {
  const res = await fetch(control + path, {
    method, ...(body ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`control server ${method} ${path} → ${res.status}: ${text}`);
  return JSON.parse(text);
}

const capnpString = (s) => JSON.stringify(s); // capnp text strings use the same escapes as JSON
const embed = (file) => `embed ${capnpString(relative(out, file))}`;

function config({ bindings, exampleUrl }) {
  const text = (name, value) => `(name = ${capnpString(name)}, text = ${capnpString(value)})`;
  return `# Written by spec/runtimes/workerd.mjs for one lane run; do not edit.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "tests", worker = (
      modules = [ (name = "tests.mjs", esModule = ${embed(join(out, "tests.mjs"))}) ],
      compatibilityDate = "2025-09-01",
      bindings = [
        ${Object.entries(bindings).map(([k, v]) => text(k, v)).join(",\n        ")},
        (name = "EXAMPLE", service = "example"),
        (name = "TLS_NET", service = "tls-net"),
      ],
      globalOutbound = "net",
    )),
    (name = "example", worker = (
      modules = [ (name = "worker.mjs", esModule = ${embed(join(out, "example.mjs"))}) ],
      compatibilityDate = "2025-09-01",
      bindings = [ ${text("CRATEDB_URL", exampleUrl)} ],
      globalOutbound = "net",
    )),
    # Raw workerd lets workers reach public addresses only; the fake clusters listen on 127.0.0.1.
    # HTTPS trusts the public CAs only, as in production (without tlsOptions there is no TLS at all).
    (name = "net", network = ( allow = ["public", "private", "local"], tlsOptions = ( trustBrowserCas = true ) )),
    # The same, trusting the TLS cluster's test CA: the only way to give workerd's fetch a CA.
    (name = "tls-net", network = (
      allow = ["public", "private", "local"],
      tlsOptions = ( trustedCertificates = [ ${embed(join(out, "ca.pem"))} ] ),
    )),
  ],
);
`;
}

/** Rewrites `tests.mjs:LINE:COL` in a line to the source file and position the bundle came from. */
function sourceMapped(file) {
  let map;
  try {
    map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, "utf8")));
  } catch {
    return (line) => line;
  }
  return (line) => line.replace(/\btests\.mjs:(\d+):(\d+)/g, (whole, l, c) => {
    const e = map.findEntry(Number(l) - 1, Number(c) - 1);
    if (!e?.originalSource) return whole;
    return `${relative(root, resolve(out, e.originalSource))}:${e.originalLine + 1}:${e.originalColumn + 1}`;
  });
}

let child;
// workerd runs in its own process group, so that stopping it also stops any process it started
// (node_modules/.bin/workerd is a Node wrapper where its postinstall did not run).
const stopChild = () => {
  try {
    if (child?.pid) process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
};
/** Runs `workerd test`, echoing the per-test lines; resolves with the summary and the exit code. */
function runWorkerd(configPath) {
  const mapped = sourceMapped(join(out, "tests.mjs"));
  return new Promise((resolve) => {
    const proc = spawn(join(root, "node_modules/.bin/workerd"), ["test", configPath], { cwd: out, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child = proc;
    let summary;
    let stderr = "";
    const onLine = (line) => {
      const m = /WORKERD_SUMMARY (\{.*\})\s*$/.exec(line);
      if (m) summary = JSON.parse(m[1]);
      else if (line.trim() !== "") console.log(mapped(line));
    };
    let buf = "";
    proc.stdout.on("data", (d) => {
      buf += d;
      const lines = buf.split("\n");
      buf = lines.pop();
      lines.forEach(onLine);
    });
    proc.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      console.log("workerd: the run took longer than 120 s; stopping it");
      stopChild();
    }, 120_000);
    proc.once("close", (code, signal) => {
      clearTimeout(timer);
      if (buf) onLine(buf);
      child = undefined;
      resolve({ summary, code: code ?? (signal ? 128 : 1), stderr: mapped(stderr) });
    });
  });
}

const started = Date.now();
mkdirSync(out, { recursive: true });
await build({ ...common, entryPoints: [join(root, "spec/runtimes/workerd/entry.mjs")], outfile: join(out, "tests.mjs") });
await build({ ...common, entryPoints: [join(root, "examples/worker.ts")], outfile: join(out, "example.mjs") });

const EXAMPLE_CLUSTER_NAME = "worker-example";
const exampleCluster = await controlCall("POST", "/clusters", { clusterName: EXAMPLE_CLUSTER_NAME });
const tlsCluster = await controlCall("POST", "/clusters", { tls: true });
const stopClusters = () => Promise.all([exampleCluster, tlsCluster].map((c) =>
  controlCall("DELETE", `/clusters/${encodeURIComponent(c.id)}`).catch(() => {})));
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, async () => {
    stopChild();
    await stopClusters();
    process.exit(1);
  });
}
let result;
try {
  writeFileSync(join(out, "ca.pem"), tlsCluster.certs.ca);
  const configPath = join(out, "config.capnp");
  writeFileSync(configPath, config({
    exampleUrl: exampleCluster.urls[0],
    bindings: {
      CRATEDB_FETCH_CONTROL: control,
      SPEC_GREP: process.env.SPEC_GREP ?? "",
      EXAMPLE_CLUSTER_NAME,
      TLS_URL: tlsCluster.urls[0],
      TLS_CLUSTER_ID: tlsCluster.id,
    },
  }));
  result = await runWorkerd(configPath);
} finally {
  await stopClusters();
}

const { summary, code, stderr } = result;
const counts = summary
  ? {
    passed: summary.passed, failed: summary.failed, notApplicable: summary.notApplicable,
    failures: summary.tests.filter((t) => t.state === "failed").map((t) => `${t.title}: ${String(t.error ?? "").split("\n")[0].slice(0, 300)}`),
  }
  : { passed: 0, failed: 1, notApplicable: 0 };
if (summary) {
  const na = summary.tests.filter((t) => t.state === "notApplicable");
  if (na.length) console.log("");
  for (const t of na) console.log(`  not applicable: ${t.title}: ${t.reason}`);
  console.log(`\n  workerd: ${counts.passed} passing, ${counts.failed} failing, ${counts.notApplicable} not applicable (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
// workerd's stderr has the reasons its fetch errors hide ("internal error; reference = …"): show it on failure.
if (!summary || counts.failed > 0 || code !== 0) {
  if (!summary) console.log(`workerd: no summary from the test worker (exit ${code})`);
  // (without workerd's native stack lines, which are addresses in its binary)
  const text = stderr.split("\n").filter((l) => !/^stack: \S*workerd@/.test(l)).join("\n").trimEnd();
  if (text) console.log(`--- workerd stderr ---\n${text}\n--- end of workerd stderr ---`);
}
if (code !== 0 && counts.failed === 0) counts.failed = 1; // a crash after the summary still fails the lane
console.log(`LANE_RESULT ${JSON.stringify(counts)}`);
exitFlushed(counts.failed === 0 && code === 0 ? 0 : 1);
