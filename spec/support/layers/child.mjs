// One call whose layer loads slowly or fails (hooks.mjs), in a process of its own so that the chunk is not yet
// loaded. argv: scenario, cluster URL, chunk prefix, mode. Prints one JSON line: how the call settled, and when.
import { register } from "node:module";

const [scenario, url, prefix, mode] = process.argv.slice(2);
register(new URL("./hooks.mjs", import.meta.url), { data: { prefix, mode } });
const { connect } = await import(`${process.cwd()}/dist/node.js`);

const TIMEOUT = 300;
const ac = new AbortController();
const DIGEST = "0".repeat(40);
const scenarios = {
  "query, timeout": () => connect(url).query("SELECT 1", [], { timeout: TIMEOUT }),
  "query, signal": () => (setTimeout(() => ac.abort(new Error("user left")), 100), connect(url).query("SELECT 1", [], { signal: ac.signal })),
  "query with onQuery, timeout": () => connect(url, { onQuery: () => {}, killOnAbort: false }).query("SELECT 1", [], { timeout: TIMEOUT }),
  "cursor execute, connection timeout": () => connect(url, { timeout: TIMEOUT }).cursor().execute("SELECT 1"),
  "stream, timeout": async () => {
    for await (const row of connect(url, { killOnAbort: false }).stream("SELECT 1", [], { timeout: TIMEOUT })) void row;
  },
  "blob exists, connection timeout": () => connect(url, { timeout: TIMEOUT }).getBlobContainer("b").exists(DIGEST),
  "serverInfo, timeout": () => connect(url).serverInfo(undefined, { timeout: TIMEOUT }),
  "session query, timeout": () => connect(url, { killOnAbort: false }).session().query("SELECT 1", [], { timeout: TIMEOUT }),
  "discover, timeout": () => connect(url, { discover: true, killOnAbort: false }).query("SELECT 1", [], { timeout: TIMEOUT }),
  "query with numeric: \"string\"": () => connect(url, { numeric: "string" }).query("SELECT 1"),
};
const t0 = Date.now();
let out;
try {
  await scenarios[scenario]();
  out = { settled: "resolved" };
} catch (e) {
  out = { settled: "rejected", name: e?.name, message: e?.message, cause: e?.cause?.message };
}
console.log(JSON.stringify({ ...out, ms: Date.now() - t0 }));
process.exit(0); // a load held by the hook would keep the process alive
