import { expect } from "chai";
import { InterfaceError, NotSupportedError, connect, type ConnectOptions } from "cratedb-fetch";
import { discoveredServer, restUrlAuthority } from "../lib/discover.js";
import { kit } from "../lib/kit.js";
import { ServerPool } from "../lib/pool.js";
import { parseServer } from "../lib/servers.js";
import { clusterPerSuite, nodesSeen as seenBy, startCluster, withCluster } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { decodeBasic, expectThrow, keepsSockets, notApplicable, runtime, sleep } from "./support/helpers.js";

const webOnly = runtime === "browser" || runtime === "workerd";
const DISCOVERY = "sys.nodes";

/** Polls until `cond` holds (discovery runs in the background). */
async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe("Node discovery: rest_url parsing", () => {
  it("brackets an unbracketed IPv6 host by splitting on the last colon", () => {
    expect(restUrlAuthority("fe80::1:4200")).to.equal("[fe80::1]:4200");
    expect(restUrlAuthority("::1:4200")).to.equal("[::1]:4200");
    expect(restUrlAuthority("2001:db8::7:4201")).to.equal("[2001:db8::7]:4201");
  });

  it("keeps IPv4 and already bracketed hosts, and takes the IP of a hostname/ip:port form", () => {
    expect(restUrlAuthority("10.0.0.5:4200")).to.equal("10.0.0.5:4200");
    expect(restUrlAuthority("[::1]:4200")).to.equal("[::1]:4200");
    expect(restUrlAuthority("crate-1/10.0.0.5:4200")).to.equal("10.0.0.5:4200");
  });

  it("rejects what is not host:port", () => {
    for (const bad of ["", "4200", ":4200", "10.0.0.5", "10.0.0.5:", "10.0.0.5:http", "10.0.0.5:0", "10.0.0.5:65536", "a b:4200"]) {
      expect(restUrlAuthority(bad), bad).to.equal(undefined);
    }
  });

  it("builds the URL with the seed's scheme, path prefix and credentials", () => {
    const seed = parseServer("https://alice:s%40cret@db.example.com:4443/crate/");
    const found = discoveredServer(kit, "fe80::1:4200", seed);
    expect(found).to.deep.equal({ url: "https://[fe80::1]:4200/crate", https: true });
    expect([found?.username, found?.password], "the seed's credentials, not enumerable").to.deep.equal(["alice", "s@cret"]);
    expect(JSON.stringify(found)).not.to.match(/alice|cret/);
    expect(discoveredServer(kit, "10.0.0.5:4200", parseServer("db:4200"))).to.deep.equal({ url: "http://10.0.0.5:4200", https: false });
    expect(discoveredServer(kit, "fe80::1%eth0:4200", seed), "a zone id cannot be in a URL").to.equal(undefined);
  });
});

describe("Node discovery: adding and removing pool servers", () => {
  it("adds a server after every active one, after the servers due back, and only once", () => {
    let now = 0;
    const pool = new ServerPool(["a", "b", "c"], 100, () => now);
    pool.markFailed("a", "refused");
    expect(pool.next()).to.equal("b");
    now = 100; // a is due back
    pool.add("d");
    pool.add("b");
    pool.add("d");
    expect(pool.activeServers()).to.deep.equal(["c", "b", "a", "d"]);
    expect(pool.size).to.equal(4);
  });

  it("removes active and inactive servers for good (a late markFailed does not bring one back)", () => {
    let now = 0;
    const pool = new ServerPool(["a", "b", "c"], 100, () => now);
    pool.markFailed("b", "refused");
    expect(pool.remove("b")).to.equal(true);
    expect(pool.remove("c")).to.equal(true);
    expect(pool.remove("x")).to.equal(false);
    pool.markFailed("c", "late");
    now = 1000;
    expect(pool.activeServers()).to.deep.equal(["a"]);
    expect(pool.size).to.equal(1);
  });
});

