// Runs one example: `node examples/run.mjs quickstart` bundles examples/quickstart.ts (importing the
// built package as `cratedb-fetch`) and runs it; `node examples/run.mjs dashboard/serve` runs
// examples/dashboard/serve.ts. `npm run build` (or `npm start`) builds dist/ first. esbuild and PGlite stay
// external: esbuild is native, and PGlite loads its .wasm/.data files from its own package folder.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const name = process.argv[2] ?? "quickstart";
const outfile = join(root, "build/examples", `${name}.mjs`);
await build({
  entryPoints: [join(root, "examples", `${name}.ts`)], outfile, bundle: true, format: "esm", platform: "node",
  target: "es2022", external: ["cratedb-fetch", "node:*", "esbuild", "@electric-sql/pglite"], logLevel: "warning",
});
const { status } = spawnSync(process.execPath, ["--enable-source-maps", outfile], { stdio: "inherit" });
process.exit(status ?? 1);
