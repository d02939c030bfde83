/// <reference types="node" />
/** The `cratedb-fetch` command (dist/cli.js). */
import { main } from "./main.js";

process.exitCode = await main(process.argv.slice(2), process.env, {
  out: (s) => void process.stdout.write(`${s}\n`),
  err: (s) => void process.stderr.write(`${s}\n`),
});
