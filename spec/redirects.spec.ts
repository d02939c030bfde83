import { expect } from "chai";
import { ConnectionError, ProgrammingError, connect } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { decodeBasic, expectReject, notApplicable, runtime } from "./support/helpers.js";

// Page JS sees no redirect: with redirect: "manual" a browser's fetch returns an opaque response instead.
const OPAQUE_REDIRECT = 'page JS cannot follow a redirect itself: fetch with redirect: "manual" gives an opaque redirect (status 0, no Location header)';

describe("Redirects", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster({ nodes: 2, auth: { users: { alice: "secret-a" } } });
  });
  after(async () => cluster?.close());
  beforeEach(async () => {
    await cluster.clearFaults();
    await cluster.resetLog();
  });

  it("follows a 307 to another node with the same method, body and credentials", async function () {
    if (runtime === "browser") return notApplicable(this, OPAQUE_REDIRECT);
    const conn = connect([cluster.urls[0] as string], { username: "alice", password: "secret-a" });
    await cluster.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 1 } });
    expect((await conn.query("SELECT ?", ["moved"])).rows).to.deep.equal([["moved"]]);
    const [first, second] = await cluster.requests();
    expect(first?.status).to.equal(307);
    expect(second).to.include({ node: 1, method: "POST", url: "/_sql?types=true", body: '{"stmt":"SELECT ?","args":["moved"]}' });
    expect(decodeBasic(second?.headers.authorization)).to.equal("alice:secret-a");
    await conn.close();
  });

  it("follows 301, 302, 303 and 308 keeping the method", async function () {
    if (runtime === "browser") return notApplicable(this, OPAQUE_REDIRECT);
    const conn = connect([cluster.urls[0] as string], { username: "alice", password: "secret-a" });
    for (const status of [301, 302, 303, 308]) {
      await cluster.fault({ node: 0, fault: { kind: "redirect", status, to: 1 } });
      expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    }
    const seen = await cluster.requests();
    expect(seen.filter((r) => r.node === 1).map((r) => r.method)).to.deep.equal(["POST", "POST", "POST", "POST"]);
    await conn.close();
  });

  it("gives up after 5 hops with ProgrammingError", async function () {
    if (runtime === "browser") return notApplicable(this, OPAQUE_REDIRECT);
    const conn = connect([cluster.urls[0] as string], { username: "alice", password: "secret-a" });
    await cluster.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 1 }, times: 10 });
    await cluster.fault({ node: 1, fault: { kind: "redirect", status: 307, to: 0 }, times: 10 });
    await expectReject(conn.query("SELECT 1"), ProgrammingError, /Too many redirects/);
    expect(await cluster.requests()).to.have.length(6);
    await conn.close();
  });

  it("does not fail over from a redirect target that is down", async function () {
    if (runtime === "browser") return notApplicable(this, OPAQUE_REDIRECT);
    const conn = connect(cluster.urls, { username: "alice", password: "secret-a" });
    await cluster.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 1 } });
    await cluster.stopNode(1);
    try {
      await expectReject(conn.query("SELECT 1"), ConnectionError, /Redirect target .* not available/);
    } finally {
      await cluster.startNode(1);
    }
    expect((await cluster.requests()).map((r) => r.node)).to.deep.equal([0]);
    await conn.close();
  });

  it("never sends credentials over an https → http downgrade", async function () {
    if (runtime === "browser" || runtime === "workerd") return notApplicable(this, "the test CA cannot be passed to fetch here");
    const tls = await startCluster({ tls: true, auth: { users: { alice: "secret-a" } } });
    const plain = await startCluster();
    try {
      const conn = connect(tls.urls, { username: "alice", password: "secret-a", caCert: tls.certs?.ca });
      await tls.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 0, location: `${plain.urls[0]}/_sql?types=true` } });
      expect((await conn.query("SELECT current_user")).rows).to.deep.equal([["crate"]]);
      const [seen] = await plain.requests();
      expect(seen?.headers.authorization).to.equal(undefined);
      await conn.close();
    } finally {
      await tls.close();
      await plain.close();
    }
  });
});