describe("Node discovery: the discover option", () => {
  const bad: Array<[string, unknown]> = [
    ["a string", "yes"], ["a number", 1], ["null", null], ["an array", []], ["intervalMs 0", { intervalMs: 0 }],
    ["a negative intervalMs", { intervalMs: -1 }], ["an infinite intervalMs", { intervalMs: Infinity }],
    ["a NaN intervalMs", { intervalMs: NaN }], ["a string intervalMs", { intervalMs: "5000" }], ["an unknown key", { interval: 5000 }],
  ];
  for (const [what, value] of bad) {
    it(`throws InterfaceError naming the option for ${what}`, () => {
      const err = expectThrow<InterfaceError>(() => connect("http://127.0.0.1:1", { discover: value } as ConnectOptions), InterfaceError);
      expect(err.message).to.include("'discover");
    });
  }

  it("is off by default and with discover: false", () => {
    expect(connect("http://127.0.0.1:1").servers).to.deep.equal(["http://127.0.0.1:1"]);
    expect(connect("http://127.0.0.1:1", { discover: false }).closed).to.equal(false);
  });

  if (webOnly) {
    const name = runtime === "workerd" ? /Cloudflare Workers/ : /browsers/;
    it(`throws NotSupportedError on ${runtime}, naming the option, the runtime and why`, () => {
      for (const options of [{ discover: true }, { discover: { intervalMs: 1000 } }, { discover: true, fetch: globalThis.fetch }] as ConnectOptions[]) {
        const err = expectThrow<NotSupportedError>(() => connect("http://127.0.0.1:1", options), NotSupportedError);
        expect(err.message).to.include("'discover'");
        expect(err.message).to.match(name);
        expect(err.message).to.match(runtime === "workerd" ? /bare IP/ : /private address.*CORS/);
      }
    });
  } else {
    it("accepts true, { intervalMs } and {} (the default interval), also with a custom fetch", () => {
      for (const discover of [true, { intervalMs: 1000 }, {}]) expect(connect("http://127.0.0.1:1", { discover }).closed).to.equal(false);
      expect(connect("http://127.0.0.1:1", { discover: true, fetch: (u, i) => fetch(u, i) }).closed).to.equal(false);
    });
  }
});

describe("Node discovery on a 3-node cluster", () => {
  let cluster: ClusterHandle;
  let urls: string[];
  clusterPerSuite({ nodes: 3 }, (c) => ((cluster = c), (urls = c.urls)), { restartNodes: true });
  beforeEach(function () {
    if (webOnly) notApplicable(this, "discover is not supported here (see the option spec)");
  });

  const nodesSeen = (): Promise<number[]> => seenBy(cluster);
  const discoveries = async (): Promise<number> => (await cluster.requests()).filter((r) => r.body.includes(DISCOVERY)).length;

  it("is off by default: no sys.nodes request, only the given servers", async () => {
    const conn = connect(urls[0] as string);
    await conn.query("SELECT 1");
    await sleep(50);
    expect(await discoveries()).to.equal(0);
    expect(conn.servers).to.deep.equal([urls[0]]);
    await conn.close();
  });

  it("adds every node of sys.nodes (the seed once) and rotates queries over all of them", async () => {
    const conn = connect(urls[0] as string, { discover: true });
    await conn.query("SELECT 1");
    await until(() => conn.servers.length === 3, "three servers");
    expect(conn.servers).to.deep.equal(urls);
    expect(conn.activeServers).to.have.members(urls);
    const seen = await cluster.requests();
    expect(seen.filter((r) => r.body.includes(DISCOVERY)).map((r) => JSON.parse(r.body))).to.deep.equal([{ stmt: "SELECT name, rest_url FROM sys.nodes" }]);
    await cluster.resetLog();
    for (let i = 0; i < 6; i++) await conn.query("SELECT 1");
    expect(await nodesSeen()).to.deep.equal([0, 1, 2, 0, 1, 2]);
    await conn.close();
  });

  it("works through a custom fetch", async function () {
    keepsSockets(this, "requests go through a custom fetch: its keep-alive pool belongs to the runtime");
    const conn = connect(urls[0] as string, { discover: true, fetch: (u, i) => fetch(u, i) });
    await conn.query("SELECT 1");
    await until(() => conn.servers.length === 3, "three servers");
    await conn.close();
  });

  it("drops a stopped node at the next refresh and adds it back once it runs again", async () => {
    const info: string[] = [];
    const conn = connect(urls[0] as string, { discover: { intervalMs: 100 }, logger: { info: (m) => info.push(m) } });
    await conn.query("SELECT 1");
    await until(() => conn.servers.length === 3, "three servers");
    await cluster.stopNode(2);
    await until(() => conn.servers.length === 2, "node 2 dropped");
    expect(conn.servers).to.deep.equal([urls[0], urls[1]]);
    expect(conn.activeServers).not.to.include(urls[2]);
    expect(info).to.include(`server dropped (no longer in sys.nodes): ${urls[2]}`);
    for (let i = 0; i < 4; i++) await conn.query("SELECT 1");
    await cluster.startNode(2);
    await until(() => conn.servers.length === 3, "node 2 back");
    expect(conn.servers).to.deep.equal(urls);
    expect(conn.activeServers).to.include(urls[2]);
    await conn.close();
  });

  it("never drops a seed, even one missing from sys.nodes", async () => {
    const warnings: string[] = [];
    const conn = connect([urls[0] as string, urls[1] as string], { discover: { intervalMs: 50 }, logger: { warn: (m) => warnings.push(m) } });
    await conn.query("SELECT 1");
    await until(() => conn.servers.length === 3, "three servers");
    await cluster.stopNode(0);
    await cluster.stopNode(1);
    await cluster.resetLog();
    await until(() => warnings.some((w) => w.startsWith("server removed")), "a seed taken out");
    await sleep(200); // several refreshes, answered by node 2 alone
    expect(await discoveries()).to.be.greaterThan(1);
    expect(conn.servers).to.deep.equal(urls);
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    await conn.close();
  });

  it("a failed refresh is logged and never fails a query", async () => {
    const warnings: string[] = [];
    await cluster.fault({ node: 0, stmt: DISCOVERY, fault: { kind: "status", status: 500, code: 5000, message: "no sys.nodes for you" } });
    const conn = connect(urls[0] as string, { discover: { intervalMs: 60_000 }, logger: { warn: (m) => warnings.push(m) } });
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    await until(() => warnings.length > 0, "a warning");
    expect(warnings[0]).to.match(/^node discovery failed, keeping the current servers: .*500/);
    expect(conn.servers).to.deep.equal([urls[0]]);
    expect((await conn.query("SELECT 1")).rows).to.deep.equal([[1]]);
    await conn.close();
  });

  it("close() stops the refresh timer: no request after close", async () => {
    const conn = connect(urls[0] as string, { discover: { intervalMs: 30 } });
    await conn.query("SELECT 1");
    await until(() => conn.servers.length === 3, "three servers");
    await conn.close();
    await sleep(20);
    await cluster.resetLog();
    await sleep(150);
    expect(await cluster.requests()).to.deep.equal([]);
  });
});

