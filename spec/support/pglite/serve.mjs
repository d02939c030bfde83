// `npm run server`: bundles cli.ts (the embedded CrateDB-protocol test server's command line) with esbuild and runs
// it in this same process, so Ctrl-C and SIGTERM reach it directly. PGlite stays external: it loads its .wasm and
// .data files from its own package folder.
import { build } from "esbuild";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = new URL("../../..", import.meta.url).pathname;
const outfile = join(root, "build/server/pglite-cli.mjs");
await build({
  entryPoints: [join(root, "spec/support/pglite/cli.ts")], outfile, bundle: true, format: "esm", platform: "node",
  target: "es2022", external: ["node:*", "@electric-sql/pglite"], logLevel: "warning",
});
await import(pathToFileURL(outfile).href);
