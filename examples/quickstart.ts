// Quick start: create a table, bulk-insert, query with real SQL, and see a duplicate key become IntegrityError.
// Runs against CRATEDB_URL if set, else against an embedded test server that speaks CrateDB's HTTP protocol and runs
// the SQL on PostgreSQL compiled to WebAssembly (PGlite): a test double, not CrateDB (spec/support/pglite/README.md).
import { IntegrityError, connect } from "cratedb-fetch";

async function localServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  console.log("Starting an embedded CrateDB-protocol test server (SQL runs on PGlite, not CrateDB)…");
  const started = performance.now();
  const { startPgliteServer } = await import("../spec/support/pglite/server.js");
  const server = await startPgliteServer({ log: (line) => console.log(line) });
  console.log(`Ready in ${((performance.now() - started) / 1000).toFixed(1)} s at ${server.url}\n`);
  return { url: server.url, stop: () => server.close() };
}

function table(cols: string[], rows: unknown[][]): string {
  const text = [cols, ...rows.map((r) => r.map((v) => (v === null ? "NULL" : String(v))))];
  const widths = cols.map((_c, i) => Math.max(...text.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]): string => `| ${r.map((v, i) => v.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const [head = [], ...body] = text;
  return [line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}

const local = process.env.CRATEDB_URL ? undefined : await localServer();
const url = process.env.CRATEDB_URL ?? (local?.url as string);
if (!local) console.log(`Using ${url}\n`);

const conn = connect(url, { username: process.env.CRATEDB_USER ?? "crate", password: process.env.CRATEDB_PASSWORD });
try {
  await conn.query("CREATE TABLE IF NOT EXISTS quickstart_planets (id INT PRIMARY KEY, name TEXT, moons INT)");
  const bulk = await conn.bulk("INSERT INTO quickstart_planets (id, name, moons) VALUES (?, ?, ?)", [
    [1, "Mercury", 0], [2, "Venus", 0], [3, "Earth", 1], [4, "Mars", 2],
  ]);
  console.log(`Inserted ${bulk.rowcount} rows in one bulk request (${bulk.failed.length} failed)\n`);
  await conn.query("REFRESH TABLE quickstart_planets");

  const res = await conn.query("SELECT id, name, moons FROM quickstart_planets ORDER BY id");
  console.log(table(res.cols, res.rows));
  console.log(`\n${res.rowcount} rows in ${res.duration} ms (server time)\n`);

  const agg = await conn.query("SELECT count(*) AS planets, sum(moons) AS moons FROM quickstart_planets WHERE moons > ?", [0]);
  console.log("Planets with moons:");
  console.log(table(agg.cols, agg.rows) + "\n");

  try {
    await conn.query("INSERT INTO quickstart_planets (id, name, moons) VALUES (?, ?, ?)", [3, "Earth again", 1]);
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    console.log(`A duplicate key is an IntegrityError: code ${err.code}, ${err.message}\n`);
  }
  await conn.query("DROP TABLE quickstart_planets");
  console.log(local
    ? "That was a local test double. To run the same code against a real CrateDB:\n  CRATEDB_URL=http://localhost:4200 npm start   (or https://user:password@host:4200)"
    : "Done.");
} finally {
  await conn.close();
  await local?.stop();
}
