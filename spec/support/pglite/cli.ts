/**
 * `npm run server [-- --port 4200 --data ./db --host 127.0.0.1]`: the embedded CrateDB-protocol test server for your
 * own code, the README's snippets and the CLI. A TEST DOUBLE, NOT CrateDB (see README.md in this folder): SQL runs on
 * PostgreSQL compiled to WebAssembly (PGlite). Ctrl-C (SIGINT) or SIGTERM stops it and closes the database cleanly.
 */
import { resolve } from "node:path";
import { startPgliteServer } from "./server.js";

const USAGE = `Usage: npm run server [-- --port <port>] [--host <address>] [--data <dir>]

  --port <port>    TCP port (default 4200; 0 picks a free one)
  --host <address> listen address (default 127.0.0.1)
  --data <dir>     keep the database in <dir> across restarts (default: in memory, gone on exit)

An embedded test server that speaks CrateDB's HTTP protocol and runs the SQL on PostgreSQL compiled to
WebAssembly (PGlite). It is a test double, NOT CrateDB. For a real single-node CrateDB:
  docker run --rm -p 4200:4200 crate/crate:latest -Cdiscovery.type=single-node`;

interface Args {
  port: number;
  host: string;
  dataDir: string | undefined;
}

function parseArgs(argv: string[]): Args | string {
  const args: Args = { port: 4200, host: "127.0.0.1", dataDir: undefined };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] ?? "").split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag === "-h" || flag === "--help") return "";
    if (!["--port", "-p", "--host", "--data"].includes(flag)) return `unknown option ${JSON.stringify(flag)}`;
    const value = inline ?? argv[++i];
    if (value === undefined) return `${flag} needs a value`;
    if (flag === "--port" || flag === "-p") {
      const port = Number(value);
      if (!Number.isInteger(port) || port < 0 || port > 65535) return `--port must be 0–65535, got ${JSON.stringify(value)}`;
      args.port = port;
    } else if (flag === "--host") args.host = value;
    else args.dataDir = resolve(value);
  }
  return args;
}

const parsed = parseArgs(process.argv.slice(2));
if (typeof parsed === "string") {
  if (parsed) console.error(`error: ${parsed}\n`);
  console.error(USAGE);
  process.exit(parsed ? 2 : 0);
}

let server: Awaited<ReturnType<typeof startPgliteServer>>;
try {
  server = await startPgliteServer({
    port: parsed.port,
    host: parsed.host,
    ...(parsed.dataDir !== undefined ? { dataDir: parsed.dataDir } : {}),
    log: (line) => console.log(line),
  });
} catch (e) {
  const code = (e as { code?: string }).code;
  console.error(code === "EADDRINUSE"
    ? `error: ${parsed.host}:${parsed.port} is already in use (another server, or a CrateDB?). Pick another with --port.`
    : `error: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}

const shown = server.url.replace("127.0.0.1", "localhost");
console.log(`cratedb-fetch test server listening on ${server.url}  (connect("${shown}"))`);
console.log("This is a test double that speaks CrateDB's HTTP protocol and runs the SQL on PGlite (PostgreSQL in");
console.log("WebAssembly). It is NOT CrateDB: check CrateDB-specific behaviour against a real node.");
console.log(parsed.dataDir !== undefined ? `Database: ${parsed.dataDir} (kept across restarts)` : "Database: in memory (gone when the server stops; --data <dir> keeps it)");
console.log("Ctrl-C stops it.");

let stopping = false;
const stop = (signal: NodeJS.Signals): void => {
  if (stopping) return; // a second Ctrl-C while closing: let the close finish
  stopping = true;
  console.log(`\n${signal}: closing connections and the database…`);
  server.close().then(
    () => {
      console.log("Stopped.");
      process.exit(0);
    },
    (e: unknown) => {
      console.error(`error while stopping: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
