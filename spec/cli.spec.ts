// The `cratedb-fetch` command (dist/cli.js) against the embedded PGlite server. Node lane only.
import { expect } from "chai";
import { notApplicable, runtime } from "./support/helpers.js";
import { startSqlServer, type SqlServerHandle } from "./support/sql-server.js";

const PASSWORD = "pw-Secret-9876";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
type ExecFile = (file: string, args: string[], opts: object, cb: (err: { code?: number } | null, stdout: string, stderr: string) => void) => void;

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const proc = globalThis.process as unknown as { getBuiltinModule(id: string): unknown; execPath: string; cwd(): string; env: Record<string, string> };
  const { execFile } = proc.getBuiltinModule("node:child_process") as { execFile: ExecFile };
  return new Promise((resolve) => {
    execFile(proc.execPath, [`${proc.cwd()}/dist/cli.js`, ...args], { env: { PATH: proc.env.PATH ?? "", HOME: proc.cwd(), ...env }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

describe("CLI: npx cratedb-fetch", function () {
  let server: SqlServerHandle;
  let url: string;
  before(async function () {
    if (runtime !== "node") return;
    this.timeout(120_000);
    server = await startSqlServer({ auth: { users: { alice: PASSWORD } } });
    url = server.url;
    const setup = await cli(["--hosts", url, "-U", "alice", "-c",
      "CREATE TABLE cli_t (id INT PRIMARY KEY, name TEXT, tags ARRAY(TEXT))"], { CRATEDB_PASSWORD: PASSWORD });
    if (setup.code !== 0) throw new Error(`setup failed: ${setup.stderr}`);
    for (const stmt of [`INSERT INTO cli_t (id, name, tags) VALUES (1, 'one', ARRAY['a']), (22, 'a "quoted", name', ARRAY[]::TEXT[])`, "REFRESH TABLE cli_t"]) {
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
    expect(r.stdout).to.equal('id,name\r\n1,one\r\n22,"a ""quoted"", name"\r\n\n');
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
});
