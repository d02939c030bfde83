// decode-only: the library's decoding of a large body vs `JSON.parse(new TextDecoder().decode(bytes))`,
// in-process, no network (run by run.mjs with --expose-gc):
//   node --expose-gc spec/bench/decode.mjs <bundle.mjs> [--quick]
import { pathToFileURL } from "node:url";
import { field, now, rounds } from "./common.mjs";
import { LARGE_ROWS, largeBody, smallBody } from "./data.mjs";

const [bundle] = process.argv.slice(2);
const quick = process.argv.includes("--quick");
const { decode } = await import(pathToFileURL(bundle).href);
const gc = globalThis.gc ?? (() => {});
const td = new TextDecoder();
const enc = new TextEncoder();

const variants = [
  { name: "no unsafe numbers (default options)", body: enc.encode(largeBody("safe")), int64: "number" },
  { name: 'every row an unsafe BIGINT, int64: "bigint"', body: enc.encode(largeBody("unsafe")), int64: "bigint" },
];
// Not a target (full run only): doubles as Java prints computed values (17 significant digits),
// no unsafe integer — such literals send the whole body down the exact path.
if (!quick) variants.push({ name: "full-precision doubles (default options)", body: enc.encode(largeBody("fullDouble")), int64: "number" });

// Sanity: the library agrees with JSON.parse where JSON.parse is exact.
{
  const lib = await decode(variants[0].body, "number");
  const raw = JSON.parse(td.decode(variants[0].body)).rows;
  if (lib.length !== LARGE_ROWS) throw new Error("decode lost rows");
  for (let i = 0; i < LARGE_ROWS; i += 997) {
    if (JSON.stringify(lib[i]) !== JSON.stringify(raw[i])) throw new Error(`decode disagrees with JSON.parse on row ${i}`);
  }
  const big = await decode(variants[1].body, "bigint");
  if (typeof big[1][5] !== "bigint" || String(big[1][5]) !== "9007199254748912") throw new Error("int64 bigint decode is not exact");
}

const entries = variants.flatMap((v) => [
  { name: `${v.name}|JSON.parse`, run: () => JSON.parse(td.decode(v.body)).rows },
  { name: `${v.name}|cratedb-fetch`, run: () => decode(v.body, v.int64) },
]);
const res = await rounds(entries, async (e) => {
  const s = now();
  let rows = e.run();
  if (rows instanceof Promise) rows = await rows;
  const ms = now() - s;
  if (rows.length !== LARGE_ROWS) throw new Error(e.name);
  return ms;
}, { rounds: quick ? 3 : 15, warmupRounds: quick ? 0 : 1, between: gc, maxMs: quick ? 5_000 : 40_000 });

// Per-call overhead on a small body (10 × 5), µs per decode, many calls per round.
const small = enc.encode(smallBody());
const smallEntries = [
  { name: "small|JSON.parse", run: () => JSON.parse(td.decode(small)).rows },
  { name: "small|cratedb-fetch", run: () => decode(small, "number") },
];
const resSmall = await rounds(smallEntries, async (e) => {
  const n = quick ? 3_000 : 20_000;
  const s = now();
  for (let i = 0; i < n; i++) {
    const r = e.run();
    if (r instanceof Promise) await r;
  }
  return ((now() - s) / n) * 1000;
}, { rounds: quick ? 3 : 9, warmupRounds: 1, between: gc });

const out = { large: {}, small: {} };
for (const e of entries) out.large[e.name] = field(res[e.name], "ms");
for (const e of smallEntries) out.small[e.name] = field(resSmall[e.name], "us");
out.bytes = Object.fromEntries(variants.map((v) => [v.name, v.body.byteLength]));
process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
