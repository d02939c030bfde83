// A Cloudflare Worker that queries CrateDB: `GET /` answers {"cluster": "<name of the cluster>"}.
// Set CRATEDB_URL as a secret (e.g. https://user:password@host:4200), or as a binding in workerd.
// The workerd test lane (spec/runtimes/workerd.mjs) runs this file under workerd against a test server.
import { connect } from "cratedb-fetch";

interface Env {
  CRATEDB_URL: string;
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    const conn = connect(env.CRATEDB_URL, { timeout: 10_000 });
    try {
      const res = await conn.query("SELECT name FROM sys.cluster");
      return Response.json({ cluster: res.rows[0]?.[0] ?? null });
    } catch (err) {
      return Response.json({ error: err instanceof Error ? err.message : String(err) }, { status: 502 });
    } finally {
      await conn.close();
    }
  },
};
