import { expect } from "chai";
import { ConnectionError, connect } from "cratedb-fetch";
import { CrateDBDialect } from "cratedb-fetch/kysely";
import { Kysely } from "kysely";
import { clusterPerSuite, withCluster } from "./support/cluster.js";
import type { ClusterHandle, Fault } from "./support/cluster-api.js";
import { expectReject, notApplicable, runtime, sleep } from "./support/helpers.js";
import { waitForKill } from "./support/sessions.js";

const MARKER = /\n\/\* cratedb-fetch:([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}) \*\/$/;

describe("Server-side cancellation: an aborted or timed-out statement is killed on the server", () => {
  let cluster: ClusterHandle;
  let urls: string[];
  clusterPerSuite({ nodes: 1 }, (c) => {
    cluster = c;
    urls = c.urls;
  });

  const bodies = async (): Promise<Array<{ stmt: string; args?: unknown[] }>> =>
    (await cluster.requests()).map((r) => JSON.parse(r.body) as { stmt: string; args?: unknown[] });

  it("abort of a read: rejects with the signal's reason at once, and the job is KILLed within 1 s", async () => {
    const conn = connect(urls);
    await cluster.fault({ node: 0, fault: { kind: "job", ms: 10_000 }, stmt: "FROM slow_read" });
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(new Error("user left the page")), 150);
    await expectReject(conn.query("SELECT * FROM slow_read", [], { signal: ac.signal }), Error, /user left the page/);
    expect(Date.now() - started, "the caller does not wait for the kill").to.be.below(600);
    const job = await waitForKill(cluster, "slow_read");
    expect(job.stmt).to.match(MARKER);
    expect(job.stmt.startsWith("SELECT * FROM slow_read\n")).to.equal(true);
    const sent = await bodies();
    const lookup = sent.find((b) => b.stmt.includes("sys.jobs"));
    expect(lookup?.stmt).to.equal("SELECT id FROM sys.jobs WHERE strpos(stmt, concat('/* cratedb-fetch:', ?, ' */')) > 0");
    expect(lookup?.args).to.deep.equal([MARKER.exec(job.stmt)?.[1]]);
    expect(sent.find((b) => b.stmt === "KILL ?")?.args).to.deep.equal([job.id]);
    await conn.close();
  });

  it("timeout of a write: ConnectionError 'timed out', the job is KILLed, the write never runs and is not re-sent", async () => {
    const conn = connect(urls, { timeout: 300 });
    await conn.query("CREATE TABLE IF NOT EXISTS cancel_w (id INT)");
    await cluster.resetLog();
    await cluster.fault({ node: 0, fault: { kind: "job", ms: 5_000 }, stmt: "INSERT INTO cancel_w" });
    await expectReject(conn.query("INSERT INTO cancel_w (id) VALUES (1)"), ConnectionError, /timed out/);
    const job = await waitForKill(cluster, "INSERT INTO cancel_w");
    expect(job.stmt).to.match(MARKER);
    await sleep(100);
    expect((await cluster.stats()).tables["doc.cancel_w"] ?? [], "killed before it executed").to.deep.equal([]);
    expect((await bodies()).filter((b) => b.stmt.startsWith("INSERT"))).to.have.length(1);
    await conn.close();
  });

  it("a per-request timeout and a bulk request are killed alike", async () => {
    const conn = connect(urls);
    await cluster.fault({ node: 0, fault: { kind: "job", ms: 5_000 }, stmt: "FROM slow_t" });
    await expectReject(conn.query("SELECT * FROM slow_t", [], { timeout: 200 }), ConnectionError, /timed out/);
    await waitForKill(cluster, "FROM slow_t");
    await cluster.fault({ node: 0, fault: { kind: "job", ms: 5_000 }, stmt: "INTO slow_bulk" });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("stop")), 100);
    await expectReject(conn.bulk("INSERT INTO slow_bulk (id) VALUES (?)", [[1], [2]], { signal: ac.signal }), Error, /stop/);
    await waitForKill(cluster, "INTO slow_bulk");
    await conn.close();
  });

  it("a read that timed out on one node is killed there, and its retry on the next node carries a marker of its own", async () => {
    await withCluster({ nodes: 2 }, async (two) => {
      const conn = connect(two.urls, { timeout: 300, retryOnTimeout: true });
      await two.fault({ node: 0, fault: { kind: "job", ms: 5_000 }, stmt: "retried_read" });
      expect((await conn.query("SELECT 'retried_read'")).rows).to.deep.equal([["retried_read"]]);
      const job = await waitForKill(two, "retried_read");
      const sent = (await two.requests()).filter((r) => r.body.includes("retried_read"));
      expect(sent.map((r) => r.node)).to.deep.equal([0, 1]);
      const markers = sent.map((r) => MARKER.exec((JSON.parse(r.body) as { stmt: string }).stmt)?.[1]);
      expect(markers[0]).to.be.a("string");
      expect(markers[1]).to.be.a("string").and.not.equal(markers[0]);
      expect((await two.jobs()).find((j) => j.id === job.id)?.node).to.equal(0);
      expect((await two.kills()).map((k) => k.jobId)).to.deep.equal([job.id]);
      await conn.close();
    });
  });

  it("with compress, a read that timed out on one node is killed there at once although its retry on the next node succeeds", async () => {
    await withCluster({ nodes: 2 }, async (two) => {
      const conn = connect(two.urls, { timeout: 300, retryOnTimeout: true, compress: true });
      await two.fault({ node: 0, fault: { kind: "job", ms: 5_000 }, stmt: "gz_retried" });
      expect((await conn.query("SELECT 'gz_retried'")).rows).to.deep.equal([["gz_retried"]]);
      const job = await waitForKill(two, "gz_retried");
      const sent = (await two.requests()).filter((r) => r.body.includes("gz_retried"));
      expect(sent.map((r) => r.node)).to.deep.equal([0, 1]);
      expect(sent.every((r) => r.headers["content-encoding"] === "gzip"), "both attempts gzipped").to.equal(true);
      const markers = sent.map((r) => MARKER.exec((JSON.parse(r.body) as { stmt: string }).stmt)?.[1]);
      expect(markers[1]).to.be.a("string").and.not.equal(markers[0]);
      expect((await two.kills()).map((k) => k.jobId)).to.deep.equal([job.id]);
      await conn.close();
    });
  });

  it("a read re-sent after a reset on one node and timed out on the next is killed where it timed out", async () => {
    await withCluster({ nodes: 2 }, async (two) => {
      const conn = connect(two.urls, { timeout: 300 });
      await two.fault({ node: 0, fault: { kind: "reset-after-headers" }, stmt: "resent_read" });
      await two.fault({ node: 1, fault: { kind: "job", ms: 5_000 }, stmt: "resent_read" });
      await expectReject(conn.query("SELECT 'resent_read'"), ConnectionError, /timed out after 300 ms/);
      const killed = await waitForKill(two, "resent_read");
      const jobs = (await two.jobs()).filter((j) => j.stmt.includes("resent_read"));
      // The first attempt ran and finished on node 0 (its answer was cut off); the second was held on node 1.
      expect(jobs.map((j) => [j.node, j.state, j.held])).to.deep.equal([[0, "done", false], [1, "killed", true]]);
      expect(killed.id).to.equal(jobs[1]?.id);
      expect((await two.kills()).map((k) => [k.jobId, k.node])).to.deep.equal([[killed.id, 1]]);
      await conn.close();
    });
  });

  it("a statement that timed out at a redirect's target is killed, and reported as timed out after it was sent", async function () {
    if (runtime === "browser") notApplicable(this, "the browser follows redirects itself (redirects.spec.ts covers what it shows)");
    await withCluster({ nodes: 2 }, async (two) => {
      const conn = connect(two.urls[0] as string, { timeout: 300 });
      await two.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 1 }, stmt: "redirected_slow" });
      await two.fault({ node: 1, fault: { kind: "job", ms: 5_000 }, stmt: "redirected_slow" });
      await expectReject(conn.query("INSERT INTO redirected_slow (id) VALUES (1)"), ConnectionError,
        /timed out after 300 ms after it was sent: it may have been executed; its job is being killed on the server/);
      const job = await waitForKill(two, "redirected_slow", 2_000);
      expect((await two.jobs()).find((j) => j.id === job.id)?.node).to.equal(1);
      await conn.close();
    });
  });

  describe("the kill gets through when the node that ran the statement fails every lookup and KILL: any other node is asked", () => {
    let two: ClusterHandle;
    clusterPerSuite({ nodes: 2 }, (c) => (two = c));
    const faults: Array<[string, Fault]> = [
      ["a reset before the answer", { kind: "reset-before-headers" }],
      ["503 from the node", { kind: "status", status: 503 }],
      ["a proxy's 502 page", { kind: "html", status: 502 }],
      ["an answer that never comes", { kind: "hang" }],
    ];
    for (const [what, fault] of faults) {
      it(`node 0 answers ${what}`, async () => {
        const needle = `kill_via_other_${fault.kind}`;
        const conn = connect(two.urls, { timeout: 200 });
        await two.fault({ node: 0, fault: { kind: "job", ms: 8_000 }, stmt: needle });
        for (const stmt of ["FROM sys.jobs", "KILL ?"]) await two.fault({ node: 0, fault, stmt, times: 50 });
        await expectReject(conn.query(`SELECT '${needle}'`), ConnectionError, /timed out after 200 ms/);
        // A hang costs the kill's own timeout (1 s) per attempt on node 0.
        const killed = await waitForKill(two, needle, fault.kind === "hang" ? 5_000 : 2_000);
        const seen = await two.requests();
        const job = (await two.jobs()).find((j) => j.id === killed.id);
        expect(job?.node, "the statement ran on node 0").to.equal(0);
        const lookups = seen.filter((r) => r.body.includes("FROM sys.jobs"));
        expect(lookups[0]?.node, "the node that ran it is asked first").to.equal(0);
        expect((await two.kills()).filter((k) => k.found).map((k) => [k.jobId, k.node])).to.deep.equal([[killed.id, 1]]);
        await conn.close();
      });
    }
  });

  it("a statement without signal or timeout is sent byte for byte unchanged", async () => {
    const conn = connect(urls);
    await conn.query("SELECT ? -- trailing comment", [1]);
    const [seen] = await cluster.requests();
    expect(seen?.body).to.equal('{"stmt":"SELECT ? -- trailing comment","args":[1]}');
    await conn.query("SELECT 2", [], { rowMode: "object" });
    expect((await cluster.requests())[1]?.body).to.equal('{"stmt":"SELECT 2","args":[]}');
    await conn.close();
  });

  it("a statement ending in a line comment is sent unmarked; one whose comment ends in a newline is marked, and a finished statement is not killed", async () => {
    const conn = connect(urls);
    const ac = new AbortController();
    expect((await conn.query("SELECT 1 -- one", [], { signal: ac.signal })).rows).to.deep.equal([[1]]);
    expect((await conn.query("SELECT 2 -- two\n", [], { signal: ac.signal })).rows).to.deep.equal([[2]]);
    const [one, two] = await bodies();
    expect(one?.stmt).to.equal("SELECT 1 -- one");
    expect(two?.stmt).to.match(/^SELECT 2 -- two\n\n\/\* cratedb-fetch:[0-9a-f-]{36} \*\/$/);
    ac.abort();
    await sleep(200);
    expect(await cluster.kills()).to.deep.equal([]);
    await conn.close();
  });

  it("a Kysely query aborted by its signal is killed on the server too", async () => {
    const conn = connect(urls);
    const db = new Kysely<{ slow_kysely: { id: number } }>({ dialect: new CrateDBDialect({ connection: conn }) });
    await cluster.fault({ node: 0, fault: { kind: "job", ms: 10_000 }, stmt: "slow_kysely" });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("navigated away")), 100);
    await expectReject(db.selectFrom("slow_kysely").selectAll().execute({ signal: ac.signal }), Error, /navigated away/);
    const job = await waitForKill(cluster, "slow_kysely");
    expect(job.stmt).to.match(/^select \* from "slow_kysely"\n/);
    await conn.close();
  });

  it("killOnAbort: false sends statements unchanged and kills nothing", async () => {
    const conn = connect(urls, { killOnAbort: false, timeout: 200 });
    await cluster.fault({ node: 0, fault: { kind: "job", ms: 1_000 }, stmt: "FROM kept_running" });
    await expectReject(conn.query("SELECT * FROM kept_running"), ConnectionError, /timed out/);
    await sleep(300);
    expect(await cluster.kills()).to.deep.equal([]);
    expect((await bodies())[0]?.stmt).to.equal("SELECT * FROM kept_running");
    await conn.close();
  });
});
