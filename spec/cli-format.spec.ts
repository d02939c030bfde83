// The CLI's pure parts (lib/cli/format.ts, lib/cli/input.ts), property-tested with fast-check. They use no Node API,
// so every lane runs them. FUZZ_SEED=<seed> replays a failure (fast-check prints the seed with its counterexample).
import { expect } from "chai";
import fc from "fast-check";
import { csv, display, ms, table } from "../lib/cli/format.js";
import { StatementBuffer } from "../lib/cli/input.js";

const replaySeed = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FUZZ_SEED;
if (replaySeed) fc.configureGlobal({ seed: Number(replaySeed) });

/** A reference RFC 4180 reader: CRLF-terminated records, fields quoted when they hold `"`, `,`, CR or LF. */
function readCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = "";
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error("unterminated quoted field");
        if (text[i] === '"') {
          if (text[i + 1] === '"') (field += '"'), (i += 2);
          else break;
        } else field += text[i++];
      }
      i++;
    } else {
      while (i < text.length && text[i] !== "," && text[i] !== "\r") {
        if (text[i] === '"' || text[i] === "\n") throw new Error(`bare ${JSON.stringify(text[i])} in an unquoted field at ${i}`);
        field += text[i++];
      }
    }
    record.push(field);
    if (text[i] === ",") i++;
    else if (text.startsWith("\r\n", i)) (records.push(record), (record = []), (i += 2));
    else throw new Error(`expected , or CRLF at ${i}`);
  }
  if (record.length > 0) throw new Error("last record not ended by CRLF");
  return records;
}

const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constantFrom('"', ",", "\r\n", "\n", "\r", '""', " ", "a,b"));
const rowsOf = (cols: number) => fc.array(fc.array(fc.option(text, { nil: null }), { minLength: cols, maxLength: cols }), { maxLength: 6 });

describe("CLI formatting and statement splitting (properties)", () => {
  it("CSV is RFC 4180: a reader gets every field back (NULL as empty), every record ends with CRLF, nothing follows", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(fc.array(text, { minLength: n, maxLength: n }), rowsOf(n))), ([cols, rows]) => {
      const out = csv(cols, rows);
      expect(readCsv(out)).to.deep.equal([cols, ...rows.map((r) => r.map((v) => v ?? ""))]);
    }));
  });

  it("a table keeps each row on one line: no control character reaches the terminal", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 4 }).chain((n) => fc.tuple(fc.array(text, { minLength: n, maxLength: n }), rowsOf(n))), ([cols, rows]) => {
      const lines = table(cols, rows).split("\n");
      expect(lines).to.have.length(rows.length + 3);
      // eslint-disable-next-line no-control-regex
      for (const line of lines) expect(/[\u0000-\u001f\u007f-\u009f]/.test(line), JSON.stringify(line)).to.equal(false);
    }));
  });

  it("numeric columns are right-aligned whatever they decoded to (BIGINT as exact text included)", () => {
    fc.assert(fc.property(fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: 1, maxLength: 6 }), (values) => {
      const lines = table(["n"], values.map((v) => [v.toString()]), [10]).split("\n").slice(2, -1);
      const width = Math.max(1, ...values.map((v) => v.toString().length));
      expect(lines).to.deep.equal(values.map((v) => v.toString().padStart(width)));
    }));
  });

  it("TIMESTAMP and DATE values (also in arrays) show as ISO 8601 UTC; other types are untouched", () => {
    fc.assert(fc.property(fc.integer({ min: -8_640_000_000_000, max: 8_640_000_000_000 }), (epoch) => {
      const iso = new Date(epoch).toISOString();
      expect(display(epoch, 11)).to.equal(iso);
      expect(display(epoch, 15)).to.equal(iso);
      expect(display(String(epoch), 11), "int64 as text").to.equal(iso);
      expect(display(epoch, 24)).to.equal(iso.slice(0, iso.indexOf("T")));
      expect(display([epoch, null], [100, 11])).to.deep.equal([iso, null]);
      expect(display(epoch, 10)).to.equal(epoch);
    }));
  });

  it("durations read as people write them: at most two decimals, seconds from 1000 ms", () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1e7, noNaN: true }), (x) => {
      const shown = ms(x);
      expect(shown).to.match(/^\d+(\.\d{1,2})? (ms|s)$/);
      const value = Number(shown.split(" ")[0]) * (shown.endsWith(" s") ? 1000 : 1);
      expect(Math.abs(value - x)).to.be.at.most(Math.max(0.0051, x * 0.01));
    }));
    expect(ms(0.955629)).to.equal("0.96 ms");
  });

  // Statements built from tokens where `;` hides in strings, quoted identifiers and comments.
  const noEnd = (s: string, end: string) => !s.includes(end);
  const piece = fc.constantFrom("a", ";", "'", '"', "-", "*", "/", "\n", " ", "x");
  const content = fc.array(piece, { maxLength: 6 }).map((p) => p.join(""));
  const token = fc.oneof(
    fc.stringMatching(/^[a-z]{1,5}$/),
    fc.constantFrom(" ", "\n", ",", "(", ")"),
    content.map((c) => `'${c.replace(/'/g, "''")}'`),
    fc.tuple(fc.constantFrom(" E", " e"), content, fc.constantFrom("\\'", "''", "\\\\", "\\;")).map(([e, c, esc]) => `${e}'${c.replace(/[\\']/g, "\\$&")}${esc}'`),
    content.map((c) => `"${c.replace(/"/g, '""')}"`),
    content.filter((c) => noEnd(c, "*/") && !c.endsWith("*") && !c.startsWith("/")).map((c) => `/*${c}*/`),
    content.filter((c) => noEnd(c, "\n")).map((c) => `--${c}\n`),
  );
  const statement = fc.tuple(fc.stringMatching(/^[a-z]{1,5}$/), fc.array(token, { maxLength: 6 }))
    .map(([word, rest]) => [word, ...rest].join(""))
    // A word then `-`, `/` … would glue into something else only across tokens we never generate; keep words apart.
    .filter((s) => s.trim() !== "");

  it("the SQL buffer splits at each ';' outside strings, quoted identifiers and comments, whatever the line breaks", () => {
    fc.assert(fc.property(fc.array(statement, { minLength: 1, maxLength: 4 }), fc.boolean(), (stmts, terminated) => {
      const source = stmts.join(";") + (terminated ? ";" : "");
      const buffer = new StatementBuffer();
      const got = source.split("\n").flatMap((line) => buffer.push(line));
      const rest = buffer.take();
      if (rest !== "") got.push(rest);
      expect(got).to.deep.equal(stmts.map((s) => s.trim()));
    }));
  });
});
