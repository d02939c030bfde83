/// <reference types="node" />
/**
 * The CLI's command line and environment: what to connect to, as whom, and how to print.
 * Nothing here ever repeats an argument's value in a message: a mistyped option may be a password.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ConnectOptions } from "../entry/node.js";
import type { Format } from "./format.js";

export const USAGE = `Usage: cratedb-fetch [options]

Connection
  --hosts URL         a server (repeat for more); default $CRATEDB_URL (space-separated) or http://localhost:4200
  -U, --username U    user name; default the URL's user, $CRATEDB_USER, or crate
  -s, --schema S      default schema (default doc)
  The password is read from the URL or $CRATEDB_PASSWORD, never from a flag.

Running
  -c, --command SQL   run the SQL (one or more statements) and exit; exit status 1 on an error
  Without -c, statements are read from standard input: a prompt on a terminal, a script otherwise
  (a script exits with status 1 if a statement failed).

Output
  -f, --format F      table (default), json or csv; table and csv show timestamps in ISO 8601 (UTC),
                      json keeps CrateDB's values (timestamps as epoch milliseconds)
  -x, --expanded      expanded display (one "column | value" line per column)
  -v, --verbose       show the servers, and the node, durations and retries of each statement (on stderr)
  -V, --version       print the version and exit
  -h, --help          this text

At the prompt, end a statement with ';'. Ctrl-C cancels a running statement (its server job is killed)
or clears the line; Ctrl-C or Ctrl-D at an empty prompt exits. Type \\? for the backslash commands.`;

/** The version of the package this CLI was built from (package.json beside dist/). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { name?: string; version?: string };
    return `${pkg.name ?? "cratedb-fetch"} ${pkg.version ?? "unknown"}`;
  } catch {
    return "cratedb-fetch (version unknown)";
  }
}

export interface Settings {
  /** --hosts (one server each), or $CRATEDB_URL as written (connect() splits it by its own rules). */
  hosts: string[] | string | undefined;
  /** Options for connect(); the password stays only here. */
  options: ConnectOptions;
  /** Who the banner says we are: the user that authenticates, or `crate` without credentials. */
  user: string;
  schema: string;
  command: string | undefined;
  format: Format;
  expanded: boolean;
  verbose: boolean;
}

export type Parsed = { kind: "run"; settings: Settings } | { kind: "help" } | { kind: "version" } | { kind: "usage"; message: string };

/**
 * node:util's parseArgs quotes the offending argument in its messages ("Unexpected argument 'http://u:pw@h'");
 * this says what went wrong with only the option's name.
 */
function safeMessage(err: unknown): string {
  const code = (err as { code?: string }).code;
  const named = /'(-{1,2}[A-Za-z][\w-]*)/.exec((err as Error).message ?? "")?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") return `unknown option${named ? ` ${named}` : ""}`;
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return "unexpected argument: give servers with --hosts URL and SQL with -c";
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") return `option${named ? ` ${named}` : ""} needs a value`;
  return "invalid arguments";
}

/**
 * The user name in a server URL (`http://alice:pw@h` → alice) and whether the URL carries a password;
 * the password itself is never read.
 */
function urlCredentials(host: string): { user: string; password: boolean } | undefined {
  // As connect() reads a URL (lib/servers.ts): the userinfo is everything before the last '@', so that a
  // password may hold '/', '?', '#' or '@'.
  const rest = host.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const at = rest.lastIndexOf("@");
  if (at < 0) return undefined;
  const userinfo = rest.slice(0, at);
  const colon = userinfo.indexOf(":");
  const raw = colon < 0 ? userinfo : userinfo.slice(0, colon);
  let user = raw;
  try {
    user = decodeURIComponent(raw);
  } catch {
    // shown as typed
  }
  return user === "" ? undefined : { user, password: colon >= 0 && colon < userinfo.length - 1 };
}

export function parse(argv: string[], env: Record<string, string | undefined>): Parsed {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv, allowPositionals: false, options: {
        hosts: { type: "string", multiple: true }, username: { type: "string", short: "U" }, schema: { type: "string", short: "s" },
        command: { type: "string", short: "c" }, format: { type: "string", short: "f", default: "table" },
        expanded: { type: "boolean", short: "x" }, verbose: { type: "boolean", short: "v" },
        version: { type: "boolean", short: "V" }, help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    return { kind: "usage", message: safeMessage(err) };
  }
  if (values.help) return { kind: "help" };
  if (values.version) return { kind: "version" };
  const format = values.format as Format;
  if (!["table", "json", "csv"].includes(format)) return { kind: "usage", message: "--format must be table, json or csv" };
  // $CRATEDB_URL goes to connect() as the string it is: connect() splits it on whitespace by its own rules,
  // which refuse a list that a space in a password could have split, rather than show a piece of it.
  const hosts = values.hosts ?? (env.CRATEDB_URL?.trim() ? env.CRATEDB_URL : undefined);
  const password = env.CRATEDB_PASSWORD || undefined;
  const fromUrl = (typeof hosts === "string" ? hosts.split(/\s+/) : hosts ?? []).map(urlCredentials).find((c) => c !== undefined);
  // Who: -U, else the URL's own user (psql's order: what the command line names beats the environment),
  // else CRATEDB_USER, else `crate` when there is a password for it. The username option makes the library
  // ignore URL credentials, so it is set only when the URL has none or -U overrides them.
  const options: ConnectOptions = { int64: "string", numeric: "string" };
  const username = values.username ?? (fromUrl !== undefined ? undefined : env.CRATEDB_USER || (password !== undefined ? "crate" : undefined));
  if (username !== undefined) options.username = username;
  // The password: a URL's own beats CRATEDB_PASSWORD, which otherwise goes with whichever user was chosen.
  if (password !== undefined && (username !== undefined || fromUrl?.password === false)) options.password = password;
  if (values.schema !== undefined) options.schema = values.schema;
  return {
    kind: "run",
    settings: {
      hosts, options, user: username ?? fromUrl?.user ?? "crate", schema: values.schema ?? "doc", command: values.command,
      format, expanded: values.expanded === true, verbose: values.verbose === true,
    },
  };
}
