// Bundled by run.mjs (esbuild) into build/bench/decode.mjs: the library's own decoding of a
// `/_sql` answer, without any network: toSqlResult on a fake Answer.
import { toSqlResult } from "../../lib/result.js";

export async function decode(body: Uint8Array, int64: "number" | "bigint" | "string"): Promise<unknown[][]> {
  const answer = { status: 200, statusText: "OK", header: () => null, body, server: "bench", redact: (text: string) => text };
  return (await toSqlResult<unknown[]>(answer, { int64, numeric: "number" }, undefined, "array")).rows;
}
