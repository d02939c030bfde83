// Chromium lane: the spec suite in headless Debian Chromium (driven by playwright-core) against
// dist/web.js, plus the browser example (examples/browser) against a fake cluster with CORS, and the
// dashboard example (examples/dashboard, as `npm run dashboard` starts it: page, PGlite-backed test server
// with CORS, writer) with a screenshot in build/chromium/dashboard.png.
//
// - esbuild bundles every spec/*.spec.ts into one browser ESM file (chai inlined, `cratedb-fetch`
//   resolved to dist/web.js); mocha is not bundled, the page loads its browser build.
// - A static node:http server on 127.0.0.1:0 serves the page: another origin than the fake nodes
//   and the control server, so every request the specs make is cross-origin, as with a real app.
// - The page streams one console line per mocha event; this process prints them as they come,
//   then a summary and the LANE_RESULT line that spec/run.mjs reads.
// Browser console output (CORS errors, failed loads) is printed under a failing test only, or
// always with CHROMIUM_LANE_VERBOSE=1. Everything written at run time stays under build/chromium/.
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { X509Certificate, createHash } from "node:crypto";
import { createServer } from "node:http";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { root, specFiles } from "./bundle.mjs";
import { exitFlushed } from "./exit.mjs";

const CHROMIUM = "/usr/bin/chromium";
const EXAMPLE = "example: browser page";
const DASHBOARD = "example: dashboard";
const out = join(root, "build/chromium");
const here = join(root, "spec/runtimes/chromium");
const control = process.env.CRATEDB_FETCH_CONTROL;
const grep = process.env.SPEC_GREP || undefined;
const verbose = process.env.CHROMIUM_LANE_VERBOSE === "1";
const laneResult = (r) => console.log(`LANE_RESULT ${JSON.stringify(r)}`);

if (!existsSync(CHROMIUM)) {
  console.log(`chromium lane: ${CHROMIUM} not found — install Debian's chromium (apt-get install chromium); CI installs it`);
  laneResult({ passed: 0, failed: 1, notApplicable: 0 });
  process.exit(1);
}
if (!control) {
  console.log("chromium lane: CRATEDB_FETCH_CONTROL is not set (run it through `node spec/run.mjs --lanes chromium`)");
  laneResult({ passed: 0, failed: 1, notApplicable: 0 });
  process.exit(1);
}

// ---- bundles -------------------------------------------------------------------------------
const webDist = {
  name: "cratedb-fetch-web-dist",
  setup(b) {
    b.onResolve({ filter: /^cratedb-fetch$/ }, () => ({ path: join(root, "dist/web.js") }));
    b.onResolve({ filter: /^cratedb-fetch\/lite$/ }, () => ({ path: join(root, "dist/lite.js") }));
    b.onResolve({ filter: /^cratedb-fetch\/(kysely|drizzle)$/ }, (a) => ({ path: join(root, "dist", `${a.path.slice(14)}.js`) }));
  },
};
const common = { bundle: true, format: "esm", platform: "browser", target: "es2022", logLevel: "warning", plugins: [webDist] };

async function bundle() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const entry = [...specFiles().sort(), join(here, "chromium.spec.ts")].map((f) => `import ${JSON.stringify(f)};`).join("\n");
  await Promise.all([
    // ignoreAnnotations: package.json says "sideEffects": false, which would drop the spec imports.
    // node:* stays external: only specs marked not applicable in browsers import it (dynamically).
    build({ ...common, stdin: { contents: entry, resolveDir: join(root, "spec"), sourcefile: "chromium-specs.js" },
      outfile: join(out, "specs.js"), ignoreAnnotations: true, external: ["node:*"] }),
    build({ ...common, entryPoints: [join(root, "examples/browser/app.ts")], outfile: join(out, "example/app.js") }),
    // The dashboard's server side (it bundles its own page): runs in this Node process.
    build({ entryPoints: [join(root, "examples/dashboard/serve.ts")], outfile: join(out, "dashboard/serve.mjs"), bundle: true,
      format: "esm", platform: "node", target: "es2022", logLevel: "warning",
      external: ["node:*", "esbuild", "@electric-sql/pglite", "cratedb-fetch"] }),
  ]);
}

