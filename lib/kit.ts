/**
 * What the lazily loaded layers (cancel, discover, blob-ops) use of the core, handed to them by the
 * side that loads them; they import no value from the core themselves. Why: a splitting bundler (esbuild)
 * shares whole files between the initial load and the chunks behind `import()`, so a layer that imported
 * `readJson` would put result.ts and json.ts in a shared chunk that even `import { InterfaceError }`
 * loads at start (and one more file for every app). Handed over, the core stays in the initial chunk and
 * the layers' chunks hold only their own code.
 */
import { BlobLocationNotFoundError, ConnectionError, DigestNotFoundError, InterfaceError, ProgrammingError, errorFromResponse } from "./errors.js";
import { readJson } from "./result.js";
import { parseServer, serverEntry } from "./servers.js";

/** The core's classes and functions the layers use (the same ones: `instanceof` holds). */
export interface Kit {
  readonly BlobLocationNotFoundError: typeof BlobLocationNotFoundError;
  readonly ConnectionError: typeof ConnectionError;
  readonly DigestNotFoundError: typeof DigestNotFoundError;
  readonly InterfaceError: typeof InterfaceError;
  readonly ProgrammingError: typeof ProgrammingError;
  readonly errorFromResponse: typeof errorFromResponse;
  readonly readJson: typeof readJson;
  readonly parseServer: typeof parseServer;
  readonly serverEntry: typeof serverEntry;
}

/** The kit, for the shells that load a layer. */
export const kit: Kit = {
  BlobLocationNotFoundError, ConnectionError, DigestNotFoundError, InterfaceError, ProgrammingError, errorFromResponse,
  readJson, parseServer, serverEntry,
};
