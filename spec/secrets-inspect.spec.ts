// Security, by example: a URL whose password holds any character is parsed or refused without any piece of it, and
// the inspect/JSON output of every public object and error shows the servers and state, never a secret.
// (spec/secrets-property.spec.ts looks for the same class with random secrets.)
import { expect } from "chai";
import { InterfaceError, connect, type Connection } from "cratedb-fetch";
import { expectThrow, notApplicable, runtime } from "./support/helpers.js";

const USER = "alice";
const URL_USER = "bob";
const PASSWORD = "S3cr3t-pässwörd!x";
const URL_PASSWORD = "urlP@ss:w0rd/x";
const TOKEN = "tok-9f8e7d6c5b4a3210";
const HEADER_TOKEN = "hdr-secret-0xDEADBEEF";

function basic(user: string, password: string): string {
  let bin = "";
  for (const b of new TextEncoder().encode(`${user}:${password}`)) bin += String.fromCharCode(b);
  return btoa(bin);
}
const SECRETS = [PASSWORD, TOKEN, HEADER_TOKEN].flatMap((s) => [s, encodeURIComponent(s), basic(USER, s)])
  .concat([URL_PASSWORD, encodeURIComponent(URL_PASSWORD), basic(URL_USER, URL_PASSWORD)]);

function expectClean(where: string, texts: readonly string[]): void {
  for (const text of texts) {
    for (const secret of SECRETS) expect(text.includes(secret), `${where} contains a secret (${JSON.stringify(secret)}): ${text.slice(0, 400)}`).to.equal(false);
  }
}

/** Every text an error exposes: message, String(), stack and own fields, down its cause chain. */
function errorTexts(err: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; depth++) {
    out.push(String(e), e.message, String(e.stack), JSON.stringify(e));
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}

const withUrlCredentials = (url: string, password = URL_PASSWORD, user = URL_USER): string =>
  url.replace(/^(https?:\/\/)/, `$1${user}:${encodeURIComponent(password)}@`);

describe("Security: URLs with any password characters, and what inspect and JSON show", () => {
  const inspect = ((): ((v: unknown) => string) | undefined => {
    const g = globalThis as unknown as { Deno?: { inspect(v: unknown, o: object): string }; Bun?: { inspect(v: unknown): string }; process?: { getBuiltinModule?: (id: string) => unknown } };
    if (g.Deno !== undefined) return (v) => (g.Deno as { inspect(v: unknown, o: object): string }).inspect(v, { depth: 10, showHidden: true });
    if (g.Bun !== undefined) return (v) => (g.Bun as { inspect(v: unknown): string }).inspect(v);
    const util = g.process?.getBuiltinModule?.("node:util") as { inspect(v: unknown, o: object): string } | undefined;
    return util === undefined ? undefined : (v) => util.inspect(v, { depth: 10, showHidden: true });
  })();

  it("parses a password holding / # ? @ : space % + and non-ASCII, raw or percent-encoded, or refuses it without any part of it", () => {
    const password = "Zx9/kQ+w8r#a?b@c:d e%zzé";
    for (const url of [`http://admin:${password}@db:4200`, `http://admin:${encodeURIComponent(password)}@db:4200`]) {
      const conn = connect([url]);
      expect(conn.servers).to.deep.equal(["http://db:4200"]);
      void conn.close();
    }
    expect(connect("http://admin:Zx9/kQ+w8r@db:4200").servers).to.deep.equal(["http://db:4200"]);
    for (const bad of [`http://admin:${password}@db:42x0`, `ftp://admin:${password}@db`, `http://admin:${password}@db/?q`, `http://admin:${password}@`,
      `http://admin:${password}@db:4200 x`, `http://admin:bad%FF${password}@db`]) {
      const err = expectThrow<InterfaceError>(() => connect(bad), InterfaceError);
      for (const piece of ["Zx9/", "kQ+w", "w8r#", "admin:"]) expect(err.message, bad).not.to.include(piece);
    }
    expectThrow(() => connect([`http://admin:${password}@db:42x0`]), InterfaceError, /'http:\/\/\*\*\*@db:42x0'/);
  });

  it("util.inspect and JSON.stringify of a Connection, Session, Cursor, RowStream and BlobContainer show servers and state, never a secret", async function () {
    const made: Array<[string, Connection]> = [
      ["URL credentials", connect([withUrlCredentials("http://127.0.0.1:1")])],
      ["password option", connect("http://127.0.0.1:1", { username: USER, password: PASSWORD })],
      ["jwtToken option", connect("http://127.0.0.1:1", { jwtToken: TOKEN })],
      ["Authorization header", connect("http://127.0.0.1:1", { headers: { authorization: `Bearer ${HEADER_TOKEN}` } })],
    ];
    for (const [kind, conn] of made) {
      await conn.query("SELECT 1").catch(() => undefined); // fills the header caches
      const objects: unknown[] = [conn, conn.cursor(), conn.stream("SELECT 1"), conn.getBlobContainer("blobs")];
      if (runtime !== "browser") objects.push(conn.session());
      const texts = objects.flatMap((o) => [JSON.stringify(o), ...(inspect ? [inspect(o)] : []), JSON.stringify({ ...(o as object) })]);
      texts.push(JSON.stringify(Object.keys(conn)));
      expectClean(kind, texts);
      expect(JSON.parse(JSON.stringify(conn)), kind).to.include({ closed: false }).and.to.have.property("sessions").that.is.a("number");
      expect(JSON.parse(JSON.stringify(conn)).servers, kind).to.deep.equal(["http://127.0.0.1:1"]);
      if (inspect !== undefined) expect(inspect(conn)).to.match(/^Connection \{[\s\S]*servers: \[[\s\S]*["']http:\/\/127\.0\.0\.1:1["']/);
      await conn.close();
      expect(JSON.parse(JSON.stringify(conn)).closed).to.equal(true);
    }
    if (inspect === undefined) return notApplicable(this, "no inspect function here (JSON and keys were checked)");
  });

  it("util.inspect of every error (own fields and the cause chain) holds no secret", async function () {
    const conn = connect([withUrlCredentials("http://127.0.0.1:1")], { timeout: 500 });
    const errors: unknown[] = [];
    await conn.query("SELECT 1").catch((e: unknown) => errors.push(e));
    await conn.close();
    try {
      connect(`http://${URL_USER}:${URL_PASSWORD}@h:bad`);
    } catch (e) {
      errors.push(e);
    }
    expect(errors).to.have.length(2);
    expectClean("errors", errors.flatMap((e) => [...errorTexts(e), ...(inspect ? [inspect(e)] : [])]));
    if (inspect === undefined) return notApplicable(this, "no inspect function here (messages, stacks and JSON were checked)");
  });
});
