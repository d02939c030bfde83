// The bench's picture (run.mjs writes it to build/bench/bench.svg): plain SVG text, no plotting library.
//   1. per scenario and client: speed relative to raw node:http (time scenarios inverted, so that
//      right is always faster) and client CPU per query relative to raw node:http (left is cheaper),
//      each a dot at the median of per-round ratios with its 90 % bootstrap interval as a whisker;
//      the grey band is the A/A pair's interval (the noise floor);
//   2. stream(): RSS above the baseline over time, query() vs stream();
//   3. bundle sizes (gzip) with the targets.
// renderChart(results) → SVG text; `node spec/bench/chart.mjs build/bench/results.json out.svg` redraws.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const W = 1060;
const FONT = "font-family=\"system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif\"";
const COLORS = { "raw node:http (A/A)": "#8a8a8a", "raw fetch": "#9467bd", "cratedb-fetch": "#d62728", "cratedb-fetch (fetch)": "#ff7f0e",
  "node-crate": "#1f77b4", 'cratedb-fetch int64:"bigint"': "#e377c2", query: "#1f77b4", stream: "#d62728", "stream batchSize 10000": "#ff7f0e" };
const GAP_MS = 100; // stream.mjs samples every 20 ms; thinned to ≤ 300 points per series
const PALETTE = ["#2ca02c", "#17becf", "#bcbd22", "#8c564b"];
const color = (name, i = 0) => COLORS[name] ?? PALETTE[i % PALETTE.length];
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const n2 = (x) => (Math.round(x * 100) / 100).toString();
const text = (x, y, s, a = "") => `<text x="${n2(x)}" y="${n2(y)}" ${a}>${esc(s)}</text>`;
const line = (x1, y1, x2, y2, a = "") => `<line x1="${n2(x1)}" y1="${n2(y1)}" x2="${n2(x2)}" y2="${n2(y2)}" ${a}/>`;

/** About `count` round tick values covering [lo, hi]. */
function ticks(lo, hi, count = 6) {
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}

const inv = (r) => (r && Number.isFinite(r.ratio) ? { ratio: 1 / r.ratio, lo: 1 / r.hi, hi: 1 / r.lo } : undefined);

/** Rows of panel 1: { scenario, client, speed, cpu } with ratios { ratio, lo, hi }. */
function ratioRows(results) {
  const N = results.node ?? {};
  const rows = [];
  for (const s of ["point-c1", "point-c32", "small-c8"]) {
    for (const [client, v] of Object.entries(N[s] ?? {})) {
      if (v.vsRaw && client !== "raw node:http") rows.push({ scenario: s, client, speed: v.vsRaw.qps, cpu: v.vsRaw.clientUsPerOp });
    }
  }
  for (const [s, r] of [["large-decode", N["large-decode"]?.results], ["bulk-insert", N["bulk-insert"]]]) {
    for (const [client, v] of Object.entries(r ?? {})) {
      if (v.vsRaw && !client.startsWith("raw node:http (unsafe)") && client !== "raw node:http") rows.push({ scenario: s, client, speed: inv(v.vsRaw.ms), cpu: v.vsRaw.cpuMs });
    }
  }
  return rows;
}

