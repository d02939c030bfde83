// The fenced code blocks of README.md and docs/*.md, and how each language is run (spec/docs/run-blocks.mjs).
//
// A block runs as a user would paste it: `js`/`mjs` into a .mjs file run by Node as is (no transform, so
// TypeScript syntax fails there), `ts` with its types stripped by esbuild (target esnext: `await using` stays,
// and Node 20 rejects it), `deno` and `bun` as .ts files in those runtimes, `worker` as a Worker module under
// workerd, `sh` with bash. A block that cannot run is preceded by `<!-- not run: <reason> -->`.
import { build, transform } from "esbuild";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";

export const root = new URL("../..", import.meta.url).pathname;
const bin = (name) => join(root, "node_modules/.bin", name);
const RUNNERS = {
  js: "node", mjs: "node", javascript: "node", ts: "node-ts", typescript: "node-ts",
  deno: "deno", bun: "bun", worker: "workerd", sh: "sh", bash: "sh", shell: "sh",
};

/** Every fenced block of `file`: { file, line, lang, runner, code, skip } (skip: the marker's reason). */
export function extractBlocks(file) {
  const lines = readFileSync(file, "utf8").split("\n");
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^( {0,3})(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^ {0,3}${fence[0]}{${fence.length},}\\s*$`).test(lines[j]); j++) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
    }
    let k = i - 1;
    while (k >= 0 && lines[k].trim() === "") k--;
    const marker = k >= 0 ? /<!--\s*not run:\s*(.+?)\s*-->/.exec(lines[k]) : null;
    blocks.push({
      file: relative(root, file), line: i + 1, lang: lang.toLowerCase(), runner: RUNNERS[lang.toLowerCase()],
      code: body.join("\n") + "\n", skip: marker?.[1],
    });
    i = j;
  }
  return blocks;
}

/**
 * Why a `js` block is not plain JavaScript for Node 20, or undefined: a parse error, TypeScript syntax (what esbuild's
 * TypeScript loader strips differs from the JavaScript parse, e.g. `conn.query<[number]>(…)`, which JavaScript reads
 * as comparisons), or `await using` (Node 20 and 22 reject it).
 */
export async function jsProblem(code) {
  if (/\b(await\s+)?using\s+[\w$]+\s*=/.test(code)) return "`await using`: Node 20 and 22 reject it (use a deno or bun block, or try/finally)";
  let js;
  try {
    js = await transform(code, { loader: "js", format: "esm", target: "esnext" });
  } catch (e) {
    return `not JavaScript: ${String(e.message).split("\n").slice(0, 3).join(" ")}`;
  }
  const ts = await transform(code, { loader: "ts", format: "esm", target: "esnext", tsconfigRaw: { compilerOptions: { verbatimModuleSyntax: true } } });
  return js.code === ts.code ? undefined : "TypeScript syntax in a js block (a .mjs file cannot run it): make it a ts block or remove the types";
}

/** Runs a command; resolves with { code, stdout, stderr } (code 124 after `timeoutMs`). */
export function run(command, args, { cwd, env, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, "SIGKILL"); // its own process group: whatever it started goes too
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}${e.message}\n` }); // e.g. ENOENT: the command is missing
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 124 : code ?? 1, stdout, stderr: timedOut ? `${stderr}\n(timed out after ${timeoutMs} ms)` : stderr });
    });
  });
}

/** `npm run server`'s script (spec/support/pglite/serve.mjs) as a child; resolves once it prints its URL. */
export function startServer(port, extraArgs = []) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, "spec/support/pglite/serve.mjs"), "--port", String(port), ...extraArgs], { stdio: ["ignore", "pipe", "inherit"] });
    const lines = [];
    const exited = new Promise((r) => child.once("exit", (code, signal) => r({ code, signal, lines })));
    createInterface({ input: child.stdout }).on("line", (line) => {
      lines.push(line);
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m) resolve({ url: m[1], port: Number(new URL(m[1]).port), lines, stop: (signal = "SIGTERM") => (child.kill(signal), exited) });
    });
    child.once("exit", (code) => reject(new Error(`the server exited (${code}) before listening:\n${lines.join("\n")}`)));
  });
}

