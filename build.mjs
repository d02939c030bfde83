// Builds dist/: esbuild (ESM + CJS per entry), tsc declarations, then checks the result.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const root = new URL(".", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

// The core may use web standards only: no node: imports, process or Buffer outside runtime/ and entry/.
function checkCoreIsPortable() {
  const bad = [];
  for (const file of readdirSync(join(root, "lib"))) {
    const path = join(root, "lib", file);
    if (!file.endsWith(".ts") || statSync(path).isDirectory()) continue;
    const code = readFileSync(path, "utf8").replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "");
    for (const [re, what] of [[/from\s+["']node:/, "a node: import"], [/\bprocess\./, "process"], [/\bBuffer\b/, "Buffer"]]) {
      if (re.test(code)) bad.push(`lib/${file} uses ${what}`);
    }
  }
  if (bad.length) throw new Error(`core must use web standards only:\n  ${bad.join("\n  ")}`);
}

// The thin core (ARCHITECTURE.md): what `cratedb-fetch/lite` is made of. It imports no feature (cursor,
// sessions, streams, blobs, cancellation, discovery, tracing, sql, …): features are layers that the full
// Connection composes. Not even a type-only import: what the core names (e.g. QueryEvent for onQuery) lives in it.
export const CORE = ["options", "resolve", "servers", "pool", "request", "deadline", "headers", "statements", "json", "json-exact",
  "result", "errors", "transport", "types", "inspect"];
/** Files that may import only the core (and each other): the lite tier. */
const LITE = ["lite", "entry/lite", "entry/lite-surface", "resolve-tls"];

/** The imports (`import … from`, `export … from`, `import()`) of a lib/ file, as lib-relative names without `.js`. */
export function localImports(file) {
  const code = readFileSync(join(root, "lib", `${file}.ts`), "utf8").replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, "");
  const out = [];
  const re = /(?:^|;|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of code.matchAll(re)) {
    const spec = m[1] ?? m[2];
    if (!spec.startsWith(".")) continue;
    out.push(join(file, "..", spec).replace(/\.js$/, ""));
  }
  return out;
}

/** Fails when a core file (or the lite tier) imports anything, even a type, from a feature file. */
export function checkCoreImportsNoFeature() {
  const bad = [];
  for (const file of [...CORE, ...LITE]) {
    const allowed = new Set(LITE.includes(file) ? [...CORE, ...LITE] : CORE);
    for (const target of localImports(file)) if (!allowed.has(target)) bad.push(`lib/${file}.ts imports lib/${target}.ts`);
  }
  if (bad.length) throw new Error(`the core (and cratedb-fetch/lite) must import no feature:\n  ${bad.join("\n  ")}`);
}

/**
 * What an app loads at start, checked on every build (the bench's bundle-size scenario shows the same apps
 * and the peers). The layers behind `import()` take what they use of the core from lib/kit.ts instead of
 * importing it: a splitting bundler (esbuild) shares whole files between the initial load and lazy chunks,
 * so one such import would move a core file into a chunk of its own that every app loads at start (even an
 * app that imports only an error class). Fails when a connect+query app's initial load is more than one
 * file, or when an app's initial load outgrows its budget (gzip, bytes): a regression guard a little above
 * what this build measures, not issue 19's targets (docs/performance.md says why those are not met).
 */
export async function checkInitialLoads() {
  const apps = [
    { name: "lite connect+query", code: 'import { connect } from "./lib/entry/lite.ts"; globalThis.q = (u, s) => connect(u).query(s);', budget: 13_300 },
    { name: "connect+query", code: 'import { connect } from "./lib/entry/web.ts"; globalThis.q = (u, s) => connect(u).query(s);', budget: 19_900, oneFile: true },
    { name: "import { InterfaceError }", code: 'import { InterfaceError } from "./lib/entry/web.ts"; globalThis.e = InterfaceError;', budget: 2_048 },
    { name: "import { sql }", code: 'import { sql } from "./lib/entry/web.ts"; globalThis.s = sql;', budget: 2_048 },
  ];
  const problems = [];
  for (const app of apps) {
    const r = await build({
      stdin: { contents: app.code, resolveDir: root, loader: "ts" },
      bundle: true, splitting: true, minify: true, outdir: join(root, "build/layer-check"), format: "esm", platform: "browser",
      target: "es2022", write: false, metafile: true, logLevel: "silent",
    });
    const outputs = r.metafile.outputs;
    // The app itself: the chunks behind import() are entry points in the metafile too.
    const appKey = Object.keys(outputs).find((k) => outputs[k].entryPoint === "<stdin>");
    const initial = new Set();
    const visit = (key) => {
      if (initial.has(key)) return;
      initial.add(key);
      for (const i of outputs[key].imports) if (i.kind === "import-statement" && !i.external) visit(i.path);
    };
    visit(appKey);
    if (app.oneFile && initial.size > 1) {
      const modules = [...initial].filter((k) => k !== appKey).flatMap((k) => Object.keys(outputs[k].inputs));
      problems.push(`a lazily loaded layer imports from the core (hand it over through lib/kit.ts): shared at start: ${modules.join(", ")}`);
    }
    let gz = 0;
    for (const f of r.outputFiles) if ([...initial].some((k) => f.path.endsWith(k.replace(/^build\/layer-check/, "")))) gz += gzipSync(f.contents).byteLength;
    if (gz > app.budget) problems.push(`${app.name}: ${gz} B gzip at start, over its budget of ${app.budget} B`);
  }
  if (problems.length) throw new Error(`initial loads:\n  ${problems.join("\n  ")}`);
}

const entries = [
  { name: "node", formats: ["esm", "cjs"], platform: "node" },
  { name: "deno", formats: ["esm"], platform: "neutral" },
  { name: "bun", formats: ["esm"], platform: "neutral" },
  { name: "web", formats: ["esm", "cjs"], platform: "neutral" },
  { name: "workerd", formats: ["esm"], platform: "neutral" },
  // `cratedb-fetch/lite`: the thin core with a runtime's transport (dist/lite.js: plain fetch, for
  // browsers, Workers and any fetch runtime).
  { name: "lite-node", formats: ["esm", "cjs"], platform: "node" },
  { name: "lite-deno", formats: ["esm"], platform: "neutral" },
  { name: "lite-bun", formats: ["esm"], platform: "neutral" },
  { name: "lite", formats: ["esm", "cjs"], platform: "neutral" },
];

// Subpaths for peer libraries (`cratedb-fetch/kysely`, …): only lib/<name>*.ts is bundled; the core is
// imported from "cratedb-fetch" at run time, so error classes are the ones the app's entry exports.
const subpaths = ["kysely", "drizzle"];
const peers = ["kysely", "drizzle-orm", "drizzle-orm/*"];
const coreAsPackage = (name) => ({
  name: "core-as-package",
  setup(b) {
    b.onResolve({ filter: /^\.\/[^/]+\.js$/ }, (args) => {
      if (!args.importer.startsWith(join(root, "lib/")) || args.path.startsWith(`./${name}`)) return undefined;
      if (args.path !== "./errors.js") throw new Error(`lib/${name}: import core values from ./errors.js only (got ${args.path})`);
      return { path: "cratedb-fetch", external: true };
    });
  },
});

function collectExportPaths(node, out = []) {
  if (typeof node === "string") out.push(node);
  else if (node && typeof node === "object") for (const v of Object.values(node)) collectExportPaths(v, out);
  return out;
}

// CJS consumers need declarations TypeScript reads as CommonJS: a .d.cts twin of every .d.ts.
function writeCjsDeclarations(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) writeCjsDeclarations(path);
    else if (name.endsWith(".d.ts")) {
      const text = readFileSync(path, "utf8").replace(/(from\s+["'][^"']+)\.js(["'])/g, "$1.cjs$2");
      writeFileSync(path.replace(/\.d\.ts$/, ".d.cts"), text);
    }
  }
}