// ---- static origin for the page ---------------------------------------------------------------
function serve(tls) {
  const config = `globalThis.CRATEDB_FETCH_CONTROL = ${JSON.stringify(control)};\nglobalThis.SPEC_GREP = ${JSON.stringify(grep ?? "")};\n` +
    `globalThis.CHROMIUM_LANE_TLS = ${JSON.stringify(tls.forPage)};\n`;
  const routes = {
    "/": () => ["text/html", readFileSync(join(here, "index.html"))],
    "/index.html": () => ["text/html", readFileSync(join(here, "index.html"))],
    "/config.js": () => ["text/javascript", config],
    "/runner.js": () => ["text/javascript", readFileSync(join(here, "runner.js"))],
    "/mocha.js": () => ["text/javascript", readFileSync(join(root, "node_modules/mocha/mocha.js"))],
    "/specs.js": () => ["text/javascript", readFileSync(join(out, "specs.js"))],
    "/example/": () => ["text/html", readFileSync(join(root, "examples/browser/index.html"))],
    "/example/index.html": () => ["text/html", readFileSync(join(root, "examples/browser/index.html"))],
    "/example/app.js": () => ["text/javascript", readFileSync(join(out, "example/app.js"))],
  };
  const server = createServer((req, res) => {
    const route = routes[new URL(req.url ?? "/", "http://x").pathname];
    if (!route) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const [type, body] = route();
    res.writeHead(200, { "content-type": `${type}; charset=utf-8`, "cache-control": "no-store" }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      server.unref();
      const { port } = server.address();
      resolve({
        origin: `http://127.0.0.1:${port}`,
        close: () => new Promise((r) => {
          server.close(() => r());
          server.closeAllConnections();
        }),
      });
    });
  });
}

// ---- TLS: what the browser trusts ------------------------------------------------------------------
/** base64 SHA-256 of a certificate's SubjectPublicKeyInfo: the form --ignore-certificate-errors-spki-list takes. */
const spkiHash = (der) =>
  createHash("sha256").update(new X509Certificate(der).publicKey.export({ type: "spki", format: "der" })).digest("base64");

/** The DER certificate an https:// server presents (read without verifying it). */
function peerCertificate(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.destroy();
      resolve(cert.raw);
    });
    socket.once("error", reject);
  });
}

/**
 * Two TLS fake clusters with CORS open to the page, both signed by the test CA: Chromium will trust the key of
 * the first (serverIdentity "second"), not that of the other (the fake's default identity, which every other
 * TLS spec uses, so those keep seeing an untrusted certificate in the browser).
 */
async function startTls() {
  const cors = { allowOrigin: "*", allowHeaders: "X-Requested-With, Content-Type, Content-Length, Authorization, Default-Schema" };
  const trusted = await controlCall("POST", "/clusters", { nodes: 1, tls: true, serverIdentity: "second", cors });
  const untrusted = await controlCall("POST", "/clusters", { nodes: 1, tls: true, cors });
  return {
    spki: spkiHash(await peerCertificate(trusted.urls[0])),
    forPage: { trustedUrl: trusted.urls[0], trustedClusterId: trusted.id, untrustedUrl: untrusted.urls[0], untrustedClusterId: untrusted.id },
    close: async () => {
      for (const c of [trusted, untrusted]) await controlCall("DELETE", `/clusters/${encodeURIComponent(c.id)}`).catch(() => {});
    },
  };
}

// ---- output in the spirit of mocha's spec reporter -----------------------------------------------
const pad = (depth) => "  ".repeat(depth + 1);
const indent = (text, by) => text.split("\n").map((l) => by + l).join("\n");
let browserLog = []; // browser console lines since the last test ended

function onConsole(msg) {
  const text = msg.text();
  if (!text.startsWith("__LANE__")) {
    const line = `[browser ${msg.type()}] ${text}`;
    if (verbose) console.log(`${"".padEnd(6)}${line}`);
    else browserLog.push(line);
    return;
  }
  const e = JSON.parse(text.slice("__LANE__".length));
  if (e.type === "suite") console.log(`${e.depth === 0 ? "\n" : ""}${pad(e.depth)}${e.title}`);
  else if (e.type === "pass") console.log(`${pad(e.depth)}✔ ${e.title}${e.ms > e.slow / 2 ? ` (${e.ms}ms)` : ""}`);
  else if (e.type === "pending") console.log(`${pad(e.depth)}- ${e.title}`);
  else if (e.type === "fail") {
    console.log(`${pad(e.depth)}${e.n ?? "!"}) ${e.title}`);
    if (!verbose && browserLog.length) console.log(indent(browserLog.slice(-20).join("\n"), `${pad(e.depth)}   `));
  }
  if (e.type !== "suite") browserLog = [];
}

