/**
 * BlobContainer: the BLOB table API over `/_blobs/<table>/<sha1>`. Made synchronously by
 * `conn.getBlobContainer()`; its operations (blob-ops.ts) are loaded on the first one.
 */
import type { BlobConnection, BlobTable } from "./blob-ops.js";
import { InterfaceError } from "./errors.js";
import { hide, inspectAs } from "./inspect.js";
import { kit } from "./kit.js";
import { lazy } from "./lazy.js";

const ops = /* @__PURE__ */ lazy(() => import("./blob-ops.js"), "blob");

/**
 * A BLOB table. Blobs are addressed by the SHA-1 of their content.
 *
 * @example
 * ```ts
 * const blobs = conn.getBlobContainer("myfiles");
 * const digest = await blobs.put("hello");
 * const bytes = await blobs.get(digest);
 * ```
 */
export class BlobContainer {
  /** @internal Use `conn.getBlobContainer(name)`. */
  constructor(readonly name: string, private readonly connection: BlobConnection) {
    if (typeof name !== "string" || name === "" || name.startsWith("_") || name.includes("/")) {
      throw new InterfaceError(`Invalid blob table name '${String(name)}'`);
    }
    hide(this, "connection");
    inspectAs(this, "BlobContainer"); // util.inspect / console.log show what toJSON() shows
  }

  /** The blob layer, loaded within the connection's timeout. */
  private ops(): Promise<typeof import("./blob-ops.js")> {
    return ops.within(this.connection.options.timeout, undefined);
  }

  private table(): BlobTable {
    return { name: this.name, connection: this.connection, kit };
  }

  /**
   * Uploads a blob. Without a digest, computes the SHA-1 and resolves to it; with one, resolves
   * `true` if created and `false` if it already existed.
   */
  async put(data: Uint8Array | ArrayBuffer | Blob | string, digest?: string): Promise<string | boolean> {
    return (ops.now ?? (await this.ops())).put(this.table(), data, digest);
  }

  /** Downloads a blob; a missing one throws `DigestNotFoundError`. */
  async get(digest: string): Promise<Uint8Array> {
    return (ops.now ?? (await this.ops())).get(this.table(), digest);
  }

  /**
   * A stream of the blob's bytes, read from the network as it is consumed (never buffered whole). If the
   * download breaks off, reading rejects with a `ConnectionError` saying how many bytes arrived.
   */
  async stream(digest: string): Promise<ReadableStream<Uint8Array>> {
    return (ops.now ?? (await this.ops())).stream(this.table(), digest);
  }

  /** True when the blob exists. */
  async exists(digest: string): Promise<boolean> {
    return (ops.now ?? (await this.ops())).exists(this.table(), digest);
  }

  /** Deletes a blob; `true` if it existed. */
  async delete(digest: string): Promise<boolean> {
    return (ops.now ?? (await this.ops())).remove(this.table(), digest);
  }

  /** What `JSON.stringify(container)` shows: the table and the servers (without credentials), never a secret. */
  toJSON(): { name: string; servers: readonly string[]; closed: boolean } {
    return { name: this.name, servers: this.connection.servers, closed: this.connection.closed };
  }
}
