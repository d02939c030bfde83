import { expect } from "chai";
import { OperationalError, connect } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { decodeBasic, expectReject } from "./support/helpers.js";

describe("Authentication", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster({
      nodes: 2,
      auth: { users: { alice: "p@ss:wörd", bob: "", carol: "c-secret" }, tokens: { "jwt-token-123": "carol" } },
    });
  });
  after(async () => cluster?.close());
  beforeEach(async () => cluster.resetLog());

  it("sends Basic user:password from the options", async () => {
    const conn = connect(cluster.urls, { username: "alice", password: "p@ss:wörd" });
    expect((await conn.query("SELECT current_user")).rows).to.deep.equal([["alice"]]);
    expect(decodeBasic((await cluster.requests())[0]?.headers.authorization)).to.equal("alice:p@ss:wörd");
    await conn.close();
  });

  it("sends 'user:' for a user without a password", async () => {
    const conn = connect(cluster.urls, { username: "bob" });
    expect((await conn.query("SELECT current_user")).rows).to.deep.equal([["bob"]]);
    expect(decodeBasic((await cluster.requests())[0]?.headers.authorization)).to.equal("bob:");
    await conn.close();
  });

  it("sends Bearer with jwtToken", async () => {
    const conn = connect(cluster.urls, { jwtToken: "jwt-token-123" });
    expect((await conn.query("SELECT current_user")).rows).to.deep.equal([["carol"]]);
    expect((await cluster.requests())[0]?.headers.authorization).to.equal("Bearer jwt-token-123");
    await conn.close();
  });

  it("sends no Authorization header without a user", async () => {
    const conn = connect(cluster.urls);
    await expectReject(conn.query("SELECT 1"), OperationalError, /401/);
    expect((await cluster.requests())[0]?.headers.authorization).to.equal(undefined);
    await conn.close();
  });

  it("uses percent-decoded URL credentials per server", async () => {
    const [a, b] = cluster.urls.map((u) => u.replace("http://", "")) as [string, string];
    const conn = connect([`http://alice:p%40ss%3Aw%C3%B6rd@${a}`, `http://carol:c-secret@${b}`]);
    expect((await conn.query("SELECT current_user")).rows).to.deep.equal([["alice"]]);
    expect((await conn.query("SELECT current_user")).rows).to.deep.equal([["carol"]]);
    const seen = await cluster.requests();
    expect(seen.map((r) => decodeBasic(r.headers.authorization))).to.deep.equal(["alice:p@ss:wörd", "carol:c-secret"]);
    await conn.close();
  });

  it("ignores URL credentials entirely when the username option is given", async () => {
    const conn = connect(`http://alice:wrong@${cluster.urls[0]?.replace("http://", "")}`, { username: "bob" });
    expect((await conn.query("SELECT current_user")).rows).to.deep.equal([["bob"]]);
    await conn.close();
  });

  it("lets the password option win over a URL password", async () => {
    const conn = connect(`http://alice:wrong@${cluster.urls[0]?.replace("http://", "")}`, { password: "p@ss:wörd" });
    expect((await conn.query("SELECT current_user")).rows).to.deep.equal([["alice"]]);
    await conn.close();
  });

  it("never shows credentials in servers, activeServers or error messages", async () => {
    const url = `http://alice:hunter2secret@${cluster.urls[0]?.replace("http://", "")}`;
    const conn = connect(url, { jwtToken: "jwt-token-123" });
    expect(JSON.stringify([conn.servers, conn.activeServers])).not.to.include("hunter2secret");
    const down = connect("http://alice:hunter2secret@127.0.0.1:1", { username: "u", password: "pw-hunter3" });
    const err = await expectReject<Error>(down.query("SELECT 1"), Error);
    expect(`${err.message} ${String(err)} ${err.stack} ${String((err as { server?: string }).server)}`).not.to.match(/hunter2secret|pw-hunter3/);
    await conn.close();
  });
});
