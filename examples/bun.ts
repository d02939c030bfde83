// Bun: `bun examples/bun.ts`. BIGINT values come back exact as bigint with int64: "bigint".
import { connect } from "cratedb-fetch";

const conn = connect(Bun.env.CRATEDB_URL ?? "http://localhost:4200", { timeout: 5_000, int64: "bigint" });
try {
  const { rows } = await conn.query("SELECT name FROM sys.cluster");
  console.log(JSON.stringify({ runtime: "bun", cluster: rows[0]?.[0] }));
} finally {
  await conn.close();
}
