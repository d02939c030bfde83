// Checks of the docs lane besides the code blocks: the README's shape, links, no machine paths or internal
// issue numbers in any Markdown file, and a TypeScript consumer app type-checked against the package that
// `npm start` leaves in dist/. Each check resolves with an error message, or undefined when it holds.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { root, run, startServer } from "./blocks.mjs";

/** README.md and docs/*.md: the pages whose code blocks run. */
export function docPages() {
  const docs = existsSync(join(root, "docs")) ? readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).sort() : [];
  return [join(root, "README.md"), ...docs.map((f) => join(root, "docs", f))];
}

/** Every Markdown file of the repository outside dependencies and build output. */
function markdownFiles(dir = root, out = []) {
  for (const name of readdirSync(dir)) {
    if (["node_modules", "dist", "build", ".git", ".deno", ".test-output"].includes(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) markdownFiles(path, out);
    else if (name.endsWith(".md")) out.push(path);
  }
  return out;
}

/** POST /_sql to the server at `url`; resolves with the parsed answer. */
async function sql(url, stmt) {
  const res = await fetch(`${url}/_sql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ stmt }) });
  return res.json();
}

export const checks = {
  "npm run server -- --port 0 --data <dir>: stops on Ctrl-C (SIGINT), and the database outlives the restart": async () => {
    const dir = join(root, "build/docs-server-data/db");
    rmSync(dirname(dir), { recursive: true, force: true });
    const first = await startServer(0, ["--data", dir]);
    let count;
    try {
      await sql(first.url, "CREATE TABLE kept (id INT)");
      await sql(first.url, "INSERT INTO kept (id) VALUES (1)");
    } finally {
      const stopped = await first.stop("SIGINT");
      if (stopped.code !== 0 || !stopped.lines.includes("Stopped.")) return `the first server exited ${stopped.code ?? stopped.signal}: ${stopped.lines.join("\n")}`;
    }
    const second = await startServer(0, ["--data", dir]);
    try {
      count = (await sql(second.url, "SELECT count(*) FROM kept")).rows?.[0]?.[0];
    } finally {
      await second.stop();
    }
    if (first.port === 0 || second.port === 0) return "--port 0 did not report the port it took";
    return count === 1 ? undefined : `after a restart, SELECT count(*) FROM kept gave ${JSON.stringify(count)}`;
  },
  "README.md has at most 300 lines": () => {
    const n = readFileSync(join(root, "README.md"), "utf8").trimEnd().split("\n").length;
    return n <= 300 ? undefined : `README.md has ${n} lines`;
  },
  "every docs/ page is linked from README.md": () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const missing = docPages().slice(1).map((p) => relative(root, p)).filter((p) => !readme.includes(`](${p}`) && !readme.includes(`](./${p}`));
    return missing.length ? `not linked: ${missing.join(", ")}` : undefined;
  },
  "relative links in README.md and docs/ point at files that exist": () => {
    const bad = [];
    for (const page of docPages()) {
      for (const [, target] of readFileSync(page, "utf8").matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:|^#/.test(target)) continue;
        if (!existsSync(join(dirname(page), target.split("#")[0]))) bad.push(`${relative(root, page)} → ${target}`);
      }
    }
    return bad.length ? bad.join("; ") : undefined;
  },
  "no machine paths or internal issue numbers in the repository's Markdown": () => {
    const bad = [];
    const patterns = [/\/work\//, /\/root\//, /\/home\/\w/, /\bissues?\s*#?\d+/i, /(^|[\s(])#\d+\b/];
    for (const file of markdownFiles()) {
      readFileSync(file, "utf8").split("\n").forEach((line, i) => {
        if (patterns.some((p) => p.test(line))) bad.push(`${relative(root, file)}:${i + 1}: ${line.trim().slice(0, 100)}`);
      });
    }
    return bad.length ? bad.join("\n    ") : undefined;
  },
  "npm start keeps dist/types: a TypeScript consumer app type-checks against the built package": async () => {
    // Without CRATEDB_URL the quick start example runs against an embedded server of its own.
    const start = await run("env", ["-u", "CRATEDB_URL", "npm", "start", "--silent"], { cwd: root, timeoutMs: 240_000 });
    if (start.code !== 0) return `npm start exited ${start.code}: ${(start.stderr || start.stdout).slice(-600)}`;
    if (!existsSync(join(root, "dist/types/entry/node.d.ts"))) return "dist/types/entry/node.d.ts is missing after npm start";
    // A consumer project: node_modules/cratedb-fetch is the package (its package.json "exports" and "types").
    const dir = join(root, "build/consumer");
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    symlinkSync(root, join(dir, "node_modules/cratedb-fetch"), "dir");
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({
      compilerOptions: {
        target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true,
        types: ["node"], typeRoots: [join(root, "node_modules/@types")], skipLibCheck: false,
      },
      files: ["app.ts"],
    }));
    writeFileSync(join(dir, "app.ts"), `import { connect, IntegrityError, type SqlResult } from "cratedb-fetch";
const conn = connect("http://localhost:4200", { username: "crate", int64: "bigint" });
const res: SqlResult<[number, string]> = await conn.query<[number, string]>("SELECT 1, 'a'");
const first: number | undefined = res.rows[0]?.[0];
const failed: boolean = new IntegrityError("x") instanceof Error;
console.log(first, failed, res.rowcount satisfies number);
await conn.close();
`);
    const tsc = join(root, "node_modules/.bin/tsc");
    const ok = await run(tsc, ["-p", dir], { cwd: dir });
    if (ok.code !== 0) return `tsc on the consumer app failed:\n${ok.stdout}${ok.stderr}`;
    // The types are real, not \`any\`: a wrong assignment must be an error.
    writeFileSync(join(dir, "app.ts"), `import { connect } from "cratedb-fetch";\nconst closed: string = connect().closed;\nconsole.log(closed);\n`);
    const bad = await run(tsc, ["-p", dir], { cwd: dir });
    if (bad.code === 0 || !/TS2322/.test(bad.stdout)) return `a type error in the consumer app was not reported:\n${bad.stdout}`;
    return undefined;
  },
};
