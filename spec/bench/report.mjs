// The bench's markdown report (run.mjs): tables per scenario, the A/A noise floor, the goals
// and the closing `bench:` line. Ratios are the median of per-round paired ratios with a
// 90 % bootstrap interval in brackets (common.mjs pairedRatio); see the header the report prints.

const f0 = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "–");
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : "–");
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : "–");
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : "–");
const pct = (x) => (Number.isFinite(x) ? `±${Math.round(x * 50)}%` : "–"); // half the IQR relative to the median
const mb = (x) => (Number.isFinite(x) ? (x / 1048576).toFixed(1) : "–");
const sgn = (x) => (Number.isFinite(x) ? `${x < 0 ? "−" : "+"}${Math.abs(x).toFixed(1)}` : "–");
const kb = (x) => (Number.isFinite(x) ? (x / 1024).toFixed(1) : "–");
/** "0.953 [0.941–0.967]": a paired ratio with its 90 % interval. */
export const fci = (r) => (r === undefined || !Number.isFinite(r.ratio) ? "–"
  : Number.isFinite(r.lo) ? `${f3(r.ratio)} [${f3(r.lo)}–${f3(r.hi)}]` : `${f3(r.ratio)} (n=${r.n}, no CI)`);
/** " — the interval straddles the target: not conclusive" when lo < target < hi. */
const straddle = (r, target) => (Number.isFinite(r?.lo) && r.lo < target && target < r.hi ? " — the 90 % interval straddles the target: not conclusive" : "");
const fciShort = (r) => (r === undefined || !Number.isFinite(r.ratio) ? "–"
  : Number.isFinite(r.lo) ? `${f3(r.ratio)}[${f3(r.lo)},${f3(r.hi)}]` : `${f3(r.ratio)}(n=${r.n})`);

export const RAW = "raw node:http";
export const AA = "raw node:http (A/A)";
const CF = "cratedb-fetch";
const THROUGHPUT = [["point-c1", "point-c1: `SELECT 1`, one at a time"], ["point-c32", "point-c32: `SELECT 1`, 32 in flight"],
  ["small-c8", "small-c8: 10 × 5 result, 8 in flight"]];

/**
 * The A/A pair's ratios per scenario: [speed, cpu], each { scenario: { ratio, lo, hi } } (speed:
 * q/s for the throughput scenarios, time for the others; cpu: client CPU per query).
 */
export function aaFloor(results) {
  const N = results.node ?? {};
  const speed = {};
  const cpu = {};
  for (const [s] of THROUGHPUT) if (N[s]?.[AA]) [speed[s], cpu[s]] = [N[s][AA].vsRaw.qps, N[s][AA].vsRaw.clientUsPerOp];
  for (const [s, r] of [["large-decode", N["large-decode"]?.results], ["bulk-insert", N["bulk-insert"]]]) {
    if (r?.[AA]) [speed[s], cpu[s]] = [r[AA].vsRaw.ms, r[AA].vsRaw.cpuMs];
  }
  return [speed, cpu];
}

