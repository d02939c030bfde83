/**
 * Runs statements and backslash commands for the CLI and prints their results, errors and timings.
 * Errors are printed from the library's own messages, which carry no secret.
 */
import { CrateDBError, type Connection } from "../entry/node.js";
import type { Settings } from "./args.js";
import { ms, render, type ColType, type Expanded } from "./format.js";

export interface Io {
  /** Writes to standard output as is. */
  write: (s: string) => void;
  /** Writes a line to standard error. */
  err: (s: string) => void;
  /** The terminal's width, when standard output is one. */
  columns?: () => number | undefined;
}

export type Outcome = "ok" | "error" | "cancelled";

/** The reason a Ctrl-C aborts a statement with, to tell it from the statement's own errors. */
export const INTERRUPT: Error = new Error("cancelled by Ctrl-C");

export const HELP = `Backslash commands (not part of the SQL buffer):
  \\?                 this help
  \\q                 quit (also Ctrl-D, or Ctrl-C at an empty prompt)
  \\timing [on|off]   show how long each statement takes
  \\x [on|off|auto]   expanded display: one "column | value" line per column (auto: for rows wider than the terminal)
End a statement with ';'. Ctrl-C cancels the running statement (its server job is killed) or clears the input.`;

/** An error as one line: class, CrateDB code, and the library's message (which never holds a secret). */
export function describe(err: unknown): string {
  if (err instanceof CrateDBError) return `${err.name}${err.code !== undefined ? ` [${err.code}]` : ""}: ${err.message}`;
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

export class Runner {
  timing = false;
  expanded: Expanded;

  constructor(private readonly conn: Connection, private readonly settings: Settings, private readonly io: Io) {
    this.expanded = settings.expanded ? "on" : "off";
  }

  /** Runs one statement and prints its result (or error); a Ctrl-C through `signal` cancels it. */
  async run(stmt: string, signal?: AbortSignal): Promise<Outcome> {
    const started = performance.now();
    try {
      const res = await this.conn.query(stmt, [], signal !== undefined ? { signal } : undefined);
      const { format } = this.settings;
      const text = render({ format, expanded: this.expanded, columns: this.io.columns?.() }, res.cols, res.rows as unknown[][],
        res.rowcount, res.colTypes as ColType[]);
      this.io.write(format === "csv" ? text : `${text}\n`);
      this.time(started);
      return "ok";
    } catch (err) {
      if (signal?.aborted && err === signal.reason) {
        this.io.err("Cancelled. The server was asked to kill the statement.");
        return "cancelled";
      }
      this.io.err(describe(err));
      const hint = this.hint(err);
      if (hint !== undefined) this.io.err(hint);
      this.time(started);
      return "error";
    }
  }

  /** A line for people (a timing, a toggle's new state): on stdout beside a table, on stderr to keep CSV and JSON parseable. */
  private notice(line: string): void {
    if (this.settings.format === "table") this.io.write(`${line}\n`);
    else this.io.err(line);
  }

  private time(started: number): void {
    if (this.timing) this.notice(`Time: ${ms(performance.now() - started)}`);
  }

  /** What to check after an authentication failure: the user and the password, never the password itself. */
  hint(err: unknown): string | undefined {
    if (!(err instanceof CrateDBError) || (err.status !== 401 && err.code !== 4010 && err.code !== 4011)) return undefined;
    const { options, user } = this.settings;
    if (options.username === undefined && user === "crate")
      return 'hint: no user name or password was sent, so the server checked its default user "crate". ' +
        "Give the user with -U or $CRATEDB_USER and the password in $CRATEDB_PASSWORD.";
    return `hint: the server did not accept user "${user}" with ${options.password !== undefined ? "the password from $CRATEDB_PASSWORD" : "the password in the URL, or none"}. ` +
      "Check the user (-U or $CRATEDB_USER) and the password ($CRATEDB_PASSWORD).";
  }

  /**
   * A backslash command. Resolves "quit" for \q; prints help, toggles and errors itself.
   * Only the command's name is ever repeated in a message.
   */
  meta(line: string): "quit" | undefined {
    const [name = "", arg, extra] = line.trim().split(/\s+/);
    const onOff = (current: boolean): boolean | undefined =>
      arg === undefined ? !current : arg === "on" ? true : arg === "off" ? false : undefined;
    switch (name) {
      case "\\q":
        return "quit";
      case "\\?":
        this.io.write(`${HELP}\n`);
        return undefined;
      case "\\timing": {
        const v = extra === undefined ? onOff(this.timing) : undefined;
        if (v === undefined) return this.io.err("\\timing takes on or off"), undefined;
        this.timing = v;
        this.notice(`Timing is ${v ? "on" : "off"}.`);
        return undefined;
      }
      case "\\x": {
        const v = extra !== undefined ? undefined : arg === "auto" ? "auto" : onOff(this.expanded === "on");
        if (v === undefined) return this.io.err("\\x takes on, off or auto"), undefined;
        this.expanded = v === "auto" ? "auto" : v ? "on" : "off";
        this.notice(`Expanded display is ${this.expanded === "auto" ? "used automatically" : this.expanded}.`);
        return undefined;
      }
      default:
        this.io.err(`invalid command ${name.length > 20 ? `${name.slice(0, 20)}…` : name}; try \\? for help`);
        return undefined;
    }
  }
}
