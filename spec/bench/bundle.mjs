// The bundle-size scenario: what an app ships, bundled by esbuild (minified, browser platform, ESM, with
// code splitting) and gzipped, for cratedb-fetch's entries and for the peer clients (bench devDependencies).
// A row's size is what loads at start: the app's chunk and the chunks it imports statically (each gzipped
// on its own, as a browser fetches them). The chunks behind `import()` (features loaded on first use) are
// reported apart, as `lazy`.
// `pkgRoot` is a directory with node_modules/cratedb-fetch (the run's snapshot: package.json + dist/),
// so that `import "cratedb-fetch"` goes through the package's real `exports` map and `sideEffects`.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import zlib from "node:zlib";
import { build } from "esbuild";

const KB = 1024;

/**
 * Each row: an app of a few lines. `q` keeps the result reachable so that nothing is tree-shaken
 * that a real connect+query app would need; `max` is the target in bytes (gzip), if any.
 */
function apps(pkgRoot) {
  const pkg = JSON.parse(readFileSync(join(pkgRoot, "node_modules/cratedb-fetch/package.json"), "utf8"));
  const hasLite = existsSync(join(pkgRoot, "node_modules/cratedb-fetch/dist/lite.js"));
  // The lead adds the entry later: through `exports["./lite"]` when it is mapped, else by file path.
  const lite = pkg.exports?.["./lite"] !== undefined ? "cratedb-fetch/lite" : join(pkgRoot, "node_modules/cratedb-fetch/dist/lite.js");
  const ours = (name, code, max) => ({ name, code, max, resolveDir: pkgRoot, group: "cratedb-fetch" });
  return [
    hasLite
      ? ours("`cratedb-fetch/lite`: connect + query", `import { connect } from ${JSON.stringify(lite)}; globalThis.q = (u, s) => connect(u).query(s);`, 6 * KB)
      : { name: "`cratedb-fetch/lite`: connect + query", na: "n/a: no dist/lite.js", max: 6 * KB, group: "cratedb-fetch" },
    ours("`cratedb-fetch`: connect + query", 'import { connect } from "cratedb-fetch"; globalThis.q = (u, s) => connect(u).query(s);', 12 * KB),
    ours("`import { InterfaceError }` alone", 'import { InterfaceError } from "cratedb-fetch"; globalThis.e = InterfaceError;', 2 * KB),
    ours("`import { sql }` alone", 'import { sql } from "cratedb-fetch"; globalThis.s = sql;', 2 * KB),
    ours("`cratedb-fetch`: every export", 'import * as all from "cratedb-fetch"; globalThis.all = all;', undefined),
    ...[
      ["@planetscale/database", 'import { connect } from "@planetscale/database"; globalThis.q = (u, s) => connect({ url: u }).execute(s);'],
      ["@libsql/client/web", 'import { createClient } from "@libsql/client/web"; globalThis.q = (u, s) => createClient({ url: u }).execute(s);'],
      ["@neondatabase/serverless", 'import { neon } from "@neondatabase/serverless"; globalThis.q = (u, s) => neon(u).query(s);'],
      ["@clickhouse/client-web", 'import { createClient } from "@clickhouse/client-web"; globalThis.q = (u, s) => createClient({ url: u }).query({ query: s, format: "JSON" }).then((r) => r.json());'],
    ].map(([name, code]) => ({ name: `\`${name}\`: connect + query`, code, resolveDir: undefined, group: "peer", pkg: name })),
  ];
}

/** A peer's installed version (from its package.json), for the table. */
function versionOf(root, spec) {
  const name = spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/");
  try {
    return JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;
  } catch {
    return "?";
  }
}

/**
 * One app bundled with splitting (nothing written): the initial load (the app's chunk and its static
 * imports, transitively) and the lazily loaded chunks, each chunk compressed on its own.
 */
async function sizes(code, resolveDir) {
  const outdir = resolve(resolveDir, "bundle-size-out");
  const r = await build({ stdin: { contents: code, resolveDir, loader: "js" }, bundle: true, minify: true, splitting: true, outdir,
    chunkNames: "chunks/[name]-[hash]", format: "esm", platform: "browser", target: "es2022", write: false, metafile: true, logLevel: "silent" });
  const outputs = Object.fromEntries(Object.entries(r.metafile.outputs).map(([k, v]) => [resolve(k), v]));
  const contents = new Map(r.outputFiles.map((f) => [f.path, f.contents]));
  const initial = new Set();
  const visit = (path) => {
    if (initial.has(path)) return;
    initial.add(path);
    for (const i of outputs[path].imports) if (i.kind === "import-statement" && !i.external) visit(resolve(i.path));
  };
  // The app itself (stdin): the chunks behind import() are entry points in the metafile too.
  visit(Object.keys(outputs).find((k) => outputs[k].entryPoint === "<stdin>"));
  // Lazy: what the initial chunks can load with import(), and what that imports. (esbuild also emits a chunk
  // for every import() in code that tree shaking dropped: nothing can load those, so they are not counted.)
  const reachable = new Set(initial);
  const reach = (path) => {
    for (const i of outputs[path].imports) {
      const p = resolve(i.path);
      if (i.external || reachable.has(p)) continue;
      reachable.add(p);
      reach(p);
    }
  };
  for (const p of initial) reach(p);
  const lazy = [...reachable].filter((k) => !initial.has(k));
  const sum = (paths, f) => paths.reduce((n, p) => n + f(contents.get(p)), 0);
  const gzip = (b) => zlib.gzipSync(b).byteLength;
  return {
    raw: sum([...initial], (b) => b.byteLength), gzip: sum([...initial], gzip), brotli: sum([...initial], (b) => zlib.brotliCompressSync(b).byteLength),
    initialChunks: initial.size, lazyRaw: sum(lazy, (b) => b.byteLength), lazyGzip: sum(lazy, gzip), lazyChunks: lazy.length,
  };
}

/** Bundles every row; a row that cannot be built reports why instead of failing the bench. */
export async function bundleSizes(root, pkgRoot) {
  const rows = [];
  for (const app of apps(pkgRoot)) {
    const row = { name: app.name, group: app.group, max: app.max, version: app.pkg ? versionOf(root, app.pkg) : undefined };
    if (app.na) {
      rows.push({ ...row, na: app.na });
      continue;
    }
    try {
      rows.push({ ...row, ...(await sizes(app.code, app.resolveDir ?? root)) });
    } catch (err) {
      rows.push({ ...row, na: `failed: ${String(err.message).split("\n")[0].slice(0, 120)}` });
    }
  }
  // Which modules the bytes of the whole web entry come from (from the sources; informational).
  let byModule = [];
  try {
    const m = await build({ entryPoints: [join(root, "lib/entry/web.ts")], bundle: true, minify: true, format: "esm", platform: "browser",
      target: "es2022", write: false, metafile: true, logLevel: "silent" });
    const inputs = Object.values(m.metafile.outputs)[0].inputs;
    byModule = Object.entries(inputs).map(([k, v]) => [k.replace(/^.*lib\//, "lib/"), v.bytesInOutput]).sort((a, b) => b[1] - a[1]);
  } catch {}
  return { rows, byModule };
}