/** One dot-and-whisker panel over `rows` (each with .y), for the ratio in `key`. */
function ratioPanel(rows, key, x0, width, y0, height, title, subtitle, aaBands) {
  const vals = rows.flatMap((r) => [r[key]?.lo, r[key]?.hi, r[key]?.ratio]).filter(Number.isFinite);
  const lo = Math.max(0.2, Math.min(0.9, ...vals) - 0.03);
  const hi = Math.min(3, Math.max(1.1, ...vals) + 0.03);
  const X = (v) => x0 + ((Math.min(hi, Math.max(lo, v)) - lo) / (hi - lo)) * width;
  const s = [text(x0, y0 - 26, title, `font-size="13" font-weight="600"`), text(x0, y0 - 12, subtitle, `font-size="11" fill="#555"`)];
  for (const [scenario, band] of Object.entries(aaBands)) {
    const ys = rows.filter((r) => r.scenario === scenario).map((r) => r.y);
    if (!band?.[key] || ys.length === 0) continue;
    const b = band[key];
    if (!Number.isFinite(b.lo) || !Number.isFinite(b.hi)) continue;
    s.push(`<rect x="${n2(X(b.lo))}" y="${n2(Math.min(...ys) - 8)}" width="${n2(Math.max(1, X(b.hi) - X(b.lo)))}" height="${n2(Math.max(...ys) - Math.min(...ys) + 16)}" fill="#000" fill-opacity="0.07"/>`);
  }
  for (const t of ticks(lo, hi)) {
    s.push(line(X(t), y0, X(t), y0 + height, `stroke="#e4e4e4"`), text(X(t), y0 + height + 14, n2(t), `font-size="10" text-anchor="middle" fill="#555"`));
  }
  s.push(line(X(1), y0, X(1), y0 + height, `stroke="#333" stroke-width="1"`));
  if (key === "speed") s.push(line(X(0.95), y0, X(0.95), y0 + height, `stroke="#d62728" stroke-dasharray="3,3" stroke-opacity="0.6"`));
  rows.forEach((r, i) => {
    const v = r[key];
    if (!v || !Number.isFinite(v.ratio)) return;
    const c = color(r.client, i);
    if (Number.isFinite(v.lo) && Number.isFinite(v.hi)) {
      s.push(line(X(v.lo), r.y, X(v.hi), r.y, `stroke="${c}" stroke-width="2"`),
        line(X(v.lo), r.y - 4, X(v.lo), r.y + 4, `stroke="${c}"`), line(X(v.hi), r.y - 4, X(v.hi), r.y + 4, `stroke="${c}"`));
    }
    // Off the scale: a dot at the edge with the value written beside it.
    if (v.ratio > hi || v.ratio < lo) s.push(text(X(v.ratio) + (v.ratio > hi ? -8 : 8), r.y - 5, `${v.ratio.toFixed(2)}`, `font-size="9.5" fill="${c}" text-anchor="${v.ratio > hi ? "end" : "start"}"`));
    s.push(`<circle cx="${n2(X(v.ratio))}" cy="${n2(r.y)}" r="3.5" fill="${c}"><title>${esc(`${r.scenario} ${r.client}: ${v.ratio.toFixed(3)}${Number.isFinite(v.lo) ? ` [${v.lo.toFixed(3)}–${v.hi.toFixed(3)}]` : ""}`)}</title></circle>`);
  });
  return s;
}

function streamPanel(stream, y0) {
  const series = Object.entries(stream ?? {}).filter(([, v]) => Array.isArray(v.rss) && v.rss.length > 1);
  if (series.length === 0) return { parts: [], height: 0 };
  const x0 = 70;
  const width = W - x0 - 290;
  const height = 180;
  const maxT = Math.max(...series.flatMap(([, v]) => v.rss.map((p) => p[0])), 1);
  const maxM = Math.max(55, ...series.flatMap(([, v]) => v.rss.map((p) => p[1] / 1048576))) * 1.05;
  const X = (ms) => x0 + (ms / maxT) * width;
  const Y = (bytes) => y0 + height - (Math.max(0, bytes / 1048576) / maxM) * height;
  const s = [text(x0, y0 - 26, "stream(): RSS above the baseline over time (first run of each)", `font-size="13" font-weight="600"`),
    text(x0, y0 - 12, "500 000 rows read once · red dashed: the 50 MB target · a dashed segment: no sample (event loop blocked)", `font-size="11" fill="#555"`)];
  for (const t of ticks(0, maxT / 1000)) s.push(line(X(t * 1000), y0, X(t * 1000), y0 + height, `stroke="#e4e4e4"`), text(X(t * 1000), y0 + height + 14, `${n2(t)} s`, `font-size="10" text-anchor="middle" fill="#555"`));
  for (const m of ticks(0, maxM, 5)) s.push(line(x0, Y(m * 1048576), x0 + width, Y(m * 1048576), `stroke="#e4e4e4"`), text(x0 - 6, Y(m * 1048576) + 3, `${n2(m)} MB`, `font-size="10" text-anchor="end" fill="#555"`));
  s.push(line(x0, Y(50 * 1048576), x0 + width, Y(50 * 1048576), `stroke="#d62728" stroke-dasharray="4,3" stroke-opacity="0.7"`));
  series.forEach(([name, v], i) => {
    const c = color(name, i);
    // A gap between samples (the event loop was blocked, e.g. by one big JSON.parse) is drawn dashed:
    // nothing was seen there, and the peak inside it shows only in the table's maxRSS.
    let run = [];
    const flush = () => { if (run.length > 1) s.push(`<polyline fill="none" stroke="${c}" stroke-width="1.6" points="${run.map(([t, b]) => `${n2(X(t))},${n2(Y(b))}`).join(" ")}"/>`); };
    v.rss.forEach((p, j) => {
      const q = v.rss[j - 1];
      if (q !== undefined && p[0] - q[0] > GAP_MS) {
        flush();
        run = [];
        s.push(line(X(q[0]), Y(q[1]), X(p[0]), Y(p[1]), `stroke="${c}" stroke-width="1.2" stroke-dasharray="3,3"`));
      }
      run.push(p);
    });
    flush();
    const label = name === "stream" ? "stream() default batchSize" : name === "query" ? "query()" : name.replace("stream batchSize", "stream() batchSize");
    s.push(`<rect x="${x0 + width + 16}" y="${y0 + 10 + i * 18}" width="12" height="3" fill="${c}"/>`,
      text(x0 + width + 34, y0 + 15 + i * 18, `${label}: ${Math.round(v.rowsPerSec).toLocaleString("en-US")} rows/s`, `font-size="10.5"`));
  });
  return { parts: s, height: height + 60 };
}

