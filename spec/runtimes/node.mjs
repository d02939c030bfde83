// Node lane: the spec suite under mocha, importing `cratedb-fetch` through the package's exports
// (the `node` condition → dist/node.js), then examples/node.ts and the task examples.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { mochaArgs, proxyLaneOnly, root } from "./bundle.mjs";
import { laneWithExample } from "./example.mjs";
import { exitFlushed } from "./exit.mjs";

const dir = join(root, "build/spec");
const files = readdirSync(dir).filter((f) => f.endsWith(".spec.mjs") && !proxyLaneOnly(f)).map((f) => join(dir, f));
const grep = process.env.SPEC_GREP ? ["--grep", process.env.SPEC_GREP] : [];
exitFlushed(await laneWithExample(process.execPath, ["--expose-gc", ...mochaArgs(files, grep)], process.env,
  { name: "node", entry: "node", command: process.execPath },
  ...["failover", "tls", "bulk-import", "blobs", "stream", "otel"].map((name) => ({ name, entry: "node", command: process.execPath, local: true }))));
