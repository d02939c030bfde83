// Builds the spec files for one lane. `cratedb-fetch` resolves to that lane's built entry in dist/
// and stays an import of it, so every lane tests the built output, not the sources.
import { build } from "esbuild";
import { readdirSync } from "node:fs";
import { join } from "node:path";

export const root = new URL("../..", import.meta.url).pathname;
/** Specs that only the proxy lane runs (they need a real nginx/HAProxy in front of the fake). */
export const proxyLaneOnly = (file) => /(^|\/)proxy\.spec\.(ts|mjs)$/.test(file);
export const specFiles = () => readdirSync(join(root, "spec")).filter((f) => f.endsWith(".spec.ts") && !proxyLaneOnly(f)).map((f) => join(root, "spec", f));

/**
 * One `.spec.mjs` per spec file (default: spec/*.spec.ts) in `outdir`, importing `dist/<entry>.js`, chai and mocha
 * externally. `plugins` run before the lane's own (e.g. to resolve a peer library to another version).
 */
export async function bundleSpecs({ entry, outdir, platform = "neutral", entryPoints = specFiles(), plugins = [] }) {
  await build({
    entryPoints,
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    format: "esm",
    platform,
    target: "es2022",
    external: ["chai", "mocha", "node:*"],
    sourcemap: "inline",
    logLevel: "warning",
    plugins: [...plugins, {
      name: "cratedb-fetch-dist",
      setup(b) {
        b.onResolve({ filter: /^cratedb-fetch$/ }, () => ({ path: join(root, "dist", `${entry}.js`), external: true }));
        // The lane's lite entry (dist/lite-<entry>.js; dist/lite.js is the plain-fetch one), imported like the main entry.
        b.onResolve({ filter: /^cratedb-fetch\/lite$/ }, () => ({ path: join(root, "dist", ["node", "deno", "bun"].includes(entry) ? `lite-${entry}.js` : "lite.js"), external: true }));
        // Subpaths (kysely, drizzle) are bundled with their peer library; their "cratedb-fetch" import is the entry above.
        b.onResolve({ filter: /^cratedb-fetch\/(kysely|drizzle)$/ }, (a) => ({ path: join(root, "dist", `${a.path.slice(14)}.js`) }));
      },
    }],
  });
  return readdirSync(outdir).filter((f) => f.endsWith(".spec.mjs")).map((f) => join(outdir, f));
}

export const mochaArgs = (files, extra = []) => [join(root, "node_modules/mocha/bin/mocha.js"), "--reporter",
  join(root, "spec/support/lane-reporter.cjs"), "--timeout", "20000", ...extra, ...files];
