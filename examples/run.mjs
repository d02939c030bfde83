// Runs one example: `node examples/run.mjs quickstart` bundles examples/quickstart.ts (importing the
// built package as `cratedb-fetch`) and runs it. `npm run build` (or `npm start`) builds dist/ first.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const name = process.argv[2] ?? "quickstart";
const outfile = join(root, "build/examples", `${name}.mjs`);
await build({
  entryPoints: [join(root, "examples", `${name}.ts`)], outfile, bundle: true, format: "esm", platform: "node",
  target: "es2022", external: ["cratedb-fetch", "node:*"], logLevel: "warning",
});
const { status } = spawnSync(process.execPath, ["--enable-source-maps", outfile], { stdio: "inherit" });
process.exit(status ?? 1);
