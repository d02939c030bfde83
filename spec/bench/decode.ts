// Bundled by run.mjs (esbuild) into build/bench/decode.mjs: the library's own decoding of a
// `/_sql` answer, without any network: toSqlResult on a fake Answer.
import { toSqlResult } from "../../lib/result.js";

/** Sync for an answer that needs no exact parsing (as in the library), a promise otherwise. */
export function decode(body: Uint8Array, int64: "number" | "bigint" | "string"): unknown[][] | Promise<unknown[][]> {
  const answer = { status: 200, statusText: "OK", header: () => null, body, server: "bench", redact: (text: string) => text };
  const r = toSqlResult<unknown[]>(answer, { int64, numeric: "number" }, undefined, "array");
  return r instanceof Promise ? r.then((x) => x.rows) : r.rows;
}
