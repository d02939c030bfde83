// Deno lane: the spec suite in Deno (npm's `deno` package) against dist/deno.js.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { bundleSpecs, mochaArgs, root } from "./bundle.mjs";

const files = await bundleSpecs({ entry: "deno", outdir: join(root, "build/deno") });
const grep = process.env.SPEC_GREP ? ["--grep", process.env.SPEC_GREP] : [];
const { status } = spawnSync(join(root, "node_modules/.bin/deno"), ["run", "-A", ...mochaArgs(files, grep)], {
  stdio: "inherit", env: { ...process.env, DENO_DIR: join(root, ".deno"), DENO_NO_UPDATE_CHECK: "1" },
});
process.exit(status ?? 1);