// lib/runtime/node-builtin.ts reaches `createRequire` through a top-level await (ESM only); a CJS
// build has `require` itself.
const cjsBuiltin = {
  name: "cjs-builtin",
  setup(b) {
    b.onLoad({ filter: /[\\/]runtime[\\/]node-builtin\.ts$/ }, () => ({
      contents: "export const builtin = (id) => require(id);", loader: "js",
    }));
  },
};

export async function buildLibrary({ types = true } = {}) {
  checkCoreIsPortable();
  checkCoreImportsNoFeature();
  await checkInitialLoads();
  rmSync(join(root, "dist"), { recursive: true, force: true });
  // ESM: one splitting build per platform group, so that the entries of a group share chunks and every
  // `import()` of a feature layer (cursor internals, streams, blobs, cancellation, discovery, tracing)
  // is a chunk of its own that is loaded on first use. CJS: one file per entry (import() inlined).
  const esm = [...new Set(entries.map((e) => e.platform))]
    .map((platform) => [platform, entries.filter((e) => e.platform === platform && e.formats.includes("esm"))]);
  const cjs = entries.filter((e) => e.formats.includes("cjs"));
  await Promise.all([...esm.map(([platform, group]) => build({
    entryPoints: Object.fromEntries(group.map((e) => [e.name, join(root, "lib/entry", `${e.name}.ts`)])),
    outdir: join(root, "dist"),
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    bundle: true,
    format: "esm",
    platform,
    target: "es2022",
    external: ["node:*", "cloudflare:*"],
    sourcemap: true,
    legalComments: "none",
    logLevel: "warning",
  })), ...cjs.map((e) => build({
    entryPoints: [join(root, "lib/entry", `${e.name}.ts`)],
    outfile: join(root, "dist", `${e.name}.cjs`),
    bundle: true,
    format: "cjs",
    platform: e.platform,
    target: "es2022",
    external: ["node:*", "cloudflare:*"],
    sourcemap: true,
    legalComments: "none",
    logLevel: "warning",
    plugins: [cjsBuiltin],
  })), ...subpaths.flatMap((name) => ["esm", "cjs"].map((format) => build({
    entryPoints: [join(root, "lib", `${name}.ts`)],
    outfile: join(root, "dist", `${name}.${format === "cjs" ? "cjs" : "js"}`),
    bundle: true, format, platform: "neutral", target: "es2022", external: peers, plugins: [coreAsPackage(name)],
    sourcemap: true, legalComments: "none", logLevel: "warning",
  }))), build({
    // The CLI: Node only, self-contained, never part of the runtime entries.
    entryPoints: [join(root, "lib/cli/bin.ts")], outfile: join(root, "dist/cli.js"), bundle: true, format: "esm", platform: "node",
    target: "es2022", external: ["node:*"], banner: { js: "#!/usr/bin/env node" }, legalComments: "none", logLevel: "warning",
  })]);
  chmodSync(join(root, "dist/cli.js"), 0o755);
  if (!types) return;
  execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", join(root, "tsconfig.json"), "--emitDeclarationOnly"], { stdio: "inherit" });
  writeCjsDeclarations(join(root, "dist/types"));
  const missing = [...collectExportPaths(pkg.exports), pkg.main, pkg.module, pkg.types]
    .filter((p) => p && !existsSync(join(root, p)));
  if (missing.length) throw new Error(`package.json points at missing files: ${missing.join(", ")}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  await buildLibrary({ types: !process.argv.includes("--no-types") });
  console.log(`built dist/ in ${Date.now() - started} ms`);
}
