// Property test (fast-check, fixed seed, bounded runs): random passwords and tokens over printable ASCII
// (with / # ? @ : space % + & < ' often) and non-ASCII, put in URLs (raw and percent-encoded), in options and (Node)
// in the CLI's environment and arguments, through real requests against the fake cluster with auth and
// through failures (bad URL, 401, unreachable server, TLS, a server echoing the credentials, timeouts,
// 503). No 4-character piece of any secret may appear in any error (message, stack, String, inspect, JSON,
// cause chain), in the inspect or JSON of a Connection, Session, Cursor, RowStream or BlobContainer, in a
// logger call, an onQuery event, a `cratedb-fetch:query` trace event, or the CLI's output.
//
// Why every third character of a secret is a "sentinel" (§¶¤þðæøß¿¡): any 4 characters of a random text
// can also be an honest part of a message ("4200", "http", "ion "), which would fail the property for
// nothing. With a sentinel in every 4-character window, a window found in an output is a leak, and the
// other characters still range over every printable and non-ASCII character. Encoded forms (percent-encoding,
// the base64 of a Basic credential) are looked for by 8-character pieces, which cannot occur by chance.
import { expect } from "chai";
import { connect, type Connection, type ConnectOptions, type QueryEvent } from "cratedb-fetch";
import fc from "fast-check";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle, Fault } from "./support/cluster-api.js";
import { notApplicable, runtime } from "./support/helpers.js";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
// FUZZ_SEED=<seed> replays a failure: fast-check prints the seed and path with every counterexample.
const SEED = Number(env.FUZZ_SEED ?? 20_261_207);
const RUNS = 25;
const CLI_RUNS = 10;

const SENTINELS = [..."§¶¤þðæøß¿¡"];
const SPECIAL = fc.constantFrom(..."/#?@: %+&<'");
const PRINTABLE = fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c));
const LATIN1 = fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c));
const UNICODE = fc.oneof(fc.integer({ min: 0x100, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })).map((c) => String.fromCodePoint(c));

/** A secret of 5–21 code points with a sentinel at every third position (see the file comment). */
function secret(unicode: boolean): fc.Arbitrary<string> {
  const char = unicode
    ? fc.oneof({ weight: 4, arbitrary: PRINTABLE }, { weight: 3, arbitrary: SPECIAL }, { weight: 1, arbitrary: LATIN1 }, { weight: 2, arbitrary: UNICODE })
    : fc.oneof({ weight: 4, arbitrary: PRINTABLE }, { weight: 3, arbitrary: SPECIAL }, { weight: 2, arbitrary: LATIN1 });
  return fc.tuple(fc.array(char, { minLength: 3, maxLength: 14 }), fc.nat(SENTINELS.length - 1)).map(([chars, first]) => {
    const out: string[] = [];
    for (const c of chars) {
      if (out.length % 3 === 0) out.push(SENTINELS[(first + out.length) % SENTINELS.length] as string);
      out.push(c);
    }
    return out.join("");
  });
}
/** Passwords may hold any character; tokens travel in a header, so Latin-1 (a non-Latin-1 token is refused at connect). */
const PASSWORD = secret(true);
const TOKEN = secret(false);

// Users and tokens the fake cluster accepts: fixed by the seed, so the property can use right and wrong ones.
const USERS = fc.sample(PASSWORD, { seed: SEED, numRuns: 6 });
const TOKENS = fc.sample(TOKEN, { seed: SEED + 1, numRuns: 6 });
const userName = (i: number): string => `user${i}`;

function base64(text: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** As an HTML page shows a text (a proxy's error page echoing the request). */
const html = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");

function windows(text: string, n: number): string[] {
  const cps = [...text];
  if (cps.length < n) return [];
  const out: string[] = [];
  for (let i = 0; i + n <= cps.length; i++) out.push(cps.slice(i, i + n).join(""));
  return out;
}

/** Every piece of a secret (and of its encoded forms) that must not appear anywhere. */
function pieces(secrets: readonly string[], users: readonly string[]): string[] {
  const out = new Set<string>();
  for (const s of secrets) {
    if ([...s].length < 4) continue;
    const escaped = [JSON.stringify(s).slice(1, -1), s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")];
    for (const form of [s, ...escaped]) for (const w of windows(form, 4)) if (SENTINELS.some((c) => w.includes(c))) out.add(w);
    for (const form of [encodeURIComponent(s), ...users.map((u) => base64(`${u}:${s}`)), base64(s)]) for (const w of windows(form, 8)) out.add(w);
  }
  return [...out];
}

function expectClean(texts: readonly string[], secrets: readonly string[], users: readonly string[]): void {
  // One pass over each text, looking up every substring of a piece's length (thousands of pieces, long texts).
  const bad = new Set(pieces(secrets, users));
  const lengths = [...new Set([...bad].map((p) => p.length))];
  for (const text of texts) {
    for (let i = 0; i < text.length; i++) {
      for (const n of lengths) {
        const piece = text.slice(i, i + n);
        if (bad.has(piece)) expect.fail(`a piece of a secret (${JSON.stringify(piece)}) appears in: ${text.slice(Math.max(0, i - 300), i + 300)}`);
      }
    }
  }
}

const safeJson = (v: unknown): string => {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)) ?? "";
  } catch (err) {
    return `unserialisable: ${String(err)}`;
  }
};