// ---- the run -------------------------------------------------------------------------------------
async function controlCall(method, path, body) {
  const res = await fetch(control.replace(/\/+$/, "") + path, {
    method, ...(body ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`control server ${method} ${path} → ${res.status}: ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** Loads examples/browser against a one-node fake cluster that allows the page's origin; undefined when it passed. */
async function runExample(context, origin) {
  const log = [];
  let cluster;
  let page;
  try {
    cluster = await controlCall("POST", "/clusters", {
      nodes: 1,
      clusterName: "example-cluster",
      cors: { allowOrigin: origin, allowHeaders: "X-Requested-With, Content-Type, Content-Length, Authorization, Default-Schema" },
    });
    page = await context.newPage();
    page.on("console", (m) => log.push(`[browser ${m.type()}] ${m.text()}`));
    page.on("pageerror", (e) => log.push(`[page error] ${e.message}`));
    await page.goto(`${origin}/example/index.html?url=${encodeURIComponent(cluster.urls[0])}`);
    const result = page.locator("#result[data-state]");
    await result.waitFor({ timeout: 10_000 });
    const [state, text] = [await result.getAttribute("data-state"), (await result.textContent())?.trim()];
    if (state !== "done" || text !== "example-cluster") {
      throw new Error(`expected #result to show "example-cluster" (data-state done), got data-state ${state}: "${text}"`);
    }
    const posts = (await controlCall("GET", `/clusters/${encodeURIComponent(cluster.id)}/requests`)).filter((r) => r.method === "POST");
    if (posts.length !== 1 || !posts[0].body.includes("FROM sys.cluster")) {
      throw new Error(`expected one POST with the query, saw ${JSON.stringify(posts.map((r) => r.body))}`);
    }
    return undefined;
  } catch (err) {
    return { message: err instanceof Error ? err.message : String(err), log };
  } finally {
    await page?.close().catch(() => {});
    if (cluster) await controlCall("DELETE", `/clusters/${encodeURIComponent(cluster.id)}`).catch(() => {});
  }
}

/**
 * Starts the dashboard as `npm run dashboard` does (page server, PGlite-backed test server with CORS, writer), waits
 * until the page has refreshed twice, checks the tables and the chart, and saves build/chromium/dashboard.png.
 */
async function runDashboard(context) {
  const log = [];
  let dashboard;
  let page;
  try {
    const { startDashboard } = await import(pathToFileURL(join(out, "dashboard/serve.mjs")).href);
    dashboard = await startDashboard({ port: 0, log: (line) => log.push(`[dashboard] ${line}`) });
    page = await context.newPage();
    await page.setViewportSize({ width: 1040, height: 760 });
    page.on("console", (m) => log.push(`[browser ${m.type()}] ${m.text()}`));
    page.on("pageerror", (e) => log.push(`[page error] ${e.message}`));
    await page.goto(dashboard.url);
    await page.waitForFunction(() => {
      const s = document.querySelector("#status");
      return s?.dataset.state === "error" || Number(s?.dataset.refreshes ?? 0) >= 3;
    }, undefined, { timeout: 30_000, polling: 100 });
    const seen = await page.evaluate(() => ({
      state: document.querySelector("#status")?.dataset.state,
      status: document.querySelector("#status")?.textContent,
      summary: [...document.querySelectorAll("#summary tbody tr")].map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)),
      recent: document.querySelectorAll("#recent tbody tr").length,
      lines: [...document.querySelectorAll("#chart polyline")].map((p) => ({
        sensor: p.getAttribute("data-sensor"), points: (p.getAttribute("points") ?? "").split(" ").filter(Boolean).length,
      })),
      dots: document.querySelectorAll("#chart circle").length,
    }));
    await page.screenshot({ path: join(out, "dashboard.png"), fullPage: true });
    const problems = [];
    if (seen.state !== "live") problems.push(`status is ${seen.state}: ${seen.status}`);
    if (seen.summary.length !== 3 || seen.summary.some((r) => r[0] === "" || !(Number(r[1]) >= 30))) {
      problems.push(`expected 3 summary rows with ≥ 30 readings each, got ${JSON.stringify(seen.summary)}`);
    }
    if (seen.recent < 3) problems.push(`expected ≥ 3 latest readings, got ${seen.recent}`);
    if (seen.lines.length !== 3 || seen.lines.some((l) => l.points < 30)) problems.push(`expected 3 chart lines of ≥ 30 points, got ${JSON.stringify(seen.lines)}`);
    if (seen.dots !== 3) problems.push(`expected 3 chart end points, got ${seen.dots}`);
    if (problems.length) throw new Error(problems.join("; "));
    return undefined;
  } catch (err) {
    return { message: err instanceof Error ? err.message : String(err), log };
  } finally {
    await page?.close().catch(() => {});
    await dashboard?.close().catch(() => {});
  }
}

