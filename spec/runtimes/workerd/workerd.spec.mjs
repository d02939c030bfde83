// Specs that exist only in the workerd lane: they need the bindings of build/workerd/config.capnp
// (written by spec/runtimes/workerd.mjs), which only a workerd config can provide.
import { expect } from "chai";
import { ConnectionError, connect } from "cratedb-fetch";
import { lane } from "./lane.mjs";

// examples/worker.ts runs as its own worker (service "example") against a fake cluster the lane
// started; the test worker calls it through a service binding.
it("example: worker", async () => {
  const res = await lane.env.EXAMPLE.fetch("http://example/");
  expect(res.status).to.equal(200);
  expect(res.headers.get("content-type")).to.match(/^application\/json/);
  expect(await res.json()).to.deep.equal({ cluster: lane.env.EXAMPLE_CLUSTER_NAME });
});

// The TLS specs cannot run here (fetch in workerd takes no TLS options); this one shows the way
// that works: a network service whose tlsOptions.trustedCertificates holds the CA, used through a
// service binding as the connection's fetch.
describe("workerd: TLS through the network service's tlsOptions", () => {
  /** Completed TLS handshakes and requests the lane's TLS cluster has seen. */
  async function seen() {
    const path = `${lane.env.CRATEDB_FETCH_CONTROL}/clusters/${encodeURIComponent(lane.env.TLS_CLUSTER_ID)}`;
    const stats = await (await fetch(`${path}/stats`)).json();
    const requests = await (await fetch(`${path}/requests`)).json();
    return { handshakes: stats.nodes[0].connectionsOpened, requests: requests.length };
  }

  it("trusts the test CA given as trustedCertificates, and only through that service", async () => {
    const before = await seen();
    const trusted = connect(lane.env.TLS_URL, { fetch: (url, init) => lane.env.TLS_NET.fetch(url, init) });
    expect((await trusted.query("SELECT 1")).rows).to.deep.equal([[1]]);
    await trusted.close();
    const afterTrusted = await seen();
    expect(afterTrusted.requests).to.equal(before.requests + 1);
    expect(afterTrusted.handshakes).to.be.above(before.handshakes);
    // The global outbound trusts the public CAs only, so the certificate check must fail. workerd
    // says only "internal error; reference = …" (its stderr has "invalid peer certificate:
    // UnknownIssuer"), so the spec checks the class and that no request got through the handshake.
    const plain = connect(lane.env.TLS_URL);
    let caught;
    try {
      await plain.query("SELECT 1");
    } catch (err) {
      caught = err;
    }
    expect(caught, "a query through the global outbound must fail").to.be.instanceOf(ConnectionError);
    expect(String(caught?.message)).to.match(/internal error; reference = /);
    expect((await seen()).requests).to.equal(afterTrusted.requests);
    await plain.close();
  });
});
