// Blobs: store binary content in a BLOB table by its SHA-1, read it back whole or as a stream,
// check and delete it. Run: node examples/run.mjs blobs   (or CRATEDB_URL=…)
import { DigestNotFoundError, connect } from "cratedb-fetch";
import { localCluster } from "./local-cluster.js";

const local = process.env.CRATEDB_URL ? undefined : await localCluster({ nodes: 2, blobRedirects: true });
const conn = connect(process.env.CRATEDB_URL ?? (local?.urls as string[]), { timeout: 30_000 });
try {
  await conn.query("CREATE BLOB TABLE example_files");
  const files = conn.getBlobContainer("example_files");
  const content = new TextEncoder().encode("x".repeat(1_000_000));
  const digest = (await files.put(content)) as string;
  console.log(`stored 1 MB as ${digest}; again: created=${String(await files.put(content, digest))}`);
  console.log(`exists: ${String(await files.exists(digest))}`);
  let streamed = 0;
  for await (const chunk of (await files.stream(digest)) as unknown as AsyncIterable<Uint8Array>) streamed += chunk.byteLength;
  console.log(`streamed back ${streamed} bytes; get() returned ${(await files.get(digest)).byteLength} bytes`);
  console.log(`deleted: ${String(await files.delete(digest))}`);
  try {
    await files.get(digest);
  } catch (err) {
    if (!(err instanceof DigestNotFoundError)) throw err;
    console.log(`after delete: ${err.name}`);
  }
  await conn.query("DROP BLOB TABLE example_files");
  console.log(JSON.stringify({ example: "blobs", ok: streamed === content.byteLength }));
} finally {
  await conn.close();
  await local?.close();
}