type Inspect = (v: unknown) => string;
/** The runtime's own inspect (what console.log prints), where there is one. */
const inspect: Inspect | undefined = (() => {
  const g = globalThis as unknown as {
    Deno?: { inspect(v: unknown, o: object): string }; Bun?: { inspect(v: unknown, o: object): string };
    process?: { getBuiltinModule?: (id: string) => unknown };
  };
  if (g.Deno !== undefined) return (v) => (g.Deno as { inspect(v: unknown, o: object): string }).inspect(v, { depth: 8, showHidden: true });
  if (g.Bun !== undefined) return (v) => (g.Bun as { inspect(v: unknown, o: object): string }).inspect(v, { depth: 8 });
  const util = g.process?.getBuiltinModule?.("node:util") as { inspect(v: unknown, o: object): string } | undefined;
  return util === undefined ? undefined : (v) => util.inspect(v, { depth: 8, showHidden: true });
})();

/** Every text an object shows: JSON and inspect; for errors also message, String, stack and the cause chain. */
function shown(v: unknown): string[] {
  const out = [safeJson(v)];
  if (inspect !== undefined) out.push(inspect(v));
  for (let e: unknown = v, depth = 0; e instanceof Error && depth < 8; depth++) {
    out.push(String(e), e.message, String(e.stack), safeJson(e));
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

interface TraceChannel {
  subscribe(handlers: Record<string, (ctx: unknown) => void>): void;
  unsubscribe(handlers: Record<string, (ctx: unknown) => void>): void;
}
const tracing = ((): TraceChannel | undefined => {
  try {
    const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
    const dc = proc?.getBuiltinModule?.("node:diagnostics_channel") as { tracingChannel?: (name: string) => TraceChannel } | undefined;
    return dc?.tracingChannel?.("cratedb-fetch:query");
  } catch {
    return undefined;
  }
})();

/** How the secrets reach the connection. */
const HOW = fc.constantFrom("url-raw", "url-encoded", "password-option", "jwt-option", "header-option", "url-string-encoded");
const FAULT = fc.constantFrom("none", "none", "echo-html", "echo-json", "echo-401", "hang", "503");

const ZERO_DIGEST = "0".repeat(40);

describe("Secrets property: no piece of a password or token in any output", function () {
  this.timeout(120_000);
  let cluster: ClusterHandle;
  const traced: string[] = [];
  const handlers: Record<string, (ctx: unknown) => void> = Object.fromEntries(
    ["start", "end", "asyncStart", "asyncEnd", "error"].map((k) => [k, (ctx: unknown) => void traced.push(...shown(ctx), ...shown((ctx as { error?: unknown }).error))]));
  before(async () => {
    cluster = await startCluster({
      nodes: 2,
      auth: { users: Object.fromEntries(USERS.map((p, i) => [userName(i), p])), tokens: Object.fromEntries(TOKENS.map((t, i) => [t, userName(i)])) },
    });
    tracing?.subscribe(handlers);
  });
  after(async () => {
    tracing?.unsubscribe(handlers);
    await cluster?.close();
  });

  it(`connect(), queries, sessions, cursors, streams and blobs (${RUNS} runs, seed ${SEED})`, async () => {
    const scenario = fc.record({
      user: fc.nat(USERS.length - 1), right: fc.boolean(), wrong: PASSWORD, wrongToken: TOKEN, unicodeToken: secret(true),
      how: HOW, fault: FAULT, node: fc.nat(1), discover: fc.boolean(), padding: fc.nat(300),
    });
    await fc.assert(fc.asyncProperty(scenario, async (s) => {
      const user = userName(s.user);
      const password = s.right ? (USERS[s.user] as string) : s.wrong;
      const token = s.right ? (TOKENS[s.user] as string) : s.wrongToken;
      const secrets = [password, token, s.unicodeToken, ...USERS, ...TOKENS];
      const users = [user, ...USERS.map((_p, i) => userName(i))];
      const texts: string[] = [];
      const lines: string[] = [];
      const record = (level: string) => (...args: unknown[]): void => void lines.push(`${level}: ${args.map((a) => (typeof a === "string" ? a : safeJson(a))).join(" ")}`);
      const logger = { debug: record("debug"), info: record("info"), warn: record("warn") };
      const onQuery = (e: QueryEvent): void => void texts.push(safeJson(e), ...shown(e.error));
      const withUser = (url: string, encoded: boolean): string =>
        url.replace(/^(https?:\/\/)/, `$1${user}:${encoded ? encodeURIComponent(password) : password}@`);
      const servers = (urls: string[]): { servers: string | string[]; options: ConnectOptions } => {
        switch (s.how) {
          case "url-raw": return { servers: urls.map((u) => withUser(u, false)), options: {} };
          case "url-encoded": return { servers: urls.map((u) => withUser(u, true)), options: {} };
          case "url-string-encoded": return { servers: urls.map((u) => withUser(u, true)).join(" "), options: {} };
          case "password-option": return { servers: urls, options: { username: user, password } };
          case "jwt-option": return { servers: urls, options: { jwtToken: token } };
          default: return { servers: urls, options: { headers: { authorization: `Bearer ${token}` } } };
        }
      };
      const attempt = async (what: string, fn: () => unknown): Promise<void> => {
        try {
          await fn();
        } catch (err) {
          expect(err, `${what} threw something that is not an Error`).to.be.instanceOf(Error);
          texts.push(...shown(err));
        }
      };
      const open = (urls: string[], extra: ConnectOptions = {}): Connection | undefined => {
        const { servers: list, options } = servers(urls);
        try {
          return connect(list, { ...options, ...extra, logger, onQuery });
        } catch (err) {
          texts.push(...shown(err));
          return undefined;
        }
      };

      // connect() refusals: a bad URL, conflicting options, a token that cannot be a header.
      for (const bad of [`http://${user}:${password}@127.0.0.1:99999`, `ftp://${user}:${password}@h`, `http://${user}:${password}@h/?q=1`,
        `http://${user}:${password}@`, `${user}:${password}@[::1`, `http://${user}:${password}@h:4200 ${user}:${password}@h2`]) {
        await attempt("connect(bad URL)", () => connect([bad], { logger }));
        await attempt("connect(bad URL string)", () => connect(bad, { logger }));
      }
      await attempt("connect(username + jwtToken)", () => connect(cluster.urls, { username: user, password, jwtToken: token }));
      await attempt("connect(non-Latin-1 token)", () => connect(cluster.urls, { jwtToken: s.unicodeToken }));

      // Requests: with a fault on the node asked first, then unreachable and TLS failures.
      // What a server can echo is what this connection sent it: its own credentials.
      const byToken = s.how === "jwt-option" || s.how === "header-option";
      // Padded, so that the secrets also straddle the cuts of excerpts (160 characters) and log lines (200).
      const echo = "x".repeat(s.padding) +
        (byToken ? `Authorization: Bearer ${token}; token=${token}` : `Authorization: Basic ${base64(`${user}:${password}`)}; password=${password}`);
      const faults: Record<string, Fault | undefined> = {
        none: undefined, "503": { kind: "status", status: 503 }, hang: { kind: "hang" },
        "echo-html": { kind: "respond", status: 400, headers: { "content-type": "text/html" }, body: `<html><p>${html(echo.slice(s.padding % 100))}</p><pre>${echo}</pre></html>` },
        "echo-json": { kind: "respond", status: 500, json: { error: { message: `bad request (${echo})`, code: 5000 }, error_trace: echo } },
        "echo-401": { kind: "respond", status: 401, json: { error: { message: `credentials ${byToken ? token : password} rejected`, code: 4011 } } },
      };
      const fault = faults[s.fault];
      await cluster.clearFaults();
      // A hang holds only this run's statements (tagged sec_prop), not the kill's sys.jobs lookup, which close() waits for.
      if (fault !== undefined) await cluster.fault(s.fault === "hang" ? { node: s.node, fault, times: 4, stmt: "sec_prop" } : { node: s.node, fault, times: 4, path: "/" });
      // Discovery (Node, Deno, Bun) sends sys.nodes through the same faults and logs its failures.
      const discover = s.discover && runtime !== "workerd" && runtime !== "browser" ? { discover: { intervalMs: 60_000 } } : {};
      const conn = open(cluster.urls, { ...(s.fault === "hang" ? { timeout: 150 } : {}), ...discover });
      if (conn !== undefined) {
        await attempt("query", () => conn.query("SELECT 1 AS sec_prop"));
        await attempt("write", () => conn.query("INSERT INTO sec_prop (id) VALUES (1)"));
        const cursor = conn.cursor();
        await attempt("cursor", () => cursor.execute("SELECT 1 AS sec_prop"));
        const stream = conn.stream("SELECT 1 AS sec_prop");
        await attempt("stream", async () => {
          for await (const row of stream) void row;
        });
        let session: unknown;
        await attempt("session", async () => {
          const sn = conn.session();
          session = sn;
          await sn.query("SELECT 1 AS sec_prop");
          texts.push(...shown(sn));
          await sn.close();
        });
        const blobs = conn.getBlobContainer("sec_blobs");
        await attempt("blob", () => blobs.exists(ZERO_DIGEST));
        for (const o of [conn, cursor, stream, session, blobs]) texts.push(...shown(o));
        await conn.close();
        texts.push(...shown(conn));
      }
      await cluster.clearFaults();
      for (const urls of [["http://127.0.0.1:1"], cluster.urls.map((u) => u.replace("http://", "https://"))]) {
        const c = open(urls, { timeout: 2_000 });
        if (c === undefined) continue;
        await attempt("unreachable / TLS", () => c.query("SELECT 1"));
        await c.close();
      }
      expectClean([...texts, ...lines, ...traced], secrets, users);
      traced.length = 0;
    }), { seed: SEED, numRuns: RUNS, endOnFailure: true });
  });

  it(`the CLI's output, with secrets in its environment and arguments (${CLI_RUNS} runs, seed ${SEED})`, async function () {
    if (runtime !== "node") return notApplicable(this, "the CLI is a Node program (dist/cli.js); it is spawned as a child process");
    const proc = globalThis.process as unknown as { getBuiltinModule(id: string): unknown; execPath: string; cwd(): string; env: Record<string, string> };
    type ExecFile = (file: string, args: string[], opts: object, cb: (err: unknown, stdout: string, stderr: string) => void) => void;
    const { execFile } = proc.getBuiltinModule("node:child_process") as { execFile: ExecFile };
    const cli = (args: string[], vars: Record<string, string>): Promise<string> => new Promise((resolve) => {
      execFile(proc.execPath, [`${proc.cwd()}/dist/cli.js`, ...args], { env: { PATH: proc.env.PATH ?? "", HOME: proc.cwd(), ...vars }, timeout: 20_000 },
        (_err, stdout, stderr) => resolve(`${stdout}\n${stderr}`));
    });
    const scenario = fc.record({
      user: fc.nat(USERS.length - 1), right: fc.boolean(), wrong: PASSWORD, encoded: fc.boolean(), dead: fc.boolean(),
      how: fc.constantFrom("env-password", "hosts-url", "env-url", "stray-argument"),
    });
    await fc.assert(fc.asyncProperty(scenario, async (s) => {
      const user = userName(s.user);
      const password = s.right ? (USERS[s.user] as string) : s.wrong;
      const base = s.dead ? "http://127.0.0.1:1" : (cluster.urls[0] as string);
      const url = base.replace("http://", `http://${user}:${s.encoded ? encodeURIComponent(password) : password}@`);
      const run = {
        "env-password": () => cli(["--hosts", base, "-U", user, "-v", "-c", "SELECT 1"], { CRATEDB_PASSWORD: password }),
        "hosts-url": () => cli(["--hosts", url, "-v", "-c", "SELECT 1"], {}),
        "env-url": () => cli(["-v", "-c", "SELECT 1"], { CRATEDB_URL: url }),
        // An unquoted URL with a space in its password: the shell makes it two arguments.
        "stray-argument": () => cli(["--hosts", ...url.split(" "), "-c", "SELECT 1"], {}),
      }[s.how];
      expectClean([await run()], [password, ...USERS], [user]);
    }), { seed: SEED, numRuns: CLI_RUNS, endOnFailure: true });
  });
});
