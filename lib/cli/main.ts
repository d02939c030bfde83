/// <reference types="node" />
/**
 * `npx cratedb-fetch`: run SQL from the command line (`-c "SQL"`), a script on standard input, or a prompt. Node only.
 * The password comes from CRATEDB_PASSWORD (or the URL) and is never printed: the library redacts it from errors,
 * and the CLI never repeats an argument's value.
 */
import { connect, type Connection, type QueryEvent, type ServerInfo } from "../entry/node.js";
import { parse, USAGE, version, type Settings } from "./args.js";
import { ms } from "./format.js";
import { StatementBuffer } from "./input.js";
import { interactive, script } from "./repl.js";
import { describe, INTERRUPT, Runner, type Io } from "./runner.js";

export type { Io } from "./runner.js";

/** How the CLI was started: a terminal gets the prompt, anything else is a script. */
export interface Stdin {
  isTTY?: boolean;
  stream: NodeJS.ReadableStream;
}

/** How long the prompt waits for `GET /` (the banner) before it gives up on the server. */
const BANNER_TIMEOUT_MS = 15_000;

function onQuery(io: Io): (e: QueryEvent) => void {
  return (e) => io.err(`-- ${e.server ?? "no server"}: ${ms(e.durationMs)}` +
    `${e.serverDurationMs !== undefined ? ` (server ${ms(e.serverDurationMs)})` : ""}, ${Math.max(0, (e.attempt ?? 1) - 1)} retries` +
    `${e.rowcount !== undefined ? `, rowcount ${e.rowcount}` : ""}`);
}

function banner(info: ServerInfo, s: Settings): string {
  return `${version()}, connected to CrateDB ${info.version} at ${info.server}: node "${info.name}" of cluster "${info.clusterName}".\n` +
    `User "${s.user}", schema "${s.schema}". Type \\? for help, \\q to quit.\n`;
}

/** `-c`: each statement in turn, stopping at the first that fails (exit 1); Ctrl-C cancels it (exit 130). */
async function command(runner: Runner, sql: string): Promise<number> {
  const buffer = new StatementBuffer();
  const stmts = [...buffer.push(sql), buffer.take()].filter((s) => s !== "");
  const ac = new AbortController();
  const interrupt = (): void => ac.abort(INTERRUPT);
  process.on("SIGINT", interrupt);
  try {
    for (const stmt of stmts) {
      const outcome = await runner.run(stmt, ac.signal);
      if (outcome !== "ok") return outcome === "cancelled" ? 130 : 1;
    }
    return 0;
  } finally {
    process.off("SIGINT", interrupt);
  }
}

/** Runs the CLI with these arguments; resolves with the exit status. */
export async function main(argv: string[], env: Record<string, string | undefined>, io: Io, stdin?: Stdin): Promise<number> {
  const parsed = parse(argv, env);
  if (parsed.kind === "help") return io.write(`${USAGE}\n`), 0;
  if (parsed.kind === "version") return io.write(`${version()}\n`), 0;
  if (parsed.kind === "usage") return io.err(`cratedb-fetch: ${parsed.message}\n\n${USAGE}`), 2;
  const settings = parsed.settings;
  let conn: Connection;
  try {
    conn = connect(settings.hosts, { ...settings.options, ...(settings.verbose ? { onQuery: onQuery(io) } : {}) });
  } catch (err) {
    io.err(describe(err));
    return 2;
  }
  const runner = new Runner(conn, settings, io);
  try {
    if (settings.verbose) io.err(`-- servers: ${conn.servers.join(", ")}`);
    if (settings.command !== undefined) return await command(runner, settings.command);
    if (stdin === undefined || !stdin.isTTY) return await script(runner, stdin?.stream ?? process.stdin);
    try {
      io.write(banner(await conn.serverInfo(undefined, { timeout: BANNER_TIMEOUT_MS }), settings));
    } catch (err) {
      // No server to talk to (or it refused us): say why, as psql does, rather than prompt for nothing.
      io.err(describe(err));
      const hint = runner.hint(err);
      if (hint !== undefined) io.err(hint);
      return 2;
    }
    return await interactive(runner);
  } finally {
    await conn.close();
  }
}
