/// <reference types="node" />
/** A node:http response body as a web stream (blob downloads), read from the socket as it is consumed. */
import type * as HttpModule from "node:http";
import type * as StreamModule from "node:stream";
import { TransportError } from "../transport.js";

/** Bytes a blob stream reads ahead of its consumer. */
const STREAM_READ_AHEAD = 64 * 1024;

/**
 * The response body as a web stream that reads from the socket only as fast as it is consumed. (Node 20's
 * `Readable.toWeb` counts chunks, not bytes, and reads up to 65 536 chunks ahead: a slow consumer of a large blob
 * would end up holding most of it; nodejs/node#46347, #47128.) A body cut short errors the stream.
 */
export function webStream(res: HttpModule.IncomingMessage, decoder: StreamModule.Transform | undefined): ReadableStream<Uint8Array> {
  const source = decoder ?? res;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const broken = (err: unknown): void => {
        try {
          controller.error(err instanceof Error ? err : new TransportError("response body incomplete: connection closed", true, "ECONNRESET"));
        } catch { /* already closed or errored */ }
        decoder?.destroy();
      };
      source.on("data", (chunk: Uint8Array) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) source.pause();
      });
      source.once("end", () => {
        if (!res.complete) return broken(undefined);
        try { controller.close(); } catch { /* cancelled */ }
      });
      source.once("error", broken);
      if (decoder !== undefined) {
        res.once("error", broken);
        res.pipe(decoder);
      }
      res.once("close", () => {
        if (!res.complete) broken(undefined);
      });
    },
    pull() {
      source.resume();
    },
    cancel() {
      res.destroy();
      decoder?.destroy();
    },
  }, { highWaterMark: STREAM_READ_AHEAD, size: (chunk) => chunk.byteLength });
}
