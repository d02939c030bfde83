// The cancellation marker (`\n/* cratedb-fetch:<uuid> */`, appended to statements sent with a signal or a
// timeout) must never change what a statement means. A statement that ends inside a block comment, a
// string, a quoted identifier or a line comment is sent byte for byte; every other statement lexes to the
// same tokens with and without its marker. The oracle is the fake server's own lexer (spec/support/fake),
// written apart from the client's, which, like CrateDB's, does not nest block comments.
import { expect } from "chai";
import { ProgrammingError, connect } from "cratedb-fetch";
import fc from "fast-check";
import { clusterPerSuite } from "./support/cluster.js";
import type { ClusterHandle } from "./support/cluster-api.js";
import { tokenize } from "./support/fake/sql-lexer.js";
import { expectReject } from "./support/helpers.js";

const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
/** Fixed by default so that CI is repeatable; FUZZ_SEED=<seed> replays another run. */
const SEED = Number(env?.FUZZ_SEED ?? 20261206);
const MARKER = /\n\/\* cratedb-fetch:[0-9a-f-]{36} \*\/$/;

/** Tokens without positions, or the parse error's text. */
function lex(sql: string): unknown {
  try {
    return tokenize(sql).map((t) => [t.kind, t.value]);
  } catch (err) {
    return `error: ${err instanceof Error ? err.message.replace(/line 1:\d+: /, "") : String(err)}`;
  }
}

/** Ends in code (not in a comment, string or quoted identifier): one more character changes the tokens. */
const inCode = (sql: string): boolean => JSON.stringify(lex(`${sql}x`)) !== JSON.stringify(lex(sql));

describe("The cancellation marker never changes what a statement means", () => {
  let cluster: ClusterHandle;
  clusterPerSuite({ nodes: 1 }, (c) => (cluster = c));

  /** Sends `stmt` with a timeout (so it is cancellable) and returns the statement the server received. */
  async function sent(stmt: string): Promise<string> {
    const conn = connect(cluster.urls, { timeout: 5_000 });
    try {
      await cluster.resetLog();
      await conn.query(stmt).catch(() => undefined);
      const seen = (await cluster.requests()).map((r) => (JSON.parse(r.body) as { stmt: string }).stmt);
      expect(seen, "one statement sent").to.have.length(1);
      return seen[0] as string;
    } finally {
      await conn.close();
    }
  }

  const table: Array<[string, string, boolean]> = [
    ["plain statement", "SELECT 1", true],
    ["trailing semicolon", "SELECT 1;", true],
    ["closed block comment", "SELECT 1 /* c */", true],
    ["line comment ended by a newline", "SELECT 1 -- c\n", true],
    ["string holding comment openers", "SELECT '/* -- '", true],
    ["doubled quotes", "SELECT 'it''s', \"a\"\"b\"", true],
    ["unterminated block comment", "DELETE FROM t /* WHERE id = 42", false],
    ["block comment opened inside a closed one", "SELECT 1 /* a /* b */ /*", false],
    ["unterminated string", "SELECT 'abc", false],
    ["string ending in a doubled quote", "SELECT 'abc''", false],
    ["unterminated quoted identifier", "SELECT \"abc", false],
    ["trailing line comment", "SELECT 1 -- one", false],
    ["line comment holding a comment opener", "SELECT 1 -- /*", false],
    ["escape string with an escaped quote", "SELECT E'a\\'", false],
    ["escape string that reads two ways", "SELECT E'\\'/*'", false],
  ];
  for (const [what, stmt, marked] of table) {
    it(`${marked ? "marks" : "sends byte for byte"}: ${what}`, async () => {
      const got = await sent(stmt);
      if (marked) {
        expect(got.startsWith(stmt) && MARKER.test(got.slice(stmt.length)), JSON.stringify(got)).to.equal(true);
      } else {
        expect(got).to.equal(stmt);
      }
    });
  }

  it("an unterminated comment in a DELETE with a timeout is a syntax error, and no row is deleted", async () => {
    const conn = connect(cluster.urls);
    await conn.query("CREATE TABLE marker_rows (id INT)");
    await conn.query("INSERT INTO marker_rows (id) VALUES (1), (2), (42)");
    await conn.query("REFRESH TABLE marker_rows");
    await expectReject(conn.query("DELETE FROM marker_rows /* WHERE id = 42", [], { timeout: 5_000 }), ProgrammingError, /comment/);
    await expectReject(conn.query("DELETE FROM marker_rows /* WHERE id = 42", [], { signal: new AbortController().signal }), ProgrammingError);
    expect((await conn.query("SELECT count(*) FROM marker_rows")).rows).to.deep.equal([[3]]);
    await conn.close();
  });

  it(`random statements: marked and unmarked lex to the same tokens (fast-check, seed ${SEED})`, async function () {
    this.timeout(60_000);
    const piece = fc.oneof(
      fc.constantFrom("SELECT", " ", "\n", "1", "x", ",", "(", ")", ";", "*", "/", "-", "'", '"', "''", '""', "/*", "*/", "--", "e"),
      fc.stringMatching(/^'[a-z /*\-]{0,4}'$/),
      fc.stringMatching(/^"[a-z /*\-]{0,4}"$/),
      fc.stringMatching(/^\/\*[a-z '"*\-]{0,4}\*\/$/),
      fc.stringMatching(/^--[a-z '"/*]{0,4}\n?$/),
    );
    // Only characters the oracle lexes (no backslash: escape strings are in the table above), so that
    // its only errors are unterminated strings, identifiers and comments.
    const statement = fc.array(piece, { minLength: 1, maxLength: 12 }).map((p) => `SELECT ${p.join("")}`);
    let markedCount = 0;
    await fc.assert(fc.asyncProperty(statement, async (stmt) => {
      const got = await sent(stmt);
      if (got === stmt) {
        // Sent unmarked: only when appending could matter (it ends in a comment, string or identifier,
        // or backslashes make an escape string read two ways).
        const canMark = inCode(stmt) && !stmt.includes("\\");
        expect(canMark, `left unmarked although it ends in code: ${JSON.stringify(stmt)}`).to.equal(false);
        return;
      }
      markedCount++;
      const body = got.slice(0, got.length - (MARKER.exec(got)?.[0].length ?? 0));
      expect(body, "the marker is appended, nothing else changes").to.equal(stmt);
      expect(MARKER.test(got)).to.equal(true);
      expect(lex(got), `tokens of ${JSON.stringify(stmt)}`).to.deep.equal(lex(stmt));
      expect(inCode(stmt), `marked although it does not end in code: ${JSON.stringify(stmt)}`).to.equal(true);
    }), { seed: SEED, numRuns: 150 });
    expect(markedCount, "the property saw marked statements").to.be.above(10);
  });
});
