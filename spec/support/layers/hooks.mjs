// Node module hooks for spec/layer-loads.spec.ts: slow down (or fail) the load of one of dist/'s lazy chunks,
// as a browser meets a chunk that is slow to fetch or cannot be fetched. `data`: { prefix, mode: "slow" (10 s) | "late" (200 ms) | "fail" }.
let rule;

export function initialize(data) {
  rule = data;
}

export async function load(url, context, nextLoad) {
  const name = url.slice(url.lastIndexOf("/") + 1);
  if (rule !== undefined && url.includes("/dist/chunks/") && name.startsWith(`${rule.prefix}-`)) {
    if (rule.mode === "fail") throw new TypeError(`Failed to fetch dynamically imported module: ${name}`);
    await new Promise((resolve) => setTimeout(resolve, rule.mode === "late" ? 200 : 10_000));
  }
  return nextLoad(url, context);
}