/** Prepares the scratch folder: an import map for Deno, an `npx` that runs this package's CLI for sh blocks. */
export function prepare(dir) {
  mkdirSync(join(dir, "shim"), { recursive: true });
  const dist = (entry) => `file://${join(root, "dist", entry)}`;
  writeFileSync(join(dir, "import-map.json"), JSON.stringify({
    imports: {
      "npm:cratedb-fetch": dist("deno.js"), "cratedb-fetch": dist("deno.js"),
      "npm:cratedb-fetch/kysely": dist("kysely.js"), "npm:cratedb-fetch/drizzle": dist("drizzle.js"),
    },
  }));
  // `npx cratedb-fetch …` in a project that installed the package runs its bin, dist/cli.js: the same here.
  const npx = join(dir, "shim", "npx");
  writeFileSync(npx, `#!/bin/sh
if [ "$1" = "cratedb-fetch" ]; then shift; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(root, "dist/cli.js"))} "$@"; fi
echo "docs runner: sh blocks may only run 'npx cratedb-fetch'" >&2; exit 127
`);
  chmodSync(npx, 0o755);
  // npm itself never runs from a block: an `npm install` would touch this checkout's node_modules.
  const npm = join(dir, "shim", "npm");
  writeFileSync(npm, `#!/bin/sh\necho "docs runner: npm does not run in sh blocks (mark the block <!-- not run: reason -->)" >&2; exit 127\n`);
  chmodSync(npm, 0o755);
}

/** Writes `block` into `dir` and runs it once; resolves with { code, stdout, stderr }. */
export async function runBlock(block, code, dir, serverUrl) {
  const name = `${basename(block.file, ".md")}-L${block.line}`;
  switch (block.runner) {
    case "node": {
      const file = join(dir, `${name}.mjs`);
      writeFileSync(file, code);
      return run(process.execPath, [file], { cwd: dir });
    }
    case "node-ts": {
      const file = join(dir, `${name}.mjs`);
      const out = await transform(code, { loader: "ts", format: "esm", target: "esnext", sourcefile: `${block.file}:${block.line}` });
      writeFileSync(file, out.code);
      return run(process.execPath, [file], { cwd: dir });
    }
    case "deno": {
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, code);
      return run(bin("deno"), ["run", "--no-config", "--import-map", join(dir, "import-map.json"), "--allow-net", "--allow-env", "--allow-read", file], {
        cwd: dir, env: { DENO_DIR: join(root, ".deno"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
      });
    }
    case "bun": {
      const file = join(dir, `${name}.ts`);
      writeFileSync(file, code);
      return run(bin("bun"), [file], { cwd: dir, env: { NO_COLOR: "1" } });
    }
    case "workerd":
      return runWorker(name, code, dir, serverUrl);
    case "sh":
      return run("bash", ["-e", "-o", "pipefail", "-c", code], { cwd: dir, env: { PATH: `${join(dir, "shim")}:${process.env.PATH}` } });
    default:
      return { code: 1, stdout: "", stderr: `no runner for a \`${block.lang}\` block: mark it <!-- not run: reason -->` };
  }
}

/**
 * A `worker` block is a module worker (`export default { fetch(request, env, ctx) }`): bundled with
 * `cratedb-fetch` → dist/workerd.js, called once with `GET /` by a test handler under `workerd test`, with
 * `env.CRATEDB_URL` bound to the server. The answer's status and body are the block's output.
 */
async function runWorker(name, code, dir, serverUrl) {
  const wdir = join(dir, `${name}.workerd`);
  mkdirSync(wdir, { recursive: true });
  writeFileSync(join(wdir, "worker.ts"), code);
  writeFileSync(join(wdir, "harness.mjs"), `import worker from "./worker.ts";
export default {
  async test(_ctrl, env, ctx) {
    const res = await worker.fetch(new Request("http://localhost/"), env, ctx);
    console.log("DOCS_OUT " + res.status + " " + (await res.text()));
    if (!res.ok) throw new Error("the worker answered " + res.status);
  },
};
`);
  await build({
    entryPoints: [join(wdir, "harness.mjs")], outfile: join(wdir, "bundle.mjs"), bundle: true, format: "esm", platform: "browser",
    target: "es2022", conditions: ["workerd", "worker", "browser"], external: ["node:*", "cloudflare:*"], logLevel: "silent",
    plugins: [{ name: "dist", setup(b) { b.onResolve({ filter: /^cratedb-fetch$/ }, () => ({ path: join(root, "dist/workerd.js") })); } }],
  });
  writeFileSync(join(wdir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "docs", worker = (
      modules = [ (name = "bundle.mjs", esModule = embed "bundle.mjs") ],
      compatibilityDate = "2025-09-01",
      bindings = [ (name = "CRATEDB_URL", text = ${JSON.stringify(serverUrl)}) ],
      globalOutbound = "net",
    )),
    (name = "net", network = ( allow = ["public", "private", "local"], tlsOptions = ( trustBrowserCas = true ) )),
  ],
);
`);
  const r = await run(bin("workerd"), ["test", "config.capnp"], { cwd: wdir, timeoutMs: 90_000 });
  const out = r.stdout.split("\n").filter((l) => l.includes("DOCS_OUT ")).map((l) => l.slice(l.indexOf("DOCS_OUT ") + 9));
  return { code: r.code, stdout: out.join("\n"), stderr: r.code === 0 ? r.stderr : `${r.stdout}\n${r.stderr}` };
}
