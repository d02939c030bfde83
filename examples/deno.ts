// Deno: `deno run --allow-net --allow-env --allow-read examples/deno.ts` (with `npm:cratedb-fetch`
// as the import in your own code). A private CA can be given as PEM text or a path (caCert).
import { connect } from "cratedb-fetch";

const conn = connect(Deno.env.get("CRATEDB_URL") ?? "http://localhost:4200", { timeout: 5_000 });
try {
  const { rows } = await conn.query("SELECT name FROM sys.cluster");
  console.log(JSON.stringify({ runtime: "deno", cluster: rows[0]?.[0] }));
} finally {
  await conn.close();
}
