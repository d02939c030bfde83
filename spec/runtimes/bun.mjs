// Bun lane: the spec suite in Bun (`bun --bun`, so mocha runs in Bun, not Node) against dist/bun.js.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { bundleSpecs, mochaArgs, root } from "./bundle.mjs";

const files = await bundleSpecs({ entry: "bun", outdir: join(root, "build/bun") });
const grep = process.env.SPEC_GREP ? ["--grep", process.env.SPEC_GREP] : [];
const { status } = spawnSync(join(root, "node_modules/.bin/bun"), ["--bun", ...mochaArgs(files, grep)], { stdio: "inherit" });
process.exit(status ?? 1);
