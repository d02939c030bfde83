/// <reference types="node" />
/**
 * The CLI's two ways of reading SQL from standard input: a prompt on a terminal (history, Ctrl-C cancels a
 * running statement) and a script from a pipe or file (exit status 1 when a statement failed).
 */
import { appendFileSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface, type Interface } from "node:readline";
import { StatementBuffer } from "./input.js";
import { INTERRUPT, type Runner } from "./runner.js";

const QUIT = /^\s*(exit|quit)\s*;?\s*$/i;
const HISTORY_SIZE = 500;

function historyFile(): string {
  return join(homedir(), ".cratedb_fetch_history");
}

function loadHistory(): string[] {
  try {
    return readFileSync(historyFile(), "utf8").split("\n").filter(Boolean).reverse().slice(0, HISTORY_SIZE);
  } catch {
    return []; // no history yet
  }
}

function remember(stmt: string): void {
  // A statement that sets a password (CREATE USER … WITH (password = …)) stays out of the history file.
  if (/password/i.test(stmt)) return;
  try {
    appendFileSync(historyFile(), `${stmt.replace(/\n/g, " ")};\n`, { mode: 0o600 });
  } catch {
    // history is best effort
  }
}

/**
 * The prompt. Resolves with the exit status: 0 after \q, Ctrl-D or Ctrl-C at an empty prompt, whatever
 * earlier statements did.
 */
export function interactive(runner: Runner): Promise<number> {
  const rl: Interface = createInterface({
    input: process.stdin, output: process.stdout, terminal: true, history: loadHistory(), historySize: HISTORY_SIZE, prompt: "cr> ",
  });
  const buffer = new StatementBuffer();
  const typedAhead: string[] = [];
  let running: AbortController | undefined;
  let busy = false;
  let closed = false;

  const prompt = (): void => {
    if (closed) return;
    rl.setPrompt(buffer.pending ? " -> " : "cr> ");
    rl.prompt();
  };

  // One line of input; resolves false when the session should end.
  const handle = async (line: string): Promise<boolean> => {
    if (!buffer.open && /^\s*\\/.test(line)) return runner.meta(line) !== "quit";
    if (!buffer.pending && QUIT.test(line)) return false;
    for (const stmt of buffer.push(line)) {
      remember(stmt);
      running = new AbortController();
      const outcome = await runner.run(stmt, running.signal);
      running = undefined;
      if (outcome === "cancelled" || closed) break; // Ctrl-C drops what else was on that line
    }
    return true;
  };

  const drain = async (line: string): Promise<void> => {
    let next: string | undefined = line;
    while (next !== undefined && !closed) {
      busy = true;
      const go = await handle(next);
      busy = false;
      if (!go) return void rl.close();
      next = typedAhead.shift();
    }
    prompt();
  };

  rl.on("line", (line) => {
    // Lines typed while a statement runs wait their turn, as in psql.
    if (busy) typedAhead.push(line);
    else void drain(line);
  });

  const interrupt = (): void => {
    if (running !== undefined) {
      typedAhead.length = 0;
      running.abort(INTERRUPT);
    } else if (rl.line !== "" || buffer.pending) {
      // Ctrl-C with input: forget it and start a fresh statement.
      rl.write(null, { ctrl: true, name: "e" });
      rl.write(null, { ctrl: true, name: "u" });
      buffer.clear();
      process.stdout.write("^C\n");
      prompt();
    } else if (!busy) {
      process.stdout.write("\n");
      rl.close();
    }
  };
  // A terminal in raw mode delivers Ctrl-C as a key (readline's SIGINT event); `kill -INT` arrives as the signal.
  rl.on("SIGINT", interrupt);
  process.on("SIGINT", interrupt);

  prompt();
  return new Promise((resolve) => {
    rl.on("close", () => {
      closed = true;
      process.off("SIGINT", interrupt);
      // Ctrl-D or \q while a statement runs: stop it rather than leave it running on the server.
      running?.abort(INTERRUPT);
      resolve(0);
    });
  });
}

/**
 * SQL from a pipe or a file: every statement runs, in order, even after one failed (as psql does).
 * Resolves 0, 1 when a statement failed, or 130 when interrupted.
 */
export async function script(runner: Runner, input: NodeJS.ReadableStream): Promise<number> {
  const rl = createInterface({ input, terminal: false, crlfDelay: Infinity });
  const buffer = new StatementBuffer();
  let failed = false;
  let running: AbortController | undefined;
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
    running?.abort(INTERRUPT);
    rl.close();
  };
  process.on("SIGINT", interrupt);
  const runAll = async (stmts: string[]): Promise<void> => {
    for (const stmt of stmts) {
      if (interrupted) return;
      running = new AbortController();
      if ((await runner.run(stmt, running.signal)) !== "ok") failed = true;
      running = undefined;
    }
  };
  try {
    for await (const line of rl) {
      if (!buffer.open && /^\s*\\/.test(line)) {
        if (runner.meta(line) === "quit") break;
        continue;
      }
      await runAll(buffer.push(line));
      if (interrupted) break;
    }
    const rest = buffer.take();
    if (rest !== "" && !interrupted) await runAll([rest]);
  } finally {
    process.off("SIGINT", interrupt);
    rl.close();
  }
  return interrupted ? 130 : failed ? 1 : 0;
}
