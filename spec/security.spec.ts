// Security: secrets never leak into errors, logs or server lists on any failure path; credentials are
// never forwarded over an https → http redirect; certificate verification is on unless disabled.
import { expect } from "chai";
import { ConnectionError, CrateDBError, InternalError, OperationalError, ProgrammingError, connect, type Connection, type Logger } from "cratedb-fetch";
import { clusterPerSuite, startCluster } from "./support/cluster.js";
import type { ClusterCerts, ClusterHandle } from "./support/cluster-api.js";
import { expectReject, notApplicable, runtime } from "./support/helpers.js";

const USER = "alice";
const URL_USER = "bob";
const PASSWORD = "S3cr3t-pässwörd!x";
const WRONG_PASSWORD = "Wr0ng-Secret-Pass";
const URL_PASSWORD = "urlP@ss:w0rd/x";
const TOKEN = "tok-9f8e7d6c5b4a3210";
const WRONG_TOKEN = "tok-wrong-0a1b2c3d4e";
const HEADER_TOKEN = "hdr-secret-0xDEADBEEF";

/** The base64 of `user:password` as a Basic header carries it (UTF-8). */
function basic(user: string, password: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(`${user}:${password}`)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Every form in which a secret could show up: plain, percent-encoded, and inside a Basic credential. */
function forms(secret: string, user = USER): string[] {
  return [secret, encodeURIComponent(secret), basic(user, secret)];
}

const SECRETS = [PASSWORD, WRONG_PASSWORD, TOKEN, WRONG_TOKEN, HEADER_TOKEN].flatMap((s) => forms(s))
  .concat(forms(URL_PASSWORD, URL_USER), forms(WRONG_PASSWORD, URL_USER));

const safeJson = (v: unknown): string => {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)) ?? "";
  } catch {
    return "";
  }
};

/** Every text an error exposes: message, String(), stack and own fields, down its cause chain. */
function errorTexts(err: unknown): string[] {
  const out: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== undefined && e !== null && depth < 8; depth++) {
    out.push(String(e));
    if (typeof e === "object") {
      const o = e as { message?: unknown; stack?: unknown; server?: unknown; cause?: unknown };
      out.push(String(o.message), String(o.stack), String(o.server), safeJson(o));
      e = o.cause;
    } else {
      e = undefined;
    }
  }
  return out;
}

function expectClean(where: string, texts: readonly string[]): void {
  for (const text of texts) {
    for (const secret of SECRETS) {
      expect(text.includes(secret), `${where} contains a secret (${JSON.stringify(secret)}): ${text.slice(0, 400)}`).to.equal(false);
    }
  }
}

/** A logger that records every debug/info/warn line. */
function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (...args: unknown[]): void => {
    lines.push(`${level}: ${args.map((a) => (typeof a === "string" ? a : safeJson(a))).join(" ")}`);
  };
  return { lines, logger: { debug: rec("debug"), info: rec("info"), warn: rec("warn") } };
}

/** Runs `fn` (which must reject with `cls`), then checks the error, the log lines and the server lists. */
async function expectCleanFailure(where: string, conn: Connection, lines: readonly string[], fn: () => Promise<unknown>,
  cls: abstract new (...a: never[]) => Error, re?: RegExp): Promise<Error> {
  const err = await expectReject<Error>(fn, cls, re);
  expect(err).to.be.instanceOf(CrateDBError);
  expectClean(`${where}: the error`, errorTexts(err));
  expectClean(`${where}: the log`, lines);
  expectClean(`${where}: servers/activeServers`, [safeJson(conn.servers), safeJson(conn.activeServers)]);
  return err;
}

