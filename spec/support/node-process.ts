/**
 * Node's `process`, for the specs that spawn programs (the CLI, `npm pack`): typed here without @types/node
 * globals, so that the spec bundles stay loadable in every lane (those specs skip themselves elsewhere).
 */
export interface NodeProcess {
  getBuiltinModule(id: string): unknown;
  execPath: string;
  cwd(): string;
  env: Record<string, string | undefined>;
}

export const proc = (): NodeProcess => globalThis.process as unknown as NodeProcess;

/** A `node:` module, loaded when a spec runs (not at import, which would fail outside Node). */
export const builtin = <T>(id: string): T => proc().getBuiltinModule(id) as T;
