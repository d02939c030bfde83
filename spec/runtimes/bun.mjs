// Bun lane: the spec suite in Bun (`bun --bun`, so mocha runs in Bun, not Node) against dist/bun.js,
// then examples/bun.ts.
import { join } from "node:path";
import { bundleSpecs, mochaArgs, root } from "./bundle.mjs";
import { laneWithExample } from "./example.mjs";
import { exitFlushed } from "./exit.mjs";

const bun = join(root, "node_modules/.bin/bun");
const files = await bundleSpecs({ entry: "bun", outdir: join(root, "build/bun") });
const grep = process.env.SPEC_GREP ? ["--grep", process.env.SPEC_GREP] : [];
exitFlushed(await laneWithExample(bun, ["--bun", ...mochaArgs(files, grep)], process.env,
  { name: "bun", entry: "bun", command: bun }));
