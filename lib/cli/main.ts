/// <reference types="node" />
/**
 * `npx cratedb-fetch`: run SQL from the command line (`-c "SQL"`) or interactively. Node only.
 * The password comes from CRATEDB_PASSWORD (or the URL) and is never printed: the library redacts it from errors.
 */
import { appendFileSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { CrateDBError, connect, type Connection, type QueryEvent } from "../entry/node.js";
import { render, type Format } from "./format.js";

const USAGE = `Usage: cratedb-fetch [--hosts URL…] [--username U] [--schema S] [-c "SQL"] [--format table|json|csv] [--verbose]

  --hosts URL       a server (repeat for more; default: $CRATEDB_URL or http://localhost:4200)
  -U, --username U  user name (the password is read from $CRATEDB_PASSWORD, never from a flag)
  -s, --schema S    default schema
  -c, --command SQL run one statement and exit (exit code 1 on error)
  -f, --format F    table (default), json or csv
  -v, --verbose     show the node, durations and retries of each statement (on stderr)
  -h, --help        this text
Without -c: an interactive prompt; end a statement with ';', quit with \\q.`;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

function describe(err: unknown): string {
  if (err instanceof CrateDBError) return `${err.name}${err.code !== undefined ? ` [${err.code}]` : ""}: ${err.message}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * A command-line error without the text of an argument: node:util's quotes a stray argument, which
 * may be a piece of a password (an unquoted space in --hosts "http://u:p w@h" leaves "w@h" behind).
 */
function argumentError(err: unknown, argv: string[]): string {
  const code = (err as { code?: unknown }).code;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") {
    return "Unexpected argument (not shown: it may hold a secret): this command takes no positional arguments. " +
      "Quote the SQL after -c, and a URL that holds spaces";
  }
  const message = err instanceof Error ? err.message : String(err);
  // Unknown options and missing values name only the option, never a value.
  return argv.some((a) => a.length >= 4 && !a.startsWith("-") && message.includes(a)) ? "Invalid arguments" : message;
}

async function runOne(conn: Connection, stmt: string, format: Format, io: Io): Promise<boolean> {
  try {
    const res = await conn.query(stmt.replace(/;\s*$/, ""));
    io.out(render(format, res.cols, res.rows as unknown[][], res.rowcount));
    return true;
  } catch (err) {
    io.err(describe(err));
    return false;
  }
}

function interactive(conn: Connection, format: Format, io: Io): Promise<number> {
  const historyFile = join(homedir(), ".cratedb_fetch_history");
  let history: string[] = [];
  try {
    history = readFileSync(historyFile, "utf8").split("\n").filter(Boolean).reverse().slice(0, 500);
  } catch {
    // no history yet
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout, history, historySize: 500, prompt: "cr> " });
  let buffer = "";
  let failures = 0;
  rl.prompt();
  rl.on("line", (line) => {
    if (buffer === "" && /^\s*(\\q|exit|quit)\s*;?\s*$/.test(line)) return rl.close();
    buffer += (buffer ? "\n" : "") + line;
    if (!/;\s*$/.test(buffer)) {
      rl.setPrompt(buffer.trim() === "" ? "cr> " : " -> ");
      if (buffer.trim() === "") buffer = "";
      return rl.prompt();
    }
    const stmt = buffer;
    buffer = "";
    rl.pause();
    try {
      appendFileSync(historyFile, `${stmt.replace(/\n/g, " ")}\n`, { mode: 0o600 });
    } catch {
      // history is best effort
    }
    void runOne(conn, stmt, format, io).then((ok) => {
      if (!ok) failures++;
      rl.setPrompt("cr> ");
      rl.resume();
      rl.prompt();
    });
  });
  return new Promise((resolve) => rl.on("close", () => resolve(failures > 0 ? 1 : 0)));
}

/** Runs the CLI with these arguments; resolves with the exit code. */
export async function main(argv: string[], env: Record<string, string | undefined>, io: Io): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv, allowPositionals: false, options: {
        hosts: { type: "string", multiple: true }, username: { type: "string", short: "U" }, schema: { type: "string", short: "s" },
        command: { type: "string", short: "c" }, format: { type: "string", short: "f", default: "table" },
        verbose: { type: "boolean", short: "v" }, help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    io.err(`${argumentError(err, argv)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) return io.out(USAGE), 0;
  const format = values.format as Format;
  if (!["table", "json", "csv"].includes(format)) return io.err(`--format must be table, json or csv\n\n${USAGE}`), 2;
  // $CRATEDB_URL goes to connect() as the string it is: connect() splits it on whitespace by its own rules
  // (which refuse a list that a space in a password could have split, instead of showing a piece of it).
  const hosts: string | string[] | undefined = values.hosts ?? (env.CRATEDB_URL?.trim() ? env.CRATEDB_URL : undefined);
  const onQuery = (e: QueryEvent): void => io.err(`-- ${e.server ?? "no server"}: ${e.durationMs.toFixed(1)} ms` +
    `${e.serverDurationMs !== undefined ? ` (server ${e.serverDurationMs} ms)` : ""}, ${Math.max(0, (e.attempt ?? 1) - 1)} retries` +
    `${e.rowcount !== undefined ? `, rowcount ${e.rowcount}` : ""}`);
  let conn: Connection;
  try {
    conn = connect(hosts, {
      ...(values.username !== undefined ? { username: values.username } : {}),
      ...(env.CRATEDB_PASSWORD !== undefined && (values.username !== undefined || [hosts ?? []].flat().some((h) => h.includes("@")))
        ? { password: env.CRATEDB_PASSWORD } : {}),
      ...(values.schema !== undefined ? { schema: values.schema } : {}),
      ...(values.verbose ? { onQuery } : {}),
      int64: "string",
    });
  } catch (err) {
    io.err(describe(err));
    return 2;
  }
  try {
    if (values.verbose) io.err(`-- servers: ${conn.servers.join(", ")}`);
    if (values.command !== undefined) return (await runOne(conn, values.command, format, io)) ? 0 : 1;
    return await interactive(conn, format, io);
  } finally {
    await conn.close();
  }
}