const hostOf = (url: string): string => url.replace(/^https?:\/\//, "");
const withUrlCredentials = (url: string, password = URL_PASSWORD, user = URL_USER): string =>
  url.replace(/^(https?:\/\/)/, `$1${user}:${encodeURIComponent(password)}@`);

describe("Security: secrets never leak", () => {
  let cluster: ClusterHandle;
  let urls: string[];
  clusterPerSuite({
    nodes: 3,
    auth: { users: { [USER]: PASSWORD, [URL_USER]: URL_PASSWORD }, tokens: { [TOKEN]: USER, [HEADER_TOKEN]: USER } },
  }, (c) => ((cluster = c), (urls = c.urls)), { restartNodes: true });

  /** One connection per way of passing a secret, all with a recording logger. */
  function everyCredentialKind(servers: string[], extra: Parameters<typeof connect>[1] = {}): Array<{ kind: string; conn: Connection; lines: string[] }> {
    const make = (kind: string, s: string[], o: Parameters<typeof connect>[1]) => {
      const { logger, lines } = recorder();
      return { kind, conn: connect(s, { ...extra, ...o, logger }), lines };
    };
    return [
      make("password option", servers, { username: USER, password: PASSWORD }),
      make("URL credentials", servers.map((u) => withUrlCredentials(u)), {}),
      make("jwtToken option", servers, { jwtToken: TOKEN }),
      make("Authorization header option", servers, { headers: { Authorization: `Bearer ${HEADER_TOKEN}` } }),
    ];
  }

  it("refused connections", async () => {
    const dead = ["http://127.0.0.1:1", "http://127.0.0.1:2"];
    for (const { kind, conn, lines } of everyCredentialKind(dead)) {
      await expectCleanFailure(`refused (${kind})`, conn, lines, () => conn.query("SELECT 1"), ConnectionError, /No more servers available/);
      await expectCleanFailure(`refused write (${kind})`, conn, lines, () => conn.query("INSERT INTO sec_t (id) VALUES (1)"), ConnectionError);
      await conn.close();
    }
  });

  it("a node stopped in the middle of the rotation (warn events)", async () => {
    await cluster.stopNode(1);
    for (const { kind, conn, lines } of everyCredentialKind(urls)) {
      const user = kind === "URL credentials" ? URL_USER : USER;
      for (let i = 0; i < 3; i++) expect((await conn.query("SELECT current_user")).rows, kind).to.deep.equal([[user]]);
      expect(lines.some((l) => l.includes("server removed")), `${kind}: the removal was logged`).to.equal(true);
      expectClean(`stopped node (${kind}): the log`, lines);
      expectClean(`stopped node (${kind}): servers`, [safeJson(conn.servers), safeJson(conn.activeServers)]);
      await conn.close();
    }
  });

  it("401 with a wrong password or token", async () => {
    const variants: Array<[string, Parameters<typeof connect>[1], string[]]> = [
      ["wrong password", { username: USER, password: WRONG_PASSWORD }, urls],
      ["wrong URL password", {}, urls.map((u) => withUrlCredentials(u, WRONG_PASSWORD))],
      ["wrong token", { jwtToken: WRONG_TOKEN }, urls],
    ];
    for (const [kind, options, servers] of variants) {
      const { logger, lines } = recorder();
      const conn = connect(servers, { ...options, logger });
      const err = await expectCleanFailure(`401 (${kind})`, conn, lines, () => conn.query("SELECT 1"), OperationalError);
      expect((err as OperationalError).status).to.equal(401);
      await expectCleanFailure(`401 write (${kind})`, conn, lines, () => conn.query("INSERT INTO sec_t (id) VALUES (1)"), OperationalError);
      await conn.close();
    }
  });

  it("503 on every node: failover, warn events and the final ConnectionError", async () => {
    for (const { kind, conn, lines } of everyCredentialKind(urls)) {
      for (let i = 0; i < 3; i++) await cluster.fault({ node: i, fault: { kind: "status", status: 503 } });
      await expectCleanFailure(`503 (${kind})`, conn, lines, () => conn.query("SELECT 1"), ConnectionError, /503/);
      expect(lines.filter((l) => l.includes("server removed")), `${kind}: three removals logged`).to.have.length(3);
      await conn.close();
    }
  });

  it("timeouts, for a read (failover) and for a write (uncertain)", async () => {
    for (const { kind, conn, lines } of everyCredentialKind(urls, { timeout: 100 })) {
      for (let i = 0; i < 3; i++) await cluster.fault({ node: i, fault: { kind: "hang" } });
      await expectCleanFailure(`timeout (${kind})`, conn, lines, () => conn.query("SELECT 1"), ConnectionError, /timed out/);
      await cluster.clearFaults();
      const next = urls.indexOf(conn.activeServers[0] ?? urls[0] as string);
      await cluster.fault({ node: next < 0 ? 0 : next, fault: { kind: "hang" } });
      await expectCleanFailure(`write timeout (${kind})`, conn, lines, () => conn.query("INSERT INTO sec_t (id) VALUES (1)"), ConnectionError, /timed out/);
      await cluster.clearFaults();
      await conn.close();
    }
  });

  it("redirects to a node that is down, and too many redirects", async function () {
    if (runtime === "browser") {
      return notApplicable(this, 'page JS cannot follow a redirect itself: fetch with redirect: "manual" gives an opaque redirect (status 0, no Location header)');
    }
    for (const { kind, conn, lines } of everyCredentialKind([urls[0] as string])) {
      await cluster.stopNode(1);
      await cluster.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 1 } });
      await expectCleanFailure(`redirect to a dead node (${kind})`, conn, lines, () => conn.query("SELECT 1"), ConnectionError, /Redirect target/);
      await cluster.startNode(1);
      await cluster.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 1 }, times: 10 });
      await cluster.fault({ node: 1, fault: { kind: "redirect", status: 307, to: 0 }, times: 10 });
      await expectCleanFailure(`redirect loop (${kind})`, conn, lines, () => conn.query("SELECT 1"), ProgrammingError, /Too many redirects/);
      await cluster.clearFaults();
      await conn.close();
    }
  });

  it("TLS failure (untrusted certificate)", async () => {
    const tls = await startCluster({ nodes: 2, tls: true, auth: { users: { [USER]: PASSWORD }, tokens: { [TOKEN]: USER } } });
    try {
      for (const { kind, conn, lines } of everyCredentialKind(tls.urls)) {
        await expectCleanFailure(`TLS (${kind})`, conn, lines, () => conn.query("SELECT 1"), ConnectionError);
        await conn.close();
      }
    } finally {
      await tls.close();
    }
  });

  describe("a server or proxy that reflects the credentials in its answer", () => {
    const reflected = `Authorization: Basic ${basic(USER, PASSWORD)}; user=${USER}; password=${PASSWORD}`;
    const cases: Array<[string, Parameters<typeof connect>[1], () => Parameters<ClusterHandle["fault"]>[0]["fault"], abstract new (...a: never[]) => Error]> = [
      ["an HTML 400 page echoing the request headers", { username: USER, password: PASSWORD },
        () => ({ kind: "respond", status: 400, headers: { "content-type": "text/html" }, body: `<html><body><pre>${reflected}</pre></body></html>` }), ProgrammingError],
      ["a JSON error message quoting the credentials", { username: USER, password: PASSWORD },
        () => ({ kind: "respond", status: 500, json: { error: { message: `bad request (${reflected})`, code: 5000 } } }), InternalError],
      ["a non-JSON 200 body echoing the request", { username: USER, password: PASSWORD },
        () => ({ kind: "respond", status: 200, headers: { "content-type": "text/plain" }, body: `echo: ${reflected}` }), ProgrammingError],
      ["a 401 message quoting the bearer token", { jwtToken: TOKEN },
        () => ({ kind: "respond", status: 401, json: { error: { message: `token ${TOKEN} expired`, code: 4011 } } }), OperationalError],
    ];
    for (const [what, options, fault, cls] of cases) {
      it(what, async () => {
        const { logger, lines } = recorder();
        const conn = connect([urls[0] as string], { ...options, logger });
        await cluster.fault({ node: 0, fault: fault() });
        await expectCleanFailure(what, conn, lines, () => conn.query("SELECT 1"), cls);
        await conn.close();
      });
    }
  });

  it("the server lists never hold URL credentials, before and after failures", () => {
    const conn = connect([withUrlCredentials("http://127.0.0.1:1"), withUrlCredentials("https://[::1]:4300/crate/"), `${URL_USER}:${encodeURIComponent(URL_PASSWORD)}@${hostOf(urls[0] as string)}`]);
    expect(conn.servers).to.deep.equal(["http://127.0.0.1:1", "https://[::1]:4300/crate", urls[0]]);
    expectClean("servers", [safeJson(conn.servers), safeJson(conn.activeServers)]);
    void conn.close();
  });
});

