/**
 * A feature module loaded on first use through `import()`, so that a splitting bundler (and dist/) puts
 * it in a chunk of its own that an app fetches only when it uses the feature. Once loaded, `now` gives
 * the module synchronously: a hot path pays no promise for a layer it already has.
 */
export interface Lazy<M> {
  /** The module, once loaded; undefined before. */
  readonly now: M | undefined;
  /** Loads the module (once; later calls share the first load). */
  load(): Promise<M>;
}

/** `load` must be `() => import("./literal.js")`: bundlers split only at a literal specifier. */
export function lazy<M>(load: () => Promise<M>): Lazy<M> {
  let loading: Promise<M> | undefined;
  const lz = {
    now: undefined as M | undefined,
    load: (): Promise<M> => (loading ??= load().then((m) => (lz.now = m))),
  };
  return lz;
}
