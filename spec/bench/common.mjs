// Runtime-neutral measurement helpers (Node, Bun, Deno): bounded bursts, interleaved rounds, stats.

export const now = () => performance.now();

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function median(values) {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

/** Median, quartiles and relative IQR (noise) of a list of per-round values. */
export function summary(values) {
  const s = [...values].sort((a, b) => a - b);
  const med = quantile(s, 0.5);
  const q1 = quantile(s, 0.25);
  const q3 = quantile(s, 0.75);
  return { median: med, q1, q3, min: s[0], max: s[s.length - 1], n: s.length, riqr: med === 0 ? 0 : (q3 - q1) / med };
}

/**
 * Runs `op` with `concurrency` workers until `maxOps` operations were started or `maxMs` passed
 * (both bounds always apply). Per-operation latencies (ms) are appended to `latencies` when given.
 */
export async function burst(op, { concurrency = 1, maxOps = 1e9, maxMs = 500, latencies } = {}) {
  const t0 = now();
  const deadline = t0 + maxMs;
  let started = 0;
  let done = 0;
  async function worker() {
    while (started < maxOps && now() < deadline) {
      started++;
      const s = latencies === undefined ? 0 : now();
      await op();
      if (latencies !== undefined) latencies.push(now() - s);
      done++;
    }
  }
  const workers = [];
  for (let i = 0; i < concurrency; i++) workers.push(worker());
  await Promise.all(workers);
  const ms = now() - t0;
  return { ops: done, ms, perSec: (done / ms) * 1000 };
}

/**
 * Interleaved rounds: in round r every client runs once, the order rotated by r and reversed in every
 * other round (A B C, C A B reversed = B A C, C A B, …), after `warmupRounds` unrecorded rounds. The
 * reversal matters: with rotation alone B follows A in all rounds but one, so anything A leaves behind
 * (a busy server, a cold cache, a GC) would always land on B and bias the A/B pair. `measure(client, warmup)` returns a number or an object;
 * `between()` runs before each measurement (e.g. a GC). Returns { name: results[] }.
 */
export async function rounds(clients, measure, { rounds: n, warmupRounds = 1, between, maxMs = Infinity } = {}) {
  const out = Object.fromEntries(clients.map((c) => [c.name, []]));
  const t0 = now();
  for (let r = -warmupRounds; r < n; r++) {
    if (r >= 1 && now() - t0 > maxMs) break; // time bound: keep at least one recorded round
    const k = ((r % clients.length) + clients.length) % clients.length;
    const order = [...clients.slice(k), ...clients.slice(0, k)];
    if (r % 2 !== 0) order.reverse();
    for (const c of order) {
      if (between) await between();
      const v = await measure(c, r < 0);
      if (r >= 0) out[c.name].push(v);
    }
  }
  return out;
}

/** Summaries of one field of per-round result objects. */
export function field(results, key) {
  return summary(results.map((r) => (typeof r === "number" ? r : r[key])));
}

/** A seeded PRNG (mulberry32): the bootstrap's intervals are reproducible from the printed seed. */
export function seededRandom(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const BOOTSTRAP_SEED = 0x19b3c4;
export const BOOTSTRAP_RESAMPLES = 2000;

/**
 * The median of per-round ratios a[i] / b[i] and its 90 % bootstrap confidence interval (percentile
 * method, rounds resampled with replacement, seeded; none below 3 rounds). Pairing by round matters: a and b ran next to
 * each other in the same round, so a drift of the machine's load cancels in each ratio, where a ratio
 * of two medians would keep it. Returns { ratio, lo, hi, n }.
 */
export function pairedRatio(a, b, { seed = BOOTSTRAP_SEED, resamples = BOOTSTRAP_RESAMPLES } = {}) {
  const n = Math.min(a.length, b.length);
  const r = [];
  for (let i = 0; i < n; i++) if (b[i] !== 0 && Number.isFinite(a[i] / b[i])) r.push(a[i] / b[i]);
  if (r.length === 0) return { ratio: NaN, lo: NaN, hi: NaN, n: 0 };
  const rand = seededRandom(seed);
  const meds = new Float64Array(resamples);
  const pick = new Float64Array(r.length);
  for (let k = 0; k < resamples; k++) {
    for (let i = 0; i < r.length; i++) pick[i] = r[Math.floor(rand() * r.length)];
    pick.sort();
    meds[k] = quantile(pick, 0.5);
  }
  meds.sort();
  // Below three rounds a resampled median is one of the few values: no interval worth printing.
  if (r.length < 3) return { ratio: median(r), lo: NaN, hi: NaN, n: r.length };
  return { ratio: median(r), lo: quantile(meds, 0.05), hi: quantile(meds, 0.95), n: r.length };
}
