/**
 * What `util.inspect`, `console.log` (Node, Bun and Deno all honour the `nodejs.util.inspect.custom`
 * symbol) and `JSON.stringify` show of the public objects: the servers (no credentials) and the state,
 * as `pg` does, never the options, caches or transports that hold a password, token or key.
 */

/** The symbol `util.inspect` (Node, Bun) and `Deno.inspect` call for a custom rendering. */
export const INSPECT: unique symbol = Symbol.for("nodejs.util.inspect.custom");

/**
 * Renders `state` as `Name { … }` with the runtime's own inspect (passed as the third argument of a
 * custom inspect call), or as JSON where none is passed.
 */
export function inspected(name: string, state: object, args: unknown[]): string {
  const [, options, inspect] = args;
  if (typeof inspect === "function") return `${name} ${(inspect as (v: unknown, o: unknown) => string)(state, options)}`;
  return `${name} ${JSON.stringify(state)}`;
}

/** Makes own fields non-enumerable (Object.keys, spreads, JSON and inspect skip them): they hold secrets. */
export function hide(obj: object, ...keys: string[]): void {
  for (const key of keys) if (Object.hasOwn(obj, key)) Object.defineProperty(obj, key, { enumerable: false });
}

/**
 * Gives a class the custom inspect of its `toJSON()` (called from a static block: a computed method
 * name cannot be declared under isolatedDeclarations).
 */
export function inspectable(cls: { prototype: { toJSON(): object } }, name: string): void {
  Object.defineProperty(cls.prototype, INSPECT, {
    value(this: { toJSON(): object }, ...args: unknown[]): string {
      return inspected(name, this.toJSON(), args);
    },
    writable: true, configurable: true,
  });
}

/**
 * Gives the class of `obj` the custom inspect of its `toJSON()`, once, when its first instance is made.
 * Called from constructors rather than a static block: a static block is a side effect at import, which
 * keeps the class (and all it imports) in every bundle that imports the module, used or not.
 */
export function inspectAs(obj: { toJSON(): object }, name: string): void {
  const proto = Object.getPrototypeOf(obj) as { constructor: { prototype: { toJSON(): object } } };
  if (!Object.hasOwn(proto, INSPECT)) inspectable(proto.constructor, name);
}
