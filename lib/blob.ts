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

  /**
   * The blob layer and the table for one call: the layer is loaded within the connection's timeout, which then
   * holds from the call.
   */
  private async ops(): Promise<[typeof import("./blob-ops.js"), BlobTable]> {
    const table = { name: this.name, connection: this.connection, kit, since: undefined as number | undefined };
    if (ops.now !== undefined) return [ops.now, table];
    table.since = Date.now();
    return [await ops.within(this.connection.options.timeout, undefined), table];
  }

  /**
   * Uploads a blob. Without a digest, computes the SHA-1 and resolves to it; with one, resolves
   * `true` if created and `false` if it already existed.
   */
  async put(data: Uint8Array | ArrayBuffer | Blob | string, digest?: string): Promise<string | boolean> {
    const [o, table] = await this.ops();
    return o.put(table, data, digest);
  }

  /** Downloads a blob; a missing one throws `DigestNotFoundError`. */
  async get(digest: string): Promise<Uint8Array> {
    const [o, table] = await this.ops();
    return o.get(table, digest);
  }

  /**
   * A stream of the blob's bytes, read from the network as it is consumed (never buffered whole). If the
   * download breaks off, reading rejects with a `ConnectionError` saying how many bytes arrived.
   */
  async stream(digest: string): Promise<ReadableStream<Uint8Array>> {
    const [o, table] = await this.ops();
    return o.stream(table, digest);
  }

  /** True when the blob exists. */
  async exists(digest: string): Promise<boolean> {
    const [o, table] = await this.ops();
    return o.exists(table, digest);
  }

  /** Deletes a blob; `true` if it existed. */
  async delete(digest: string): Promise<boolean> {
    const [o, table] = await this.ops();
    return o.remove(table, digest);
  }

  /** What `JSON.stringify(container)` shows: the table and the servers (without credentials), never a secret. */
  toJSON(): { name: string; servers: readonly string[]; closed: boolean } {
    return { name: this.name, servers: this.connection.servers, closed: this.connection.closed };
  }
}
