/// <reference types="node" />
/**
 * Node built-in modules, loaded when first needed. `process.getBuiltinModule` (Node ≥ 20.16, Deno 2,
 * Bun) needs no import; only older Node imports `node:module` for `createRequire` (a top-level await
 * that runs there alone): a static import of `node:module` costs every cold start ~1.5 ms, because
 * loading it loads Node's source-map support. The CJS builds replace this file with `require` (build.mjs).
 */
export const builtin: (id: string) => unknown = typeof process.getBuiltinModule === "function"
  ? (id) => process.getBuiltinModule(id)
  : (await import("node:module")).createRequire(`${process.cwd()}/`); // Node before 20.16
