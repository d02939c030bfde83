import { expect } from "chai";
import { ConnectionError, connect } from "cratedb-fetch";
import { startCluster } from "./support/cluster.js";
import { expectReject, notApplicable, runtime } from "./support/helpers.js";

describe("CORS (browsers)", () => {
  beforeEach(function () {
    if (runtime !== "browser") notApplicable(this, "CORS is enforced by browsers only");
  });

  it("passes a real preflight for Authorization and Default-Schema when CrateDB allows them", async () => {
    const cluster = await startCluster({
      auth: { users: { alice: "cors-pw" } },
      cors: { allowOrigin: "*", allowHeaders: "X-Requested-With,Content-Type,Content-Length,Authorization,Default-Schema" },
    });
    try {
      const conn = connect(cluster.urls, { username: "alice", password: "cors-pw", schema: "web" });
      expect((await conn.query("SELECT current_user")).rows).to.deep.equal([["alice"]]);
      const seen = await cluster.requests(undefined, { preflights: true });
      const preflight = seen.find((r) => r.method === "OPTIONS");
      expect(preflight?.headers["access-control-request-method"]).to.equal("POST");
      expect(preflight?.headers["access-control-request-headers"]).to.include("authorization").and.include("default-schema");
      expect(seen.filter((r) => r.method === "POST")).to.have.length(1);
      await conn.close();
    } finally {
      await cluster.close();
    }
  });

  it("explains the CrateDB settings a browser needs when CORS is disabled", async () => {
    const cluster = await startCluster({ cors: null });
    try {
      const conn = connect(cluster.urls, { username: "crate" });
      const err = await expectReject<ConnectionError>(conn.query("SELECT 1"), ConnectionError, /http\.cors\.enabled: true/);
      expect(err.message).to.match(/http\.cors\.allow-origin/).and.match(/Authorization, Default-Schema/);
      expect(err.message).to.include(location.origin);
      await conn.close();
    } finally {
      await cluster.close();
    }
  });

  it("names every non-safelisted header the client sends in the hint (here Content-Encoding)", async () => {
    const cluster = await startCluster({ cors: null });
    try {
      const conn = connect(cluster.urls, { compress: true, headers: { "X-App": "dash" } });
      const err = await expectReject<ConnectionError>(conn.query("SELECT 1"), ConnectionError, /allow-headers: "X-Requested-With, Content-Type, Content-Length, Authorization, Default-Schema/);
      const allowed = /allow-headers: "([^"]*)"/.exec(err.message)?.[1]?.split(", ") ?? [];
      expect(allowed).to.include.members(["Content-Encoding", "x-app"]);
      expect(allowed).not.to.include.members(["accept"]);
      await conn.close();
    } finally {
      await cluster.close();
    }
  });

  it("explains it as well when Authorization is not an allowed header", async () => {
    const cluster = await startCluster({ cors: { allowOrigin: "*" } });
    try {
      const conn = connect(cluster.urls, { username: "crate" });
      await expectReject(conn.query("SELECT 1"), ConnectionError, /http\.cors\.allow-headers/);
      await conn.close();
    } finally {
      await cluster.close();
    }
  });
});
