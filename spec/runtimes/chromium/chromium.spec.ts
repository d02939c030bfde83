// Specs that exist only in the chromium lane: page JavaScript cannot pass TLS options to fetch, so the
// harness (spec/runtimes/chromium.mjs) does what a user's OS or browser trust store does for them: it
// starts Chromium trusting exactly one TLS fake cluster's server key (--ignore-certificate-errors-spki-list),
// and not the key of a second TLS cluster signed by the same (untrusted) test CA.
import { expect } from "chai";
import { ConnectionError, connect } from "cratedb-fetch";

interface LaneTls {
  /** A TLS fake cluster (CORS open to the page) whose server key Chromium was told to trust. */
  trustedUrl: string;
  trustedClusterId: string;
  /** A TLS fake cluster whose key Chromium does not trust. */
  untrustedUrl: string;
  untrustedClusterId: string;
}
const lane = (globalThis as { CHROMIUM_LANE_TLS?: LaneTls }).CHROMIUM_LANE_TLS;
const control = (globalThis as { CRATEDB_FETCH_CONTROL?: string }).CRATEDB_FETCH_CONTROL ?? "";

describe("chromium: TLS through the browser's own trust", () => {
  async function seen(clusterId = lane?.trustedClusterId ?? ""): Promise<{ handshakes: number; requests: number }> {
    const path = `${control}/clusters/${encodeURIComponent(clusterId)}`;
    const stats = (await (await fetch(`${path}/stats`)).json()) as { nodes: Array<{ connectionsOpened: number }> };
    const requests = (await (await fetch(`${path}/requests`)).json()) as unknown[];
    return { handshakes: stats.nodes[0]?.connectionsOpened ?? 0, requests: requests.length };
  }

  it("queries an https:// server the browser trusts, with no TLS option at all", async () => {
    expect(lane, "the lane passes its TLS servers to the page").not.to.equal(undefined);
    const before = await seen();
    const conn = connect((lane as LaneTls).trustedUrl);
    expect(conn.servers[0]).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await conn.query("SELECT ?", ["over TLS"])).rows).to.deep.equal([["over TLS"]]);
    await conn.close();
    const after = await seen();
    expect(after.requests, "the POST reached the TLS node").to.be.at.least(before.requests + 1);
    expect(after.handshakes, "over a TLS connection the node accepted").to.be.above(before.handshakes);
  });

  it("refuses a server whose certificate the browser does not trust: ConnectionError, no request delivered", async () => {
    const { untrustedUrl, untrustedClusterId } = lane as LaneTls;
    const conn = connect(untrustedUrl, { maxRetries: 0 });
    let caught: unknown;
    try {
      await conn.query("SELECT 1");
    } catch (err) {
      caught = err;
    }
    await conn.close();
    expect(caught, "the query must fail").to.be.instanceOf(ConnectionError);
    const { handshakes, requests } = await seen(untrustedClusterId);
    expect(requests, "no HTTP request got past the TLS handshake").to.equal(0);
    expect(handshakes, "no TLS handshake completed").to.equal(0);
  });
});
