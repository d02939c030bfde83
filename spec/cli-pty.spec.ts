// The `cratedb-fetch` prompt (dist/cli.js) in a real pseudo-terminal, against the fake cluster. Node lane only.
// The terminal is util-linux `script` (Debian's bsdutils, always installed): it runs the CLI on a pty and passes
// our bytes in as keystrokes, so Ctrl-C is the byte 0x03 that readline sees in raw mode, as from a person.
import { expect } from "chai";
import type * as ChildProcess from "node:child_process";
import type * as Fs from "node:fs";
import type * as Os from "node:os";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { notApplicable, runtime, sleep } from "./support/helpers.js";
import { proc } from "./support/node-process.js";
import { waitFor, waitForKill } from "./support/sessions.js";

const PASSWORD = "pty-Secret-4711";
const CTRL_C = "\x03";
const STEP_MS = 15_000;

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The CLI on a pseudo-terminal: keystrokes in, the screen's text (escape sequences and CRs removed) out. */
class Terminal {
  private raw = "";
  private mark = 0;
  private readonly child: ChildProcess.ChildProcess;
  readonly exited: Promise<number>;

  /** Every terminal not yet ended: a failed test must not leave one holding the lane open. */
  static readonly open = new Set<Terminal>();

  constructor(args: string[], env: Record<string, string>) {
    const p = proc();
    const { spawn } = p.getBuiltinModule("node:child_process") as typeof ChildProcess;
    // A pty made from a pipe has no size; readline needs one to lay out its line.
    const cmd = `stty cols 160 rows 50; exec ${[p.execPath, `${p.cwd()}/dist/cli.js`, ...args].map(quote).join(" ")}`;
    this.child = spawn("script", ["-q", "-e", "-c", cmd, "/dev/null"], { env: { PATH: p.env.PATH ?? "", TERM: "xterm", ...env }, stdio: "pipe" });
    this.child.stdout?.on("data", (b: Uint8Array) => (this.raw += new TextDecoder().decode(b)));
    this.child.stderr?.on("data", (b: Uint8Array) => (this.raw += new TextDecoder().decode(b)));
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code ?? -1)));
    Terminal.open.add(this);
    void this.exited.then(() => Terminal.open.delete(this));
  }

  /** Ends `script`; closing the pty hangs the CLI up. */
  kill(): void {
    this.child.kill("SIGKILL");
  }

  /** Everything shown so far, as text. */
  get screen(): string {
    // eslint-disable-next-line no-control-regex
    return this.raw.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
  }

  type(keys: string): void {
    this.child.stdin?.write(keys);
  }

  /** Waits until the screen after the previous match shows `re`; returns the text up to and including the match. */
  async waitFor(re: RegExp, ms = STEP_MS): Promise<string> {
    const until = Date.now() + ms;
    for (;;) {
      const rest = this.screen.slice(this.mark);
      const m = re.exec(rest);
      if (m) {
        this.mark += m.index + m[0].length;
        return rest.slice(0, m.index + m[0].length);
      }
      if (Date.now() > until) throw new Error(`screen never showed ${re} after: ${JSON.stringify(rest)}`);
      await sleep(20);
    }
  }

  /** Types a line and waits for the next prompt; returns what was shown in between (the echo excluded). */
  async run(line: string): Promise<string> {
    this.type(`${line}\r`);
    const shown = await this.waitFor(/(?:cr>| ->) $/);
    return shown.slice(shown.indexOf(line) + line.length).replace(/\n?(?:cr>| ->) $/, "").replace(/^\n/, "");
  }

  async exit(): Promise<number> {
    const timer = setTimeout(() => this.kill(), STEP_MS);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

describe("CLI in a pseudo-terminal: the prompt", function () {
  let cluster: ClusterHandle;
  let url: string;
  let home: string;
  this.timeout(60_000);

  before(async function () {
    if (runtime !== "node") return;
    cluster = await startCluster({ auth: { users: { alice: PASSWORD } } });
    url = cluster.urls[0] ?? "";
    const p = proc();
    const fs = p.getBuiltinModule("node:fs") as typeof Fs;
    const os = p.getBuiltinModule("node:os") as typeof Os;
    home = fs.mkdtempSync(`${os.tmpdir()}/cli-pty-`);
  });
  beforeEach(function () {
    if (runtime !== "node") notApplicable(this, "the CLI is a Node program (dist/cli.js) driven through a Unix pseudo-terminal (`script`)");
  });
  afterEach(async function () {
    const left = [...Terminal.open];
    for (const t of left) t.kill();
    await Promise.all(left.map((t) => t.exited));
    if (left.length > 0 && this.currentTest?.state === "failed") console.log(`screen of the failed test:\n${left.map((t) => t.screen).join("\n---\n")}`);
  });
  after(async () => {
    await cluster?.close();
    if (home !== undefined) (proc().getBuiltinModule("node:fs") as typeof Fs).rmSync(home, { recursive: true, force: true });
  });

  const open = async (args: string[] = []): Promise<Terminal> => {
    const t = new Terminal(["--hosts", url, ...args], { HOME: home, CRATEDB_USER: "alice", CRATEDB_PASSWORD: PASSWORD });
    await t.waitFor(/cr> $/);
    return t;
  };

  it("shows a banner, runs a query, survives an error, and \\q exits 0", async () => {
    const t = await open(["--schema", "cli_s"]);
    expect(t.screen).to.match(/^cratedb-fetch \d+\.\d+\.\d+, connected to CrateDB 6\.4\.3 at http:\/\/127\.0\.0\.1:\d+: node "crate-0" of cluster "fake-crate"\.$/m);
    expect(t.screen).to.include('User "alice", schema "cli_s". Type \\? for help, \\q to quit.');
    expect(await t.run("SELECT 1 AS one, 'x' AS two;")).to.equal("one | two\n----+----\n  1 | x\n(1 row)");
    expect(await t.run("SELECT * FROM no_such_pty_table;")).to.match(/^ProgrammingError \[4041\]: .*no_such_pty_table/);
    expect(await t.run("SELECT 2 AS after_error;")).to.include("after_error\n-----------\n          2\n(1 row)");
    t.type("\\q\r");
    expect(await t.exit(), "an earlier error does not change the exit status").to.equal(0);
    expect(t.screen).to.not.include(PASSWORD);
  });

  it("Ctrl-C cancels a running statement (the server sees the KILL) and returns to the prompt; Ctrl-C at an empty prompt exits 0", async () => {
    await cluster.resetLog();
    await cluster.fault({ node: 0, fault: { kind: "job", ms: 20_000, planMs: 10 }, stmt: "FROM slow_pty" });
    const t = await open();
    t.type("SELECT * FROM slow_pty;\r");
    await waitFor(async () => (await cluster.jobs()).some((j) => j.stmt.includes("slow_pty") && j.state === "running"), 10_000);
    const started = Date.now();
    t.type(CTRL_C);
    expect(await t.waitFor(/cr> $/)).to.include("Cancelled. The server was asked to kill the statement.");
    expect(Date.now() - started, "back at the prompt at once, not after the statement's 20 s").to.be.below(5_000);
    const job = await waitForKill(cluster, "slow_pty");
    expect(job.stmt.startsWith("SELECT * FROM slow_pty")).to.equal(true);
    expect(await t.run("SELECT 3 AS next_one;"), "the session goes on").to.include("next_one\n--------\n       3\n(1 row)");
    t.type(CTRL_C);
    expect(await t.exit()).to.equal(0);
  });

  it("Ctrl-C with typed input clears it instead of exiting", async () => {
    const t = await open();
    t.type("SELECT 'forgotten'\r");
    await t.waitFor(/ -> $/);
    t.type(CTRL_C);
    await t.waitFor(/\^C\ncr> $/);
    expect(await t.run("SELECT 4 AS four;"), "the unfinished statement was dropped").to.equal("four\n----\n   4\n(1 row)");
    t.type("SELECT 'half typed");
    await sleep(100);
    t.type(CTRL_C);
    await t.waitFor(/\^C\ncr> $/);
    t.type(CTRL_C);
    expect(await t.exit()).to.equal(0);
  });

  it("\\? prints help without touching the SQL buffer; \\x toggles expanded display; \\timing toggles timings", async () => {
    const t = await open();
    const help = await t.run("\\?");
    expect(help).to.match(/^Backslash commands/);
    for (const cmd of ["\\q", "\\timing", "\\x"]) expect(help).to.include(`  ${cmd}`);
    expect(await t.run("SELECT 7 AS seven;"), "\\? did not go into the statement").to.equal("seven\n-----\n    7\n(1 row)");

    expect(await t.run("\\x")).to.equal("Expanded display is on.");
    expect(await t.run("SELECT 1 AS id, 'wide' AS name;")).to.equal("-[ RECORD 1 ]-\nid   | 1\nname | wide\n(1 row)");
    expect(await t.run("\\x off")).to.equal("Expanded display is off.");
    expect(await t.run("SELECT 1 AS id;")).to.equal("id\n--\n 1\n(1 row)");

    expect(await t.run("\\x auto")).to.equal("Expanded display is used automatically.");
    const wide = "w".repeat(170);
    expect(await t.run(`SELECT 1 AS id, '${wide}' AS name;`), "wider than the 160-column terminal").to.equal(`-[ RECORD 1 ]${"-".repeat("name | ".length + 170 - "-[ RECORD 1 ]".length)}\nid   | 1\nname | ${wide}\n(1 row)`);
    expect(await t.run("SELECT 1 AS id;"), "a narrow row stays a table").to.equal("id\n--\n 1\n(1 row)");
    expect(await t.run("\\x off")).to.equal("Expanded display is off.");

    expect(await t.run("\\timing")).to.equal("Timing is on.");
    expect(await t.run("SELECT 1 AS id;")).to.match(/^id\n--\n 1\n\(1 row\)\nTime: \d+(\.\d{1,2})? (ms|s)$/);
    expect(await t.run("\\timing")).to.equal("Timing is off.");
    expect(await t.run("SELECT 1 AS id;")).to.equal("id\n--\n 1\n(1 row)");
    expect(await t.run("\\nope")).to.equal("invalid command \\nope; try \\? for help");
    t.type("\\q\r");
    expect(await t.exit()).to.equal(0);
  });

  it("Ctrl-C during -c cancels the statement (the server sees the KILL) and exits 130", async () => {
    await cluster.resetLog();
    await cluster.fault({ node: 0, fault: { kind: "job", ms: 20_000, planMs: 10 }, stmt: "FROM slow_pty_c" });
    const t = new Terminal(["--hosts", url, "-c", "SELECT * FROM slow_pty_c"], { HOME: home, CRATEDB_USER: "alice", CRATEDB_PASSWORD: PASSWORD });
    await waitFor(async () => (await cluster.jobs()).some((j) => j.stmt.includes("slow_pty_c") && j.state === "running"), 10_000);
    t.type(CTRL_C); // not raw: the terminal turns it into SIGINT
    expect(await t.exit()).to.equal(130);
    expect(t.screen).to.include("Cancelled. The server was asked to kill the statement.");
    await waitForKill(cluster, "slow_pty_c");
  });

  it("a prompt the server refuses says why, with a hint about the user and password, and exits 2", async () => {
    const t = new Terminal(["--hosts", url], { HOME: home, CRATEDB_USER: "alice", CRATEDB_PASSWORD: `${PASSWORD}-wrong` });
    expect(await t.exit()).to.equal(2);
    expect(t.screen).to.match(/^OperationalError: [^\n]*password authentication failed for user "alice"[^\n]*\nhint: the server did not accept user "alice"/m);
    expect(t.screen).to.not.include(PASSWORD);
  });
});
