import { expect } from "chai";
import {
  ConnectionError, CrateDBError, DataError, DatabaseError, IntegrityError, InterfaceError, InternalError,
  NotSupportedError, OperationalError, ProgrammingError, connect,
} from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { expectReject } from "./support/helpers.js";

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