function bundlePanel(bundle, y0) {
  const rows = (bundle?.rows ?? []);
  if (rows.length === 0) return { parts: [], height: 0 };
  const x0 = 300;
  const width = W - x0 - 90;
  const maxB = Math.max(...rows.map((r) => Math.max(r.gzip ?? 0, r.max ?? 0))) * 1.05;
  const X = (b) => x0 + (b / maxB) * width;
  const s = [text(20, y0 - 26, "Bundle size: esbuild --minify --platform=browser, gzipped (KB = 1024 B)", `font-size="13" font-weight="600"`),
    text(20, y0 - 12, "red tick: the issue's target", `font-size="11" fill="#555"`)];
  rows.forEach((r, i) => {
    const y = y0 + i * 20;
    s.push(text(x0 - 8, y + 11, r.name.replace(/`/g, ""), `font-size="11" text-anchor="end"`));
    if (r.na) s.push(text((r.max === undefined ? x0 : X(r.max)) + 8, y + 11, r.na, `font-size="11" fill="#888" font-style="italic"`));
    else {
      s.push(`<rect x="${x0}" y="${y + 2}" width="${n2(X(r.gzip) - x0)}" height="12" fill="${r.group === "peer" ? "#9aa7b8" : "#d62728"}"/>`,
        text(X(r.gzip) + 4, y + 12, `${(r.gzip / 1024).toFixed(1)} KB`, `font-size="10.5"`));
    }
    if (r.max !== undefined) s.push(line(X(r.max), y, X(r.max), y + 16, `stroke="#b00" stroke-width="2"`));
  });
  return { parts: s, height: rows.length * 20 + 50 };
}

export function renderChart(results) {
  const rows = ratioRows(results);
  const parts = [];
  let y = 105;
  const order = [...new Set(rows.map((r) => r.scenario))];
  const sorted = order.flatMap((sc) => rows.filter((r) => r.scenario === sc));
  let yy = y;
  let prev;
  for (const r of sorted) {
    if (r.scenario !== prev) {
      yy += prev === undefined ? 6 : 18;
      parts.push(text(10, yy + 4, r.scenario, `font-size="11.5" font-weight="600"`));
      prev = r.scenario;
    }
    r.y = yy;
    parts.push(text(110, yy + 4, r.client, `font-size="11" fill="${color(r.client)}"`));
    yy += 16;
  }
  const panelH = Math.max(40, yy - y);
  if (sorted.length > 0) {
    const aa = Object.fromEntries(sorted.filter((r) => r.client === "raw node:http (A/A)").map((r) => [r.scenario,
      { speed: r.speed, cpu: r.cpu }]));
    const left = 330;
    const pw = (W - left - 30) / 2 - 25;
    parts.push(...ratioPanel(sorted, "speed", left, pw, y - 10, panelH, "Speed ÷ raw node:http (right: faster)",
      "q/s; 1 ÷ time for large-decode, bulk-insert · red: 0.95", aa));
    parts.push(...ratioPanel(sorted, "cpu", left + pw + 50, pw, y - 10, panelH, "Client CPU per query ÷ raw (left: cheaper)",
      "process.cpuUsage() of the client's process", aa));
    y += panelH + 70;
  }
  const st = streamPanel(results.stream, y);
  parts.push(...st.parts);
  y += st.height + (st.height > 0 ? 40 : 0);
  const bu = bundlePanel(results.bundle, y);
  parts.push(...bu.parts);
  y += bu.height;
  const head = `cratedb-fetch bench${results.quick ? " (quick run: not for publishing)" : ""} · git ${results.git ?? "?"} · Node ${results.nodeVersion ?? "?"}` +
    ` · load average ${(results.loadStart ?? []).map((l) => l.toFixed(2)).join("/")} at start`;
  const how = "dots: median of per-round ratios · whiskers: 90 % bootstrap confidence interval · grey band: the A/A pair (raw node:http twice), the noise floor";
  return [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${Math.ceil(y + 20)}" viewBox="0 0 ${W} ${Math.ceil(y + 20)}" ${FONT} font-size="11">`,
    `<rect width="100%" height="100%" fill="#fff"/>`, text(10, 18, head, `font-size="11" fill="#333"`), text(10, 33, `CPUs: ${results.pinning ?? "?"}`, `font-size="11" fill="#555"`),
    text(10, 48, how, `font-size="11" fill="#555"`),
    ...parts, "</svg>", ""].join("\n");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [from = "build/bench/results.json", to = "build/bench/bench.svg"] = process.argv.slice(2);
  writeFileSync(to, renderChart(JSON.parse(readFileSync(from, "utf8"))));
  console.log(`wrote ${to}`);
}