describe("Security: credentials over redirects and certificate verification", function () {
  let tls: ClusterHandle;
  let plain: ClusterHandle;
  let certs: ClusterCerts;
  before(async () => {
    tls = await startCluster({ nodes: 2, tls: true, auth: { users: { [USER]: PASSWORD }, tokens: { [TOKEN]: USER, [HEADER_TOKEN]: USER } } });
    plain = await startCluster();
    certs = tls.certs as ClusterCerts;
  });
  after(async () => {
    await tls?.close();
    await plain?.close();
  });
  beforeEach(async function () {
    if (runtime === "browser" || runtime === "workerd") return notApplicable(this, "fetch here takes no TLS options, so the test CA cannot be trusted");
    await tls.clearFaults();
    await tls.resetLog();
    await plain.resetLog();
  });

  const kinds: Array<[string, (u: string[]) => Connection]> = [
    ["password option", (u) => connect(u, { username: USER, password: PASSWORD, caCert: certs.ca })],
    ["URL credentials", (u) => connect(u.map((x) => withUrlCredentials(x, PASSWORD, USER)), { caCert: certs.ca })],
    ["jwtToken option", (u) => connect(u, { jwtToken: TOKEN, caCert: certs.ca })],
    ["Authorization header option", (u) => connect(u, { headers: { authorization: `Bearer ${HEADER_TOKEN}` }, caCert: certs.ca })],
  ];
  for (const [kind, make] of kinds) {
    it(`does not forward ${kind} credentials on an https → http redirect`, async () => {
      const conn = make(tls.urls);
      await tls.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 0, location: `${plain.urls[0]}/_sql?types=true` } });
      expect((await conn.query("SELECT current_user")).rows).to.deep.equal([["crate"]]);
      const [seen] = await plain.requests();
      expect(seen?.headers.authorization, "no Authorization over http").to.equal(undefined);
      expect(seen?.url).to.equal("/_sql?types=true");
      await conn.close();
    });
  }

  it("keeps credentials https → https and drops them at the first https → http hop", async () => {
    const conn = connect(tls.urls, { username: USER, password: PASSWORD, caCert: certs.ca });
    await tls.fault({ node: 0, fault: { kind: "redirect", status: 307, to: 1 } });
    await tls.fault({ node: 1, fault: { kind: "redirect", status: 308, to: 1, location: `${plain.urls[0]}/_sql?types=true` } });
    expect((await conn.query("SELECT current_user")).rows).to.deep.equal([["crate"]]);
    const hops = await tls.requests();
    expect(hops.map((r) => [r.node, r.status, r.user])).to.deep.equal([[0, 307, USER], [1, 308, USER]]);
    expect((await plain.requests()).map((r) => r.headers.authorization)).to.deep.equal([undefined]);
    await conn.close();
  });

  it("verifies certificates by default: without caCert nothing reaches the server, reads and writes fail", async () => {
    for (const options of [{}, { verifySslCert: true }, { caCert: certs.otherCa }]) {
      const conn = connect(tls.urls, { username: USER, password: PASSWORD, ...options });
      await expectReject(conn.query("SELECT 1"), ConnectionError, /certificate|self[- ]signed|issuer|verify/i);
      await expectReject(conn.query("INSERT INTO sec_tls (id) VALUES (1)"), ConnectionError, /No more servers available/);
      await conn.close();
    }
    expect(await tls.requests(), "no HTTP request was sent over an unverified connection").to.deep.equal([]);
    expect((await tls.stats()).tables["doc.sec_tls"]).to.equal(undefined);
  });

  it("skips verification only when explicitly disabled", async () => {
    const conn = connect(tls.urls, { username: USER, password: PASSWORD, verifySslCert: false });
    expect((await conn.query("SELECT current_user")).rows).to.deep.equal([[USER]]);
    await conn.close();
  });
});
