// The docs lane (`node spec/run.mjs --lanes docs`): every fenced code block of README.md and docs/*.md runs,
// twice in a row, against the embedded CrateDB-protocol test server started here exactly as `npm run server`
// starts it; both runs must exit 0 with the same output. Blocks marked `<!-- not run: reason -->` are counted
// as skipped, with their reason. Then the checks of checks.mjs. Ends with a LANE_RESULT line for spec/run.mjs.
//
// Snippets say `http://localhost:4200`. The server takes port 4200 when it is free; when it is not (another
// server on a shared machine), it takes a free port and only that URL string is rewritten in each block,
// which this script says in its output.
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { extractBlocks, jsProblem, prepare, root, runBlock, startServer } from "./blocks.mjs";
import { checks, docPages } from "./checks.mjs";
import { exitFlushed } from "../runtimes/exit.mjs";

const grep = process.env.SPEC_GREP ? new RegExp(process.env.SPEC_GREP, "i") : undefined;
const started = Date.now();
const result = { passed: 0, failed: 0, notApplicable: 0, failures: [] };
const pass = (title) => (result.passed++, console.log(`  ✔ ${title}`));
const fail = (title, why) => (result.failed++, result.failures.push(title), console.log(`  ✗ ${title}\n    ${why.trimEnd().split("\n").join("\n    ")}`));

const portFree = (port) => new Promise((resolve) => {
  const s = createServer().once("error", () => resolve(false)).listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
});

// Checks that rebuild dist/ (npm start) run first, before any block uses dist/.
const checkNames = Object.keys(checks).filter((t) => !grep || grep.test(t));
const blocks = docPages().flatMap((page) => extractBlocks(page)).filter((b) => !grep || grep.test(`${b.file}:${b.line} ${b.lang}`));
console.log("docs: checks");
for (const title of checkNames) {
  try {
    const why = await checks[title]();
    if (why === undefined) pass(title);
    else fail(title, why);
  } catch (e) {
    fail(title, String(e?.stack ?? e));
  }
}

if (blocks.length > 0) {
  const dir = join(root, "build/docs-blocks");
  rmSync(dir, { recursive: true, force: true });
  prepare(dir);
  const server = await startServer((await portFree(4200)) ? 4200 : 0);
  const snippetUrl = `http://localhost:${server.port}`;
  console.log(`\ndocs: ${blocks.length} code blocks; the embedded test server (npm run server) listens on ${server.url}`);
  if (server.port !== 4200) console.log(`docs: port 4200 is taken on this machine: "http://localhost:4200" in blocks is rewritten to "${snippetUrl}"`);
  const skipped = [];
  let ran = 0;
  try {
    for (const block of blocks) {
      const title = `${block.file}:${block.line} (${block.lang || "no language"})`;
      // Run or not, a js block is what a user pastes into a .mjs file: plain JavaScript that Node 20 parses.
      const problem = block.runner === "node" ? await jsProblem(block.code) : undefined;
      if (problem) {
        fail(`${title} is plain JavaScript${block.skip ? " (not run)" : ""}`, problem);
        continue;
      }
      if (block.skip) {
        skipped.push(`${title}: ${block.skip}`);
        continue;
      }
      const code = block.code.replaceAll("http://localhost:4200", snippetUrl);
      ran++;
      const first = await runBlock(block, code, dir, snippetUrl);
      if (first.code !== 0) {
        fail(title, `exit ${first.code}\n${first.stdout}${first.stderr}`.slice(-2000));
        continue;
      }
      const second = await runBlock(block, code, dir, snippetUrl);
      if (second.code !== 0) fail(title, `the second run failed (exit ${second.code}): not idempotent\n${second.stdout}${second.stderr}`.slice(-2000));
      else if (second.stdout !== first.stdout) fail(title, `the second run printed something else:\n--- first\n${first.stdout}--- second\n${second.stdout}`);
      else pass(`${title}${first.stdout.trim() ? `\n      │ ${first.stdout.trimEnd().split("\n").slice(0, 8).map((l) => l.slice(0, 120)).join("\n      │ ")}` : ""}`);
    }
  } finally {
    const stopped = await server.stop();
    const title = "npm run server: says it is a test double, not CrateDB, and stops cleanly on SIGTERM";
    if (!grep || grep.test(title)) {
      if (stopped.code === 0 && server.lines.some((l) => /NOT CrateDB/.test(l)) && stopped.lines.includes("Stopped.")) pass(title);
      else fail(title, `exit ${stopped.code ?? stopped.signal}; output:\n${stopped.lines.join("\n")}`);
    }
  }
  for (const s of skipped) console.log(`  - not run: ${s}`);
  result.notApplicable = skipped.length;
  console.log(`\ndocs: ${ran} code blocks ran (each twice), ${skipped.length} skipped (marked not run), ${result.failed} failed checks or blocks (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
console.log(`LANE_RESULT ${JSON.stringify(result)}`);
exitFlushed(result.failed === 0 ? 0 : 1);
