// The `cratedb-fetch` command (dist/cli.js) against the embedded PGlite server. Node lane only.
import { expect } from "chai";
import type * as ChildProcess from "node:child_process";
import { notApplicable, runtime } from "./support/helpers.js";
import { startSqlServer, type SqlServerHandle } from "./support/sql-server.js";

const PASSWORD = "pw-Secret-9876";
const CRATE_PASSWORD = "crate-Secret-5432";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

interface NodeProcess {
  getBuiltinModule(id: string): unknown;
  execPath: string;
  cwd(): string;
  env: Record<string, string | undefined>;
}

/** Runs dist/cli.js with these arguments and environment (nothing else inherited), `stdin` piped in. */
function cli(args: string[], env: Record<string, string> = {}, stdin = ""): Promise<Run> {
  const proc = globalThis.process as unknown as NodeProcess;
  const { spawn } = proc.getBuiltinModule("node:child_process") as typeof ChildProcess;
  return new Promise((resolve, reject) => {
    const child = spawn(proc.execPath, [`${proc.cwd()}/dist/cli.js`, ...args], { env: { PATH: proc.env.PATH ?? "", HOME: proc.cwd(), ...env }, timeout: 30_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Uint8Array) => (stdout += new TextDecoder().decode(b)));
    child.stderr.on("data", (b: Uint8Array) => (stderr += new TextDecoder().decode(b)));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe("CLI: npx cratedb-fetch", function () {
  let server: SqlServerHandle;
  let url: string;
  before(async function () {
    if (runtime !== "node") return;
    this.timeout(120_000);
    server = await startSqlServer({ auth: { users: { alice: PASSWORD, crate: CRATE_PASSWORD } } });
    url = server.url;
    const setup = await cli(["--hosts", url, "-U", "alice", "-c",
      "CREATE TABLE cli_t (id INT PRIMARY KEY, name TEXT, tags ARRAY(TEXT))"], { CRATEDB_PASSWORD: PASSWORD });
    if (setup.code !== 0) throw new Error(`setup failed: ${setup.stderr}`);
    for (const stmt of [`INSERT INTO cli_t (id, name, tags) VALUES (1, 'one', ARRAY['a']), (22, 'a "quoted", name', ARRAY[]::TEXT[])`, "REFRESH TABLE cli_t",
      "CREATE TABLE cli_types (big BIGINT, ts TIMESTAMP WITH TIME ZONE, ts_naive TIMESTAMP WITHOUT TIME ZONE, day DATE, txt TEXT)",
      "INSERT INTO cli_types VALUES (9007199254740993, '2024-02-29T23:59:58.123Z', '2024-01-02T03:04:05', '1999-12-31', E'two\\nlines\\tand\\x1b[31m'), " +
        "(7, NULL, NULL, NULL, 'plain')",
      "REFRESH TABLE cli_types"]) {
      const r = await cli(["--hosts", url, "-U", "alice", "-c", stmt], { CRATEDB_PASSWORD: PASSWORD });
      if (r.code !== 0) throw new Error(`setup failed: ${r.stderr}`);
    }
  });
  beforeEach(function () {
    if (runtime !== "node") notApplicable(this, "the CLI is a Node program (dist/cli.js, node:readline); it is spawned as a child process");
  });
  after(async () => server?.close());

  const env = (): Record<string, string> => ({ CRATEDB_URL: url, CRATEDB_PASSWORD: PASSWORD });

  it("prints an aligned table with a row count", async () => {
    const r = await cli(["-U", "alice", "-c", "SELECT id, name FROM cli_t ORDER BY id"], env());
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(["id | name", `---+${"-".repeat(17)}`, " 1 | one", "22 | a \"quoted\", name", "(2 rows)", ""].join("\n"));
  });

  it("prints JSON objects with --format json", async () => {
    const r = await cli(["-U", "alice", "--format", "json", "-c", "SELECT id, tags FROM cli_t ORDER BY id"], env());
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal([{ id: 1, tags: ["a"] }, { id: 22, tags: [] }]);
  });

  it("prints RFC 4180 CSV with --format csv", async () => {
    const r = await cli(["-U", "alice", "-f", "csv", "-c", "SELECT id, name FROM cli_t ORDER BY id"], env());
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout, "every record ends with CRLF, and nothing follows the last").to.equal('id,name\r\n1,one\r\n22,"a ""quoted"", name"\r\n');
  });

  it("exits non-zero on an error, printing the error class and CrateDB code", async () => {
    const r = await cli(["-U", "alice", "-c", "SELECT * FROM no_such_cli_table"], env());
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^ProgrammingError \[4\d{3}\]: .*no_such_cli_table/);
  });

  it("--verbose shows the node, durations and retries on stderr", async () => {
    const r = await cli(["-U", "alice", "-v", "-c", "SELECT 1"], env());
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.include(`-- servers: ${url}`);
    expect(r.stderr).to.match(new RegExp(`-- ${url.replace(/[.]/g, "\\.")}: [\\d.]+ ms \\(server [\\d.]+ ms\\), 0 retries, rowcount 1`));
  });

  it("never echoes the password: not with --verbose, not in an auth error, not from a URL", async () => {
    const ok = await cli(["--hosts", url.replace("://", `://alice:${PASSWORD}@`), "-v", "-c", "SELECT 1"], {});
    expect(ok.code, ok.stderr).to.equal(0);
    const wrong = await cli(["-U", "alice", "-v", "-c", "SELECT 1"], { CRATEDB_URL: url, CRATEDB_PASSWORD: `${PASSWORD}-wrong` });
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.match(/OperationalError/);
    for (const r of [ok, wrong]) {
      expect(r.stdout + r.stderr).to.not.include(PASSWORD);
      expect(r.stdout + r.stderr).to.not.include(btoa(`alice:${PASSWORD}`));
    }
  });

  it("formats types: ISO 8601 UTC timestamps and dates, right-aligned BIGINTs (exact), escaped control characters", async () => {
    const r = await cli(["-U", "alice", "-c", "SELECT big, ts, ts_naive, day, txt FROM cli_types ORDER BY big DESC"], env());
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal([
      "big              | ts                       | ts_naive                 | day        | txt",
      [16, 24, 24, 10, 23].map((w) => "-".repeat(w)).join("-+-"),
      "9007199254740993 | 2024-02-29T23:59:58.123Z | 2024-01-02T03:04:05.000Z | 1999-12-31 | two\\nlines\\tand\\x1b[31m",
      "               7 | NULL                     | NULL                     | NULL       | plain",
      "(2 rows)", ""].join("\n"));
  });

  it("CSV: ISO timestamps, exact BIGINTs, a newline kept inside a quoted field, CRLF records, no blank line at the end", async () => {
    const r = await cli(["-U", "alice", "-f", "csv", "-c", "SELECT big, ts, day, txt FROM cli_types ORDER BY big DESC"], env());
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal("big,ts,day,txt\r\n" +
      '9007199254740993,2024-02-29T23:59:58.123Z,1999-12-31,"two\nlines\tand\x1b[31m"\r\n' +
      "7,,,plain\r\n");
  });

  it("-x prints expanded records; -v rounds durations", async () => {
    const r = await cli(["-U", "alice", "-x", "-v", "-c", "SELECT id, name FROM cli_t WHERE id = 1"], env());
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal("-[ RECORD 1 ]-\nid   | 1\nname | one\n(1 row)\n");
    expect(r.stderr).to.match(/: \d+(\.\d{1,2})? ms \(server \d+(\.\d{1,2})? ms\), 0 retries, rowcount 1\n/);
  });

  it("--version and --help print and exit 0; a bad argument exits 2 without repeating its value", async () => {
    const v = await cli(["--version"]);
    expect(v.code).to.equal(0);
    expect(v.stdout).to.match(/^cratedb-fetch \d+\.\d+\.\d+\n$/);
    const h = await cli(["--help"]);
    expect(h.code).to.equal(0);
    for (const flag of ["--hosts", "--username", "--command", "--format", "--expanded", "--version", "CRATEDB_USER", "CRATEDB_PASSWORD"]) expect(h.stdout).to.include(flag);
    for (const args of [[`http://alice:${PASSWORD}@127.0.0.1:1`], [`--password=${PASSWORD}`], ["-U"]]) {
      const bad = await cli(args);
      expect(bad.code, args.join(" ")).to.equal(2);
      expect(bad.stderr).to.match(/^cratedb-fetch: (unexpected argument|unknown option --password|option -U needs a value)/);
      expect(bad.stdout + bad.stderr).to.not.include(PASSWORD);
    }
  });

  it("honours CRATEDB_USER, and CRATEDB_PASSWORD alone for the default user crate; -U, then a URL's credentials, win over them", async () => {
    const user = await cli(["-c", "SELECT 1 AS x"], { CRATEDB_URL: url, CRATEDB_USER: "alice", CRATEDB_PASSWORD: PASSWORD });
    expect(user.code, user.stderr).to.equal(0);
    const crate = await cli(["-c", "SELECT 1 AS x"], { CRATEDB_URL: url, CRATEDB_PASSWORD: CRATE_PASSWORD });
    expect(crate.code, crate.stderr).to.equal(0);
    const flag = await cli(["-U", "alice", "-c", "SELECT 1 AS x"], { CRATEDB_URL: url, CRATEDB_USER: "crate", CRATEDB_PASSWORD: PASSWORD });
    expect(flag.code, flag.stderr).to.equal(0);
    const wrongUser = await cli(["-c", "SELECT 1 AS x"], { CRATEDB_URL: url, CRATEDB_USER: "crate", CRATEDB_PASSWORD: PASSWORD });
    expect(wrongUser.code).to.equal(1);
    const urlUser = await cli(["--hosts", url.replace("://", "://alice@"), "-c", "SELECT 1 AS x"], { CRATEDB_USER: "crate", CRATEDB_PASSWORD: PASSWORD });
    expect(urlUser.code, "a URL's user beats CRATEDB_USER and takes CRATEDB_PASSWORD").to.equal(0);
    const urlPassword = await cli(["--hosts", url.replace("://", `://alice:${PASSWORD}@`), "-c", "SELECT 1 AS x"], { CRATEDB_PASSWORD: "not-it" });
    expect(urlPassword.code, "a URL's own password beats CRATEDB_PASSWORD").to.equal(0);
  });

  it("a 401 hint speaks of the user and the password, never of TLS, and never shows the password", async () => {
    const wrong = await cli(["-c", "SELECT 1"], { CRATEDB_URL: url, CRATEDB_USER: "alice", CRATEDB_PASSWORD: `${PASSWORD}-wrong` });
    expect(wrong.code).to.equal(1);
    expect(wrong.stderr).to.match(/^OperationalError: .*\nhint: the server did not accept user "alice" with the password from \$CRATEDB_PASSWORD\. Check the user \(-U or \$CRATEDB_USER\) and the password \(\$CRATEDB_PASSWORD\)\.\n$/);
    const none = await cli(["-c", "SELECT 1"], { CRATEDB_URL: url });
    expect(none.code).to.equal(1);
    const hint = none.stderr.split("\n").find((l) => l.startsWith("hint:")) ?? "";
    expect(hint).to.equal('hint: no user name or password was sent, so the server checked its default user "crate". ' +
      "Give the user with -U or $CRATEDB_USER and the password in $CRATEDB_PASSWORD.");
    for (const r of [wrong, none]) expect(r.stdout + r.stderr).to.not.include(PASSWORD);
  });

  it("-c runs each statement in turn and stops at the first error (exit 1)", async () => {
    const r = await cli(["-U", "alice", "-f", "csv", "-c", "SELECT 1 AS a; SELECT * FROM no_such_cli_table; SELECT 2 AS b"], env());
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal("a\r\n1\r\n");
    expect(r.stderr).to.match(/^ProgrammingError \[4\d{3}\]: .*no_such_cli_table/);
  });

  it("a script on standard input runs every statement (a ';' in a string does not end one) and exits 1 if one failed", async () => {
    const script = "SELECT 'a;b' AS s;\nSELECT * FROM no_such_cli_table;\n-- a comment\nSELECT\n  2 AS b; SELECT 3 AS c\n";
    const failed = await cli(["-U", "alice", "-f", "csv"], env(), script);
    expect(failed.code).to.equal(1);
    expect(failed.stdout).to.equal("s\r\na;b\r\nb\r\n2\r\nc\r\n3\r\n");
    expect(failed.stderr, "one error line, nothing else").to.match(/^ProgrammingError \[4\d{3}\]: [^\n]*no_such_cli_table[^\n]*\n$/);
    const ok = await cli(["-U", "alice", "-f", "csv"], env(), "\\timing on\nSELECT 1 AS a;\n\\q\nSELECT * FROM no_such_cli_table;\n");
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.stdout).to.equal("a\r\n1\r\n");
    expect(ok.stderr, "notices beside CSV output go to stderr").to.match(/^Timing is on\.\nTime: \d+(\.\d{1,2})? ms\n$/);
  });

  it("prints a 150 000-row result in every layout, and ends quietly (status 0) when its reader goes away (| head)", async function () {
    this.timeout(120_000);
    const sql = "SELECT * FROM generate_series(1, 150000)";
    const t = await cli(["-U", "alice", "-c", sql], env());
    expect(t.code, t.stderr).to.equal(0);
    expect(t.stdout.split("\n")).to.have.length(150_000 + 4);
    const x = await cli(["-U", "alice", "-x", "-c", sql], env());
    expect(x.code, x.stderr).to.equal(0);
    expect(x.stdout.endsWith("generate_series | 150000\n(150000 rows)\n")).to.equal(true);
    const proc = globalThis.process as unknown as NodeProcess;
    const { spawn } = proc.getBuiltinModule("node:child_process") as typeof ChildProcess;
    const child = spawn(proc.execPath, [`${proc.cwd()}/dist/cli.js`, "-U", "alice", "-f", "csv", "-c", sql], { env: { PATH: proc.env.PATH ?? "", ...env() } });
    let stderr = "";
    child.stderr.on("data", (b: Uint8Array) => (stderr += new TextDecoder().decode(b)));
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).to.equal("");
    expect(code).to.equal(0);
  });
});