const started = Date.now();
let server;
let context;
let tls;
let cleaning;
/** Closes Chromium (all its processes) and the static server, and removes the profile; once. */
const cleanup = () => (cleaning ??= (async () => {
  await context?.close().catch(() => {});
  await server?.close();
  await tls?.close().catch(() => {});
  for (const dir of ["profile", "tmp"]) rmSync(join(out, dir), { recursive: true, force: true });
})());
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.once(sig, () => {
    console.log(`chromium lane: ${sig}, closing Chromium`);
    cleanup().finally(() => process.exit(1));
  });
}

let results;
try {
  await bundle();
  tls = await startTls();
  server = await serve(tls);
  // Playwright's artifacts and Chromium's temporary files go under build/chromium/tmp, not /tmp.
  mkdirSync(join(out, "tmp"), { recursive: true });
  process.env.TMPDIR = join(out, "tmp");
  const { chromium } = await import("playwright-core");
  context = await chromium.launchPersistentContext(join(out, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
      // What a trust store does for a real user: trust the TLS cluster's server key, and nothing else extra.
      `--ignore-certificate-errors-spki-list=${tls.spki}`],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", onConsole);
  page.on("pageerror", (e) => console.log(`      [page error] ${e.stack ?? e.message}`));
  await page.goto(`${server.origin}/index.html`);
  await page.waitForFunction(() => window.__laneResults, undefined, { timeout: 240_000, polling: 100 });
  results = await page.evaluate(() => window.__laneResults);
  await page.close();

  if (!grep || new RegExp(grep).test(EXAMPLE)) {
    const failure = await runExample(context, server.origin);
    if (failure) {
      results.failed.push({ fullTitle: EXAMPLE, error: { message: failure.message, stack: `${failure.message}\n${failure.log.join("\n")}` } });
      console.log(`\n  ${results.failed.length}) ${EXAMPLE}`);
    } else {
      results.passed.push({ fullTitle: EXAMPLE });
      console.log(`\n  ✔ ${EXAMPLE}`);
    }
  }
  if (!grep || new RegExp(grep).test(DASHBOARD)) {
    const t0 = Date.now();
    const failure = await runDashboard(context);
    if (failure) {
      results.failed.push({ fullTitle: DASHBOARD, error: { message: failure.message, stack: `${failure.message}\n${failure.log.join("\n")}` } });
      console.log(`  ${results.failed.length}) ${DASHBOARD}`);
    } else {
      results.passed.push({ fullTitle: DASHBOARD });
      console.log(`  ✔ ${DASHBOARD} (${Date.now() - t0}ms; screenshot build/chromium/dashboard.png)`);
    }
  }
} catch (err) {
  results ??= { passed: [], failed: [], pending: [] };
  results.failed.push({ fullTitle: "chromium lane", error: { message: err.message, stack: err.stack ?? String(err) } });
} finally {
  await cleanup();
}

const { passed, failed, pending } = results;
console.log(`\n  ${passed.length} passing (${((Date.now() - started) / 1000).toFixed(1)} s)`);
if (failed.length) console.log(`  ${failed.length} failing`);
if (pending.length) console.log(`  ${pending.length} not applicable`);
failed.forEach((f, i) => {
  console.log(`\n  ${i + 1}) ${f.fullTitle}:\n${indent(f.error.stack || f.error.message, "     ")}`);
});
if (pending.length) console.log("");
for (const p of pending) console.log(`  not applicable: ${p.fullTitle}: ${p.reason ?? "skipped without a reason"}`);
laneResult({
  passed: passed.length, failed: failed.length, notApplicable: pending.length,
  failures: failed.map((f) => `${f.fullTitle}: ${String(f.error.message).split("\n")[0].slice(0, 300)}`),
});
exitFlushed(failed.length ? 1 : 0);
