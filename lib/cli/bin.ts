/// <reference types="node" />
/** The `cratedb-fetch` command (dist/cli.js). */
import { main } from "./main.js";

// `cratedb-fetch -c … | head`: a reader that went away is not an error worth a stack trace.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code !== "EPIPE") throw err;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2), process.env, {
  write: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(`${s}\n`),
  columns: () => (process.stdout.isTTY ? process.stdout.columns : undefined),
}, { isTTY: process.stdin.isTTY === true, stream: process.stdin });
