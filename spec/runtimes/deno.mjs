// Deno lane: the spec suite in Deno (npm's `deno` package) against dist/deno.js, then examples/deno.ts.
import { join } from "node:path";
import { bundleSpecs, mochaArgs, root } from "./bundle.mjs";
import { laneWithExample } from "./example.mjs";
import { exitFlushed } from "./exit.mjs";

const deno = join(root, "node_modules/.bin/deno");
const files = await bundleSpecs({ entry: "deno", outdir: join(root, "build/deno") });
const grep = process.env.SPEC_GREP ? ["--grep", process.env.SPEC_GREP] : [];
const env = { ...process.env, DENO_DIR: join(root, ".deno"), DENO_NO_UPDATE_CHECK: "1" };
exitFlushed(await laneWithExample(deno, ["run", "-A", "--v8-flags=--expose-gc", ...mochaArgs(files, grep)], env,
  { name: "deno", entry: "deno", command: deno, args: ["run", "--allow-net", "--allow-env", "--allow-read"] }));