describe("Node discovery with credentials", () => {
  beforeEach(function () {
    if (webOnly) notApplicable(this, "discover is not supported here (see the option spec)");
  });

  it("uses the seed's URL credentials for discovered nodes and never shows them", async () => {
    await withCluster({ nodes: 3, auth: { users: { alice: "s3cret!" } } }, async (cluster) => {
      const logged: string[] = [];
      const log = (m: string): number => logged.push(m);
      const seed = (cluster.urls[0] as string).replace("http://", "http://alice:s3cret!@");
      const conn = connect(seed, { discover: true, logger: { debug: log, info: log, warn: log } });
      await conn.query("SELECT 1");
      await until(() => conn.servers.length === 3, "three servers");
      expect(conn.servers).to.deep.equal(cluster.urls);
      await cluster.resetLog();
      for (let i = 0; i < 3; i++) await conn.query("SELECT 1");
      const seen = await cluster.requests();
      expect(seen.map((r) => r.node)).to.have.members([0, 1, 2]);
      for (const r of seen) {
        expect(r.user).to.equal("alice");
        expect(decodeBasic(r.headers.authorization)).to.equal("alice:s3cret!");
      }
      const shown = [...conn.servers, ...conn.activeServers, ...logged].join("\n");
      expect(shown).not.to.include("s3cret");
      expect(shown).not.to.include("alice");
      await conn.close();
    });
  });

  it("a node learnt through a redirect gets the asked seed's credentials, not the first seed's", async () => {
    await withCluster({ nodes: 3, auth: { users: { alice: "alice-Pa55", bob: "bob-Pa55" } } }, async (cluster) => {
      const [n0, n1, n2] = cluster.urls as [string, string, string];
      // sys.nodes: seed 0 (alice) answers 503, so it goes to seed 1 (bob), which redirects it to node 2.
      await cluster.fault({ node: 0, stmt: DISCOVERY, fault: { kind: "status", status: 503 } });
      await cluster.fault({ node: 1, stmt: DISCOVERY, fault: { kind: "redirect", status: 307, to: 2 } });
      const conn = connect([n0.replace("http://", "http://alice:alice-Pa55@"), n1.replace("http://", "http://bob:bob-Pa55@")], { discover: true });
      await conn.query("SELECT 1");
      await until(() => conn.servers.length === 3, "three servers");
      expect(conn.servers).to.deep.equal([n0, n1, n2]);
      const discovery = (await cluster.requests()).filter((r) => r.body.includes(DISCOVERY)).map((r) => [r.node, r.status, r.user]);
      expect(discovery, "asked seed 0, then seed 1, answered by node 2 with bob's credentials").to.deep.equal([[0, 503, "alice"], [1, 307, "bob"], [2, 200, "bob"]]);
      await cluster.resetLog();
      for (let i = 0; i < 6; i++) await conn.query("SELECT 1");
      const seen = await cluster.requests(2);
      expect(seen.length, "node 2 is in the rotation").to.be.greaterThan(0);
      expect([...new Set(seen.map((r) => r.user))], "node 2, learnt through bob's seed, is only ever asked as bob").to.deep.equal(["bob"]);
      await conn.close();
    });
  });

  it("a node learnt from an https seed is never contacted over http, even when an http seed is listed first", async () => {
    const tls = await startCluster({ nodes: 2, tls: true, auth: { users: { alice: "alice-Pa55", bob: "bob-Pa55" } } });
    try {
      await withCluster({ nodes: 1, auth: { users: { alice: "alice-Pa55" } } }, async (plain) => {
        const [t0, t1] = tls.urls as [string, string];
        await plain.fault({ node: 0, stmt: DISCOVERY, fault: { kind: "status", status: 503 } });
        await tls.fault({ node: 0, stmt: DISCOVERY, fault: { kind: "redirect", status: 307, to: 1 } });
        const conn = connect([(plain.urls[0] as string).replace("http://", "http://alice:alice-Pa55@"), t0.replace("https://", "https://bob:bob-Pa55@")],
          { discover: true, caCert: (tls.certs as { ca: string }).ca });
        await conn.query("SELECT 1");
        await until(() => conn.servers.length === 3, "three servers");
        expect(conn.servers).to.deep.equal([plain.urls[0], t0, t1]);
        expect(conn.servers.filter((s) => s.startsWith("http://"))).to.deep.equal([plain.urls[0]]);
        await tls.resetLog();
        for (let i = 0; i < 6; i++) await conn.query("SELECT 1");
        const seen = await tls.requests(1);
        expect(seen.length, "node 1 is in the rotation").to.be.greaterThan(0);
        expect(new Set(seen.map((r) => r.user))).to.deep.equal(new Set(["bob"]));
        await conn.close();
      });
    } finally {
      await tls.close();
    }
  });

  it("a failed refresh's warning holds no piece of a secret the server echoed, wherever the log line is cut", async () => {
    const password = "Echo-S3cret-Pass/#@:";
    await withCluster({ nodes: 1, auth: { users: { alice: password } } }, async (cluster) => {
      const warnings: string[] = [];
      for (const pad of [185, 190, 195]) {
        await cluster.fault({ node: 0, stmt: DISCOVERY, fault: { kind: "respond", status: 500, headers: { "content-type": "text/plain" }, body: `${"x".repeat(pad)}${password} was sent` } });
        const conn = connect(cluster.urls[0] as string, { username: "alice", password, discover: true, logger: { warn: (m) => warnings.push(m) } });
        await conn.query("SELECT 1");
        await until(() => warnings.length === [185, 190, 195].indexOf(pad) + 1, "a warning");
        await conn.close();
      }
      for (const w of warnings) {
        expect(w).to.match(/node discovery failed.*500/);
        for (let i = 0; i + 4 <= password.length; i++) expect(w, w).not.to.include(password.slice(i, i + 4));
      }
    });
  });

  it("option credentials beat the seed's URL credentials on discovered nodes too", async () => {
    await withCluster({ nodes: 2, auth: { users: { alice: "a", bob: "b" } } }, async (cluster) => {
      const seed = (cluster.urls[0] as string).replace("http://", "http://alice:a@");
      const conn = connect(seed, { username: "bob", password: "b", discover: true });
      await conn.query("SELECT 1");
      await until(() => conn.servers.length === 2, "two servers");
      await cluster.resetLog();
      for (let i = 0; i < 2; i++) await conn.query("SELECT 1");
      const seen = await cluster.requests();
      expect(seen.map((r) => r.node)).to.have.members([0, 1]);
      for (const r of seen) expect(r.user).to.equal("bob");
      await conn.close();
    });
  });
});
