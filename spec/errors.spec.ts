import { expect } from "chai";
import {
  ConnectionError, CrateDBError, DataError, DatabaseError, IntegrityError, InterfaceError, InternalError,
  NotSupportedError, OperationalError, ProgrammingError, connect,
} from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject, notApplicable, runtime } from "./support/helpers.js";

describe("Errors", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster({ auth: { users: { crate: "", alice: "wonderland" } } });
  });
  after(async () => cluster?.close());
  afterEach(async () => cluster.clearFaults());

  it("form the PEP 249 hierarchy with readable names", () => {
    expect(new ConnectionError("x")).to.be.instanceOf(OperationalError).and.instanceOf(DatabaseError).and.instanceOf(CrateDBError).and.instanceOf(Error);
    for (const Cls of [DataError, IntegrityError, InternalError, ProgrammingError, NotSupportedError, OperationalError]) {
      expect(new Cls("x")).to.be.instanceOf(DatabaseError);
    }
    expect(new InterfaceError("x")).not.to.be.instanceOf(DatabaseError);
    expect(new IntegrityError("x").name).to.equal("IntegrityError");
    expect(String(new ProgrammingError("boom"))).to.equal("ProgrammingError: boom");
    const cause = new Error("root");
    expect(new InternalError("x", { cause, code: 5000, status: 500, server: "http://h:4200" })).to.include({ cause, code: 5000, status: 500, server: "http://h:4200" });
  });

  it("maps a duplicate key (4091) from the server to IntegrityError with code, status and server", async () => {
    const conn = connect(cluster.urls);
    await conn.query("INSERT INTO err_dup (id) VALUES (?)", [1]);
    const err = await expectReject<IntegrityError>(conn.query("INSERT INTO err_dup (id) VALUES (?)", [1]), IntegrityError, /DuplicateKeyException/);
    expect(err).to.include({ code: 4091, status: 409, server: cluster.urls[0] });
    await conn.close();
  });

  it("maps an unknown relation (4041) to ProgrammingError", async () => {
    const conn = connect(cluster.urls);
    const err = await expectReject<ProgrammingError>(conn.query("SELECT * FROM missing_table"), ProgrammingError, /RelationUnknown\[Relation 'doc\.missing_table' unknown\]/);
    expect(err).to.include({ code: 4041, status: 404 });
    await conn.close();
  });

  it("maps a bulk of a SELECT (4004) to NotSupportedError", async () => {
    const conn = connect(cluster.urls);
    await expectReject(conn.bulk("SELECT ?", [[1]]), NotSupportedError, /UnsupportedFeatureException/);
    await conn.close();
  });

  it("maps a failed password (401 text) to OperationalError without the password in it", async () => {
    const conn = connect(cluster.urls, { username: "alice", password: "not-the-password" });
    const err = await expectReject<OperationalError>(conn.query("SELECT 1"), OperationalError, /HTTP 401.*password authentication failed/);
    expect(err.status).to.equal(401);
    expect(`${err.message} ${String(err)} ${err.stack}`).not.to.include("not-the-password");
    await conn.close();
  });

  const byCode: Array<[number, number, new (m: string) => CrateDBError]> = [
    [4092, 409, IntegrityError], [4010, 401, OperationalError], [4011, 401, OperationalError], [4031, 403, OperationalError],
    [5005, 500, OperationalError], [5031, 500, OperationalError], [5000, 500, InternalError], [5002, 500, InternalError],
    [4000, 400, ProgrammingError], [4043, 404, ProgrammingError], [40411, 404, ProgrammingError], [4093, 409, ProgrammingError],
  ];
  for (const [code, status, Cls] of byCode) {
    it(`maps code ${code} to ${Cls.name}`, async () => {
      await cluster.fault({ node: 0, fault: { kind: "respond", status, json: { error: { message: `SomeException[code ${code}]`, code } } } });
      const conn = connect(cluster.urls);
      const err = await expectReject<CrateDBError>(conn.query("SELECT 1"), Cls, new RegExp(`SomeException\\[code ${code}\\]`));
      expect(err).to.include({ code, status, server: cluster.urls[0] });
      await conn.close();
    });
  }

  const pages: Array<[number, string, new (m: string) => CrateDBError]> = [
    [500, "<html><body><h1>Internal failure</h1></body></html>", InternalError],
    [403, "POST method is not allowed for [/x]", OperationalError],
    [404, "Requested file [x] was not found", ProgrammingError],
    [429, "", ProgrammingError],
  ];
  for (const [status, body, Cls] of pages) {
    it(`maps a non-JSON ${status} page to ${Cls.name} with the status and a short excerpt`, async () => {
      await cluster.fault({ node: 0, fault: { kind: "respond", status, headers: { "content-type": "text/html" }, body } });
      const conn = connect(cluster.urls);
      const err = await expectReject<CrateDBError>(conn.query("SELECT 1"), Cls, new RegExp(`HTTP ${status}`));
      expect(err.status).to.equal(status);
      expect(err.code).to.equal(undefined);
      expect(err.message).not.to.include("<");
      await conn.close();
    });
  }

  it("rejects a 200 that is not JSON, or not the expected shape, with ProgrammingError", async () => {
    const conn = connect(cluster.urls);
    await cluster.fault({ node: 0, fault: { kind: "respond", status: 200, headers: { "content-type": "text/html" }, body: "<html>hello</html>" } });
    await expectReject(conn.query("SELECT 1"), ProgrammingError, /Invalid server response.*not JSON/);
    await cluster.fault({ node: 0, fault: { kind: "respond", status: 200, json: [1, 2] } });
    await expectReject(conn.query("SELECT 1"), ProgrammingError, /expected a JSON object/);
    await cluster.fault({ node: 0, fault: { kind: "respond", status: 200, json: { rows: 5 } } });
    await expectReject(conn.query("SELECT 1"), ProgrammingError, /no 'cols' or 'rows'/);
    await conn.close();
  });
});