export function report(results, { root }) {
  const md = [];
  const table = (head, rows) => md.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`), "");
  const goals = [];
  const goal = (what, ok, detail) => goals.push(`- ${ok === undefined ? "n/a " : ok ? "**met**" : "**MISSED**"} — ${what}: ${detail}`);
  const final = {};
  const { quick, git, libDirty, distHash, loadStart, loadEnd, seconds, bootstrap } = results;
  const N = results.node ?? {};

  md.push(`# cratedb-fetch benchmarks${quick ? " (quick)" : ""}`, "",
    `Node ${process.versions.node}, git ${git}${libDirty ? " + uncommitted lib/ changes" : ""}, dist/*.js sha256 ${distHash}; ` +
    `load average ${loadStart.map(f2).join("/")} at start, ${loadEnd.map(f2).join("/")} at end; ${seconds.toFixed(0)} s. ` +
    `Node clients: ${results.mode ?? "–"} (interleaved rounds, one client busy at a time). CPUs: ${results.pinning}.`, "",
    "**How to read.** Each client runs once per round, next to the others (order rotated, and reversed every other round). *ratio* = the median over " +
    "rounds of the client's value ÷ raw node:http's value in the same round (throughput: higher is better; time and CPU: lower is " +
    `better), in brackets its 90 % confidence interval (bootstrap over rounds, ${bootstrap.resamples} resamples, seed ${bootstrap.seed}). ` +
    "*client CPU* is user + system CPU time of the client's process (process.cpuUsage) over the measured part of the round, per " +
    "query: unlike throughput it does not move when the server or a neighbour is slow. *noise* is half the interquartile range of " +
    `the rounds relative to the median. \`${AA}\` is the same raw client in a second process: its ratio is the bench's noise floor.`, "");

  // ------------------------------------------------------------ A/A floor
  const [aa, aaCpu] = aaFloor(results);
  let aaLine;
  if (Object.keys(aa).length > 0) {
    const list = (o) => Object.entries(o).map(([s, r]) => `${s} ${fci(r)}`).join(", ");
    const widest = (o) => Math.max(...Object.values(o).filter((r) => Number.isFinite(r.lo)).map((r) => Math.max(Math.abs(1 - r.lo), Math.abs(r.hi - 1))));
    aaLine = `A/A noise floor (${AA} ÷ ${RAW}, 90 % CI): speed ${list(aa)}; client CPU per query ${list(aaCpu)}`;
    md.push("## A/A noise floor", "", `${aaLine}.`, "");
    const [w, wc] = [widest(aa), widest(aaCpu)];
    if (Number.isFinite(w)) {
      md.push(`A gap smaller than ±${(w * 100).toFixed(1)} % in speed or ±${(wc * 100).toFixed(1)} % in client CPU (the widest A/A ` +
        "interval's distance from 1) cannot be told from noise in this run.", "");
      final.aa = w;
      final.aaCpu = wc;
    }
  }

  // ------------------------------------------------------------ throughput
  for (const [s, title] of THROUGHPUT) {
    const r = N[s];
    if (!r) continue;
    md.push(`## ${title}`, "");
    const c1 = s === "point-c1";
    table(["client", "queries/s", "ratio [90 % CI]", ...(c1 ? ["p50 ms", "p99 ms"] : []), "client CPU µs/query", "CPU ratio [90 % CI]", "server CPU share", "noise"],
      Object.entries(r).map(([name, v]) => [name, f0(v.qps.median), name === RAW ? "1" : fci(v.vsRaw.qps), ...(c1 ? [f3(v.p50), f3(v.p99)] : []),
        f1(v.clientUsPerOp.median), name === RAW ? "1" : fci(v.vsRaw.clientUsPerOp), `${Math.round(v.serverShare.median * 100)}%`, pct(v.qps.riqr)]));
    const q = r[CF].vsRaw.qps;
    final[s] = q;
    goal(`${s} ≥ 0.95× raw node:http`, q.ratio >= 0.95, `${fci(q)} (CPU per query ${fci(r[CF].vsRaw.clientUsPerOp)}; A/A ${fci(aa[s])}, CPU ${fci(aaCpu[s])})${straddle(q, 0.95)}`);
    if (r["node-crate"]) goal(`${s} faster than node-crate`, r[CF].qps.median > r["node-crate"].qps.median, `${f0(r[CF].qps.median)} vs ${f0(r["node-crate"].qps.median)} q/s`);
  }

  if (N["large-decode"]) {
    const r = N["large-decode"].results;
    const mem = results.memory ?? {};
    md.push("## large-decode: one 100 000 × 6 result (~8 MB)", "");
    table(["client", "ms/query", "time ratio [90 % CI]", "client CPU ms", "CPU ratio [90 % CI]", "peak RSS Δ MB", "retained heap MB", "noise"],
      Object.entries(r).map(([name, v]) => {
        const base = name === RAW || name === `${RAW} (unsafe)`;
        return [name, f1(v.ms.median), base ? "1" : fci(v.vsRaw.ms), f1(v.cpuMs.median), base ? "1" : fci(v.vsRaw.cpuMs),
          mb(mem[name]?.peakRssDelta), mb(mem[name]?.retainedHeap), pct(v.ms.riqr)];
      }));
    md.push("`(unsafe)`: the same table with every row an unsafe BIGINT (> 2^53) in a type-10 column; its ratio is to raw node:http on that body " +
      "(whose JSON.parse silently rounds). Memory: fresh process per client, after warm-up; peak RSS Δ = maxRSS after the query − RSS before; " +
      "retained = heap + external held by the result after a full GC.", "");
    const q = r[CF].vsRaw.ms;
    final["large-decode"] = q;
    goal("large-decode ≤ 1.05× raw node:http time", q.ratio <= 1.05, `${fci(q)} (CPU ${fci(r[CF].vsRaw.cpuMs)}; A/A ${fci(aa["large-decode"])}, CPU ${fci(aaCpu["large-decode"])})${straddle(q, 1.05)}`);
    if (r["node-crate"]) goal("large-decode faster than node-crate", r[CF].ms.median < r["node-crate"].ms.median, `${f1(r[CF].ms.median)} vs ${f1(r["node-crate"].ms.median)} ms`);
    const loose = N["large-decode, nothing held"]?.results;
    if (loose) {
      md.push("### large-decode with no client holding its previous result (`BENCH_HOLD_PREVIOUS=0`; not a target)", "");
      table(["client", "ms/query", "time ratio [90 % CI]", "CPU ratio [90 % CI]", "noise"],
        Object.entries(loose).map(([name, v]) => {
          const base = name === RAW || name === `${RAW} (unsafe)`;
          return [name, f1(v.ms.median), base ? "1" : fci(v.vsRaw.ms), base ? "1" : fci(v.vsRaw.cpuMs), pct(v.ms.riqr)];
        }));
      md.push("Each client's heap then starts each query small after `gc()`, except raw node:http's, whose last response's listeners " +
        "keep its previous result alive; V8 sizes heaps by what is live, so every other client runs a full mark-compact in the middle " +
        "of its parse. The table above (every client holding its previous result, as an app holding its rows does) compares like with like.", "");
    }
  }

  if (results.decode) {
    const d = results.decode;
    md.push("## decode-only: in-process, no network", "");
    const names = [...new Set(Object.keys(d.large).map((k) => k.split("|")[0]))];
    const targets = { "no unsafe numbers (default options)": 1.15, 'every row an unsafe BIGINT, int64: "bigint"': 2.5 };
    table(["body", "MB", "TextDecoder + JSON.parse ms", "cratedb-fetch toSqlResult ms", "ratio", "target", "noise"], names.map((n) => {
      const a = d.large[`${n}|JSON.parse`];
      const b = d.large[`${n}|cratedb-fetch`];
      const rt = b.median / a.median;
      if (targets[n]) goal(`decode-only ${n} ≤ ${targets[n]}× JSON.parse`, rt <= targets[n], `${f3(rt)}×`);
      return [n, mb(d.bytes[n]), f1(a.median), f1(b.median), f2(rt), targets[n] ? `≤ ${targets[n]}×` : "–", `${pct(a.riqr)} / ${pct(b.riqr)}`];
    }));
    const sa = d.small["small|JSON.parse"].median;
    const sb = d.small["small|cratedb-fetch"].median;
    md.push(`Small body (10 × 5), per call: TextDecoder + JSON.parse ${f2(sa)} µs, toSqlResult ${f2(sb)} µs (${f2(sb / sa)}×).`, "");
  }

  if (N["bulk-insert"]) {
    const r = N["bulk-insert"];
    md.push("## bulk-insert: one bulk of 10 000 rows × 4 columns (per bulk; several bulks per round)", "");
    table(["client", "ms/bulk", "time ratio [90 % CI]", "client CPU ms", "CPU ratio [90 % CI]", "noise"], Object.entries(r).map(([name, v]) => [
      name, f1(v.ms.median), name === RAW ? "1" : fci(v.vsRaw.ms), f1(v.cpuMs.median), name === RAW ? "1" : fci(v.vsRaw.cpuMs), pct(v.ms.riqr)]));
    if (r["node-crate"]) {
      goal("bulk-insert no slower than node-crate", r[CF].ms.median <= r["node-crate"].ms.median,
        `${f1(r[CF].ms.median)} vs ${f1(r["node-crate"].ms.median)} ms (time ratios to raw: ${fci(r[CF].vsRaw.ms)} vs ${fci(r["node-crate"].vsRaw.ms)})`);
    }
  }

  if (results.stream) {
    const r = results.stream;
    const rows = Object.values(r)[0].rows;
    md.push(`## stream: ${rows.toLocaleString("en-US")} rows × 6 columns (~${Math.round(rows / 12_500)} MB of JSON), query() vs stream()`, "");
    table(["how", "rows/s", "ratio to query() [90 % CI]", "min–max rows/s", "client CPU ms", "CPU ratio [90 % CI]", "peak RSS Δ MB", "runs"], Object.entries(r).map(([k, v]) => [
      k === "query" ? "`conn.query(stmt)`" : `\`conn.stream(stmt, [], ${v.batchSize === null || v.batchSize === undefined ? "{}" : `{ batchSize: ${v.batchSize} }`})\``,
      f0(v.rowsPerSec), k === "query" ? "1" : fci(v.vsQuery), v.rowsPerSecRange.map(f0).join("–"), f0(v.cpuMs), k === "query" ? "1" : fci(v.cpuVsQuery),
      mb(v.peakRssDelta), v.n]));
    md.push("Fresh process per measurement, after a warm-up of the same path; every row is read and dropped. Peak RSS Δ = maxRSS after − RSS " +
      "before. `{}` is the default batchSize. A stream runs `DECLARE … NO SCROLL CURSOR WITH HOLD`, `FETCH batchSize` until a short batch, " +
      "`CLOSE`, on a session of its own. RSS over time is in the chart.", "");
    if (r.stream) {
      final.stream = r.stream.vsQuery;
      goal("stream (default batchSize) ≥ 0.9× query() rows/s", r.stream.vsQuery.ratio >= 0.9, `${fci(r.stream.vsQuery)}${straddle(r.stream.vsQuery, 0.9)}`);
      goal("stream peak RSS < 50 MB over the baseline", r.stream.peakRssDelta < 50 * 1048576, `${mb(r.stream.peakRssDelta)} MB`);
    }
  }

  if (results.coldImport) {
    const c = results.coldImport;
    md.push(`## cold-import: a whole \`node\` process, ${c.rounds} interleaved rounds`, "");
    table(["command", "wall ms (median)", "Δ vs node -e \"\" (median of per-round differences)", "min–max"],
      Object.entries(c.wall).map(([k, v]) => [`\`${k}\``, f1(v), f1(c.delta[k]), c.spread[k].map(f1).join("–")]));
    md.push(`\`import('cratedb-fetch')\` resolves to ${c.resolved.replace(`file://${root}/`, "")}${c.sameAsSnapshot ? "" : " (**changed during the run**)"}; ` +
      `the import itself, timed inside the process: ${f1(c.importMs)} ms. Not pinned: a cold start uses more than one thread.`, "");
    const d = c.delta[c.full];
    final.cold = d;
    goal("cold import of the full entry ≤ +12 ms over bare node", d <= 12, `${sgn(d)} ms (in-process import ${f1(c.importMs)} ms; an empty .mjs: ${sgn(c.delta[c.empty])} ms)`);
    if (c.lite) goal("cold import of `cratedb-fetch/lite` ≤ +8 ms over bare node", c.delta[c.lite] <= 8, `${sgn(c.delta[c.lite])} ms`);
    else goal("cold import of `cratedb-fetch/lite` ≤ +8 ms over bare node", undefined, "no dist/lite.js yet");
  }

  if (results.bundle) {
    const b = results.bundle;
    md.push("## bundle-size: an app bundled by esbuild (minify, platform browser, ESM, splitting), gzipped (level 6)", "");
    table(["app", "version", "initial: minified bytes", "initial: gzip bytes", "initial: gzip KB", "initial: brotli bytes", "lazy chunks: gzip bytes", "target (initial gzip)"], b.rows.map((r) => [
      r.name, r.version ?? "this build", r.na ?? f0(r.raw), r.na ? "" : f0(r.gzip), r.na ? "" : kb(r.gzip), r.na ? "" : f0(r.brotli),
      r.na || !r.lazyChunks ? "–" : `${f0(r.lazyGzip)} (${r.lazyChunks} chunk${r.lazyChunks === 1 ? "" : "s"})`,
      r.max === undefined ? "–" : `≤ ${kb(r.max)} KB`]));
    md.push("Initial: what loads at start, the app's chunk and the chunks it imports statically, each gzipped on its own " +
      "(as a browser fetches them). Lazy chunks: what `import()` loads on first use of a feature (streams, blobs, cancellation, " +
      "discovery, tracing), not counted in the target.", "");
    md.push("KB = 1024 bytes. Each app is a two-line module that imports the client and keeps a `connect(url).query(sql)` " +
      "(or the peer's equivalent) reachable; cratedb-fetch is imported through its package `exports` (condition `browser`). " +
      `Largest modules of the whole web entry (minified bytes): ${b.byModule.slice(0, 6).map(([k, v]) => `${k} ${f0(v)}`).join(", ")}.`, "");
    for (const r of b.rows.filter((x) => x.max !== undefined)) {
      goal(`bundle ${r.name} ≤ ${kb(r.max)} KB gz`, r.na ? undefined : r.gzip <= r.max, r.na ?? `${f0(r.gzip)} B`);
    }
    final.bundle = Object.fromEntries(b.rows.filter((r) => r.group !== "peer").map((r) => [r.name, r.na ? "n/a" : r.gzip]));
  }

  const rts = Object.entries(results.runtimes ?? {});
  if (rts.length > 0 || (N["point-c1"] && N["point-c32"])) {
    md.push("## point-c1 / point-c32 across runtimes (ratio to the same runtime's raw fetch)", "");
    const rows = [];
    const add = (rt, p1, p32, names) => {
      for (const n of names) {
        const a = p1[n];
        const b = p32[n];
        const r1 = a.vsRawFetch ?? { ratio: a.qps.median / p1["raw fetch"].qps.median };
        const r32 = b.vsRawFetch ?? { ratio: b.qps.median / p32["raw fetch"].qps.median };
        const cell = (r, has) => (n === "raw fetch" ? "1" : has ? fci(r) : f3(r.ratio));
        rows.push([rt, n, f0(a.qps.median), cell(r1, a.vsRawFetch), f3(a.p50), f3(a.p99), f0(b.qps.median), cell(r32, b.vsRawFetch)]);
      }
    };
    if (N["point-c1"] && N["point-c32"]) add(`Node ${process.versions.node}`, N["point-c1"], N["point-c32"], ["raw fetch", "cratedb-fetch (fetch)", CF, RAW]);
    for (const [rt, r] of rts) {
      if (r.error) rows.push([rt, `failed: ${r.error}`, "", "", "", "", "", ""]);
      else add(r.runtime, r["point-c1"], r["point-c32"], ["raw fetch", CF, RAW]);
      if (rt === "Bun" && !r.error) {
        const q = r["point-c32"][CF].vsRawFetch;
        goal("Bun point-c32 ≥ 0.9× Bun's raw fetch", q.ratio >= 0.9, fci(q));
      }
    }
    table(["runtime", "client", "c1 queries/s", "c1 ratio", "p50 ms", "p99 ms", "c32 queries/s", "c32 ratio"], rows);
    md.push("cratedb-fetch is the runtime's native entry (`dist/bun.js`, `dist/deno.js`): in Bun it uses Bun's fetch with a `Bun.FetchSession` per connection, " +
      "in Deno `fetch` with its own `Deno.createHttpClient`. Node's ratios in this table are plain ratios of medians.", "");
  }

  md.push("## Goals", "", ...goals, "");
  const ratioPart = ["point-c1", "point-c32", "small-c8", "large-decode"].filter((s) => final[s]).map((s) => `${s}=${fciShort(final[s])}`);
  const bundlePart = final.bundle ? [`connect-gz=${final.bundle["`cratedb-fetch`: connect + query"]}`, `lite-gz=${final.bundle["`cratedb-fetch/lite`: connect + query"]}`] : [];
  const bench = ["bench:", ...ratioPart, ...(final.aa === undefined ? [] : [`aa-floor=±${(final.aa * 100).toFixed(1)}%`, `aa-cpu-floor=±${(final.aaCpu * 100).toFixed(1)}%`]),
    ...(final.stream ? [`stream=${fciShort(final.stream)}`] : []), ...bundlePart, ...(final.cold === undefined ? [] : [`cold=${sgn(final.cold)}ms`])].join(" ");
  md.push(bench);
  return { text: md.join("\n"), aa: aaLine };
}
