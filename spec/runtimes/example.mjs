// Runs a lane's example script against a fake cluster and reports it as one test, "example: <name>".
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { root } from "./bundle.mjs";

const control = () => process.env.CRATEDB_FETCH_CONTROL;

/** Bundles examples/<name>.ts with `cratedb-fetch` → dist/<entry>.js, runs it with `command`, checks its JSON line. */
export async function runExample({ name, entry, command, args = [], local = false }) {
  const outfile = join(root, "build/examples", `${name}.mjs`);
  await build({
    entryPoints: [join(root, "examples", `${name}.ts`)], outfile, bundle: true, format: "esm", platform: "neutral",
    target: "es2022", external: ["node:*"], logLevel: "warning",
    plugins: [{ name: "dist", setup(b) { b.onResolve({ filter: /^cratedb-fetch$/ }, () => ({ path: join(root, "dist", `${entry}.js`), external: true })); } }],
  });
  // `local` examples start test doubles of their own (e.g. to stop a node) and read no CRATEDB_URL.
  const created = local ? undefined
    : await (await fetch(`${control()}/clusters`, { method: "POST", body: JSON.stringify({ clusterName: `example-${name}` }) })).json();
  try {
    const env = { ...process.env };
    if (created) env.CRATEDB_URL = created.urls[0];
    else delete env.CRATEDB_URL;
    const run = spawnSync(command, [...args, outfile], { env, encoding: "utf8", timeout: 60_000 });
    let out = {};
    try {
      out = JSON.parse(run.stdout.trim().split(/[\r\n]/).pop() || "{}");
    } catch {
      // not JSON: reported below
    }
    const ok = run.status === 0 && (local ? out.ok === true || out.ok > 0 : out.cluster === `example-${name}`);
    console.log(`  ${ok ? "✔" : "✗"} example: ${name}${ok ? "" : ` — exit ${run.status}, stdout ${JSON.stringify(run.stdout)}, stderr ${JSON.stringify(run.stderr)}`}`);
    return ok;
  } finally {
    if (created) await fetch(`${control()}/clusters/${created.id}`, { method: "DELETE" });
  }
}

/** Runs mocha (argv) capturing its LANE_RESULT, then the examples, and prints the combined LANE_RESULT. */
export async function laneWithExample(command, argv, env, ...examples) {
  const run = spawnSync(command, argv, { env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
  let result = { passed: 0, failed: 1, notApplicable: 0 };
  for (const line of run.stdout.split("\n")) {
    const m = /^LANE_RESULT (.*)$/.exec(line);
    if (m) result = JSON.parse(m[1]);
    else console.log(line);
  }
  if (run.status !== 0 && result.failed === 0) result.failed = 1;
  if (!process.env.SPEC_GREP || /example/.test(process.env.SPEC_GREP)) {
    for (const example of examples) {
      if (await runExample(example)) result.passed++;
      else result.failed++, (result.failures ??= []).push(`example ${example}: see its output above`);
    }
  }
  console.log(`LANE_RESULT ${JSON.stringify(result)}`);
  return result.failed === 0 ? 0 : 1;
}