/** Every message down an error's cause chain. */
function causeTexts(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== null && e !== undefined && depth < 8; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? (e as { cause?: unknown }).cause : undefined;
  }
  return parts.join("\n");
}

describe("Errors that say what to change", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster({ nodes: 2 });
  });
  after(async () => cluster?.close());
  beforeEach(async () => cluster.resetLog());

  describe("https:// to a plain-HTTP server", () => {
    beforeEach(function () {
      if (runtime === "workerd") notApplicable(this, "workerd reports every TLS failure as 'internal error; reference = …' (docs/runtimes.md)");
      if (runtime === "browser") notApplicable(this, "the browser reports every failed fetch as 'Failed to fetch' (the reason is only in its console)");
    });
    const https = (): string[] => cluster.urls.map((u) => u.replace("http://", "https://"));

    it("says the server did not answer TLS and suggests http://, with the raw TLS text in cause (pooled requests)", async () => {
      const conn = connect(https());
      for (const stmt of ["SELECT 1", "INSERT INTO err_tls (id) VALUES (1)"]) {
        const err = await expectReject<ConnectionError>(conn.query(stmt), ConnectionError, /did not answer TLS.*use http:\/\/ instead of https:\/\//);
        expect(err.message, "a write was not sent, so it failed over").to.match(/No more servers available/);
        expect(err.message).not.to.match(/may have been executed|wrong version number|InvalidContentType|ssl3_get_record/i);
        expect(causeTexts(err), "the runtime's own text stays in the cause chain").to.match(/wrong[ _]version[ _]number|InvalidContentType|does the server speak TLS/i);
      }
      await conn.close();
      expect(await cluster.requests(), "no HTTP request was made").to.deep.equal([]);
    });

    it("says the same on a session's socket", async () => {
      const conn = connect(https());
      const err = await expectReject<ConnectionError>(conn.withSession((s) => s.query("INSERT INTO err_tls (id) VALUES (1)")), ConnectionError,
        /did not answer TLS.*use http:\/\//);
      expect(err.message).not.to.match(/may have been executed|session .* is lost/);
      expect(causeTexts(err)).to.match(/wrong[ _]version[ _]number|InvalidContentType|does the server speak TLS/i);
      await conn.close();
    });
  });

  it("a Deno permission denial names the missing --allow-net and is not retried (pooled and session)", async function () {
    if (runtime !== "deno") return notApplicable(this, "network permissions are Deno's");
    this.timeout(30_000);
    const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;
    const dist = `${Deno.cwd()}/dist/deno.js`;
    expect(Deno.statSync(dist).isFile, "dist/deno.js is built").to.equal(true);
    const script = await Deno.makeTempFile({ suffix: ".mjs" });
    try {
      await Deno.writeTextFile(script, `import { connect } from ${JSON.stringify(`file://${dist}`)};
const conn = connect(${JSON.stringify(cluster.urls)});
const out = {};
const record = (e) => ({ name: e.name, message: e.message, server: e.server });
try { await conn.query("INSERT INTO err_perm (id) VALUES (1)"); } catch (e) { out.pooled = record(e); }
try { await conn.withSession((s) => s.query("SELECT 1")); } catch (e) { out.session = record(e); }
await conn.close();
console.log(JSON.stringify(out));
`);
      // No --allow-net: only reading the module is allowed, and no prompt.
      const run = await new Deno.Command(Deno.execPath(), { args: ["run", "--no-prompt", `--allow-read=${dist},${script}`, script], stdout: "piped", stderr: "piped" }).output();
      const stderr = new TextDecoder().decode(run.stderr);
      expect(run.code, stderr).to.equal(0);
      const out = JSON.parse(new TextDecoder().decode(run.stdout)) as Record<string, { name: string; message: string; server?: string }>;
      // The pool rotates: the session's request goes to the second server.
      for (const [what, server] of [["pooled", cluster.urls[0]], ["session", cluster.urls[1]]] as const) {
        const e = out[what];
        const hostPort = (server as string).replace("http://", "");
        expect(e?.name, `${what}: ${JSON.stringify(e)}`).to.equal("NotSupportedError");
        expect(e?.message).to.include(`Deno denied network access to ${hostPort}`);
        expect(e?.message).to.include(`--allow-net=${hostPort}`);
        expect(e?.message).not.to.match(/may have been executed|No more servers|session .* is lost/);
        expect(e?.server).to.equal(server);
      }
      expect(await cluster.requests(), "nothing reached a server").to.deep.equal([]);
    } finally {
      await Deno.remove(script);
    }
  });
});

interface DenoApi {
  cwd(): string;
  execPath(): string;
  statSync(path: string): { isFile: boolean };
  makeTempFile(opts: { suffix: string }): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  remove(path: string): Promise<void>;
  Command: new (cmd: string, opts: { args: string[]; stdout: "piped"; stderr: "piped" }) => { output(): Promise<{ code: number; stdout: Uint8Array; stderr: Uint8Array }> };
}
