// The dashboard page: every second, query the last minute of readings with cratedb-fetch and render a summary
// table, the latest readings and an inline-SVG line chart. No framework; see index.html and serve.ts.
import { DefaultTypeConverter, connect } from "cratedb-fetch";
import { SENSORS, TABLE } from "./schema.js";

const WINDOW_MS = 60_000;
const COLORS = ["#2563eb", "#d97706", "#059669", "#db2777", "#7c3aed"];
const SVG_NS = "http://www.w3.org/2000/svg";

const $ = <T extends Element>(sel: string): T => document.querySelector(sel) as T;
const status = $<HTMLDivElement>("#status");
const chart = $<SVGSVGElement>("#chart");

interface Reading { ts: Date; sensor: string; value: number }
interface Summary { sensor: string; readings: number; avg: number; min: number; max: number }

const colorOf = (sensor: string): string => {
  const i = (SENSORS as readonly string[]).indexOf(sensor);
  return COLORS[(i < 0 ? sensor.length : i) % COLORS.length] as string;
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmt = (n: number): string => n.toFixed(2);
const time = (d: Date): string => d.toISOString().slice(11, 19);

function renderTables(summary: Summary[], readings: Reading[]): void {
  const body = $<HTMLTableSectionElement>("#summary tbody");
  body.replaceChildren(...summary.map((s) => {
    const tr = el("tr", { "data-sensor": s.sensor });
    const name = el("td");
    name.append(el("span", { class: "swatch", style: `background:${colorOf(s.sensor)}` }), s.sensor);
    tr.append(name, el("td", { class: "num" }, String(s.readings)), el("td", { class: "num" }, fmt(s.avg)),
      el("td", { class: "num" }, fmt(s.min)), el("td", { class: "num" }, fmt(s.max)));
    return tr;
  }));
  const recent = $<HTMLTableSectionElement>("#recent tbody");
  recent.replaceChildren(...readings.slice(-8).reverse().map((r) => {
    const tr = el("tr");
    tr.append(el("td", {}, time(r.ts)), el("td", {}, r.sensor), el("td", { class: "num" }, fmt(r.value)));
    return tr;
  }));
}

function renderChart(readings: Reading[], now: number): void {
  const [w, h, left, right, top, bottom] = [900, 260, 48, 110, 12, 28];
  const values = readings.map((r) => r.value);
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  if (hi - lo < 1) [lo, hi] = [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.08;
  [lo, hi] = [lo - pad, hi + pad];
  const x = (t: number) => left + ((t - (now - WINDOW_MS)) / WINDOW_MS) * (w - left - right);
  const y = (v: number) => top + (1 - (v - lo) / (hi - lo)) * (h - top - bottom);
  const parts: SVGElement[] = [];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    parts.push(svg("line", { class: "grid", x1: left, x2: w - right, y1: y(v), y2: y(v) }));
    parts.push(svg("text", { x: left - 6, y: y(v) + 4, "text-anchor": "end" }, v.toFixed(1)));
  }
  for (let s = 0; s <= 60; s += 15) {
    parts.push(svg("text", { x: x(now - WINDOW_MS + s * 1000), y: h - 8, "text-anchor": "middle" }, s === 60 ? "now" : `-${60 - s}s`));
  }
  parts.push(svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: h - bottom }));
  parts.push(svg("line", { class: "axis", x1: left, x2: w - right, y1: h - bottom, y2: h - bottom }));
  const bySensor = new Map<string, Reading[]>();
  for (const r of readings) bySensor.set(r.sensor, [...(bySensor.get(r.sensor) ?? []), r]);
  [...bySensor.keys()].sort().forEach((sensor, i) => {
    const points = bySensor.get(sensor) ?? [];
    const color = colorOf(sensor);
    parts.push(svg("polyline", { "data-sensor": sensor, stroke: color, points: points.map((r) => `${x(r.ts.getTime()).toFixed(1)},${y(r.value).toFixed(1)}`).join(" ") }));
    const last = points[points.length - 1];
    if (last) parts.push(svg("circle", { cx: x(last.ts.getTime()), cy: y(last.value), r: 3.5, fill: color }));
    parts.push(svg("rect", { x: w - right + 16, y: top + 6 + i * 20, width: 10, height: 10, rx: 2, fill: color }));
    parts.push(svg("text", { x: w - right + 32, y: top + 15 + i * 20 }, sensor));
  });
  chart.replaceChildren(...parts);
}

async function databaseUrl(): Promise<string> {
  const fromQuery = new URLSearchParams(location.search).get("url");
  if (fromQuery) return fromQuery;
  const config = (await (await fetch("./config.json")).json()) as { url: string };
  return config.url;
}

const url = await databaseUrl();
$<HTMLElement>("#target").textContent = new URL(url).origin;
const conn = connect(url, { converter: new DefaultTypeConverter() });
let refreshes = 0;

async function refresh(): Promise<void> {
  const since = new Date(Date.now() - WINDOW_MS);
  const started = performance.now();
  const [readings, summary] = await Promise.all([
    conn.query<Reading>(`SELECT ts, sensor, value FROM ${TABLE} WHERE ts >= ? ORDER BY ts`, [since], { rowMode: "object" }),
    conn.query<Summary>(
      `SELECT sensor, count(*) AS readings, avg(value) AS avg, min(value) AS min, max(value) AS max
       FROM ${TABLE} WHERE ts >= ? GROUP BY sensor ORDER BY sensor`, [since], { rowMode: "object" }),
  ]);
  renderTables(summary.rows, readings.rows);
  renderChart(readings.rows, Date.now());
  refreshes++;
  status.dataset["state"] = "live";
  status.dataset["refreshes"] = String(refreshes);
  status.textContent = `live · updated ${time(new Date())} UTC · ${readings.rowcount} readings in the last minute · ` +
    `round trip ${(performance.now() - started).toFixed(0)} ms`;
}

// One refresh at a time: the next starts a second after the previous one finished.
async function loop(): Promise<void> {
  try {
    await refresh();
  } catch (err) {
    status.dataset["state"] = "error";
    status.textContent = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  }
  setTimeout(() => void loop(), 1000);
}
void loop();
