/**
 * Fault injection: FIFO rules per node (`FaultRule`), and how each `Fault` kind writes (or doesn't write) a reply.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { STATUS_CODES } from "node:http";
import type { Fault, FaultRule } from "../cluster-api.js";
import { stringify } from "./json.js";
import { emptyReply, type Reply } from "./reply.js";

interface LiveRule {
  rule: FaultRule;
  left: number;
}

export class FaultBook {
  private rules: LiveRule[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ rule, left: Math.max(1, Math.floor(rule.times ?? 1)) });
  }

  clear(): void {
    this.rules = [];
  }

  /** The first matching rule for this request fires (and is used up after `times` hits). */
  take(node: number, url: string, stmt: () => string | undefined): Fault | undefined {
    for (const live of this.rules) {
      const r = live.rule;
      if (r.node !== node || !url.includes(r.path ?? "/_sql")) continue;
      if (r.stmt !== undefined) {
        const s = stmt();
        if (s === undefined || !s.toLowerCase().includes(r.stmt.toLowerCase())) continue;
      }
      if (--live.left <= 0) this.rules.splice(this.rules.indexOf(live), 1);
      return r.fault;
    }
    return undefined;
  }
}

/** Does this fault run the statement before misbehaving? */
export function executes(f: Fault): boolean {
  return ["reset-after-headers", "slow-body", "truncated-body", "delay", "job"].includes(f.kind);
}

/** Replies for the faults that answer instead of the node (nothing is executed). */
export function syntheticReply(f: Fault, redirectBase: (node: number) => string, strippedUrl: string): Reply | undefined {
  switch (f.kind) {
    case "status": {
      const code = f.code ?? 5030;
      const message = f.message ?? "ClusterBlockException[blocked by: [SERVICE_UNAVAILABLE/2/no master];]";
      const body = stringify({ error: { message, code } });
      return { status: f.status, headers: jsonHeaders(body), body: Buffer.from(body, "utf8") };
    }
    case "html": {
      const status = f.status ?? 502;
      const title = `${status} ${STATUS_CODES[status] ?? "Error"}`;
      const body = Buffer.from(
        `<html><head><title>${title}</title></head><body><center><h1>${title}</h1></center><hr><center>nginx</center></body></html>`,
      );
      return { status, headers: [["content-type", "text/html"], ["content-length", String(body.length)]], body };
    }
    case "respond": {
      const text = f.json !== undefined ? stringify(f.json) : (f.body ?? "");
      const body = Buffer.from(text, "utf8");
      const headers: Array<[string, string]> = Object.entries(f.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]);
      if (f.json !== undefined && !headers.some(([k]) => k === "content-type")) {
        headers.push(["content-type", "application/json; charset=UTF-8"]);
      }
      if (!headers.some(([k]) => k === "content-length")) headers.push(["content-length", String(body.length)]);
      return { status: f.status, headers, body };
    }
    case "redirect":
      return emptyReply(f.status, [["location", f.location ?? redirectBase(f.to) + strippedUrl]]);
    default:
      return undefined;
  }
}

function jsonHeaders(body: string): Array<[string, string]> {
  return [["content-type", "application/json; charset=UTF-8"], ["content-length", String(Buffer.byteLength(body))]];
}

export function applyHead(res: ServerResponse, reply: Reply): void {
  res.sendDate = false; // CrateDB sends `date` only on CORS preflights (added explicitly there)
  res.statusCode = reply.status;
  for (const [k, v] of reply.headers) res.setHeader(k, v);
  // CrateDB closes without adding `connection: close`; node:http always writes a Connection header, so the
  // close-after-response replies carry `Connection: close` (a deviation that keeps clients from reusing them).
  if (reply.close) res.shouldKeepAlive = false;
}

export function writeReply(res: ServerResponse, reply: Reply): void {
  if (res.destroyed) return;
  applyHead(res, reply);
  res.end(reply.noBody ? undefined : reply.body);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Write `reply` the way the (executing) fault `f` says. */
export async function writeWithFault(req: IncomingMessage, res: ServerResponse, reply: Reply, f: Fault): Promise<void> {
  const socket = req.socket;
  const isHead = req.method === "HEAD";
  switch (f.kind) {
    case "reset-after-headers":
      applyHead(res, reply);
      res.flushHeaders();
      socket.write("", () => socket.destroy());
      return;
    case "truncated-body": {
      applyHead(res, reply);
      res.write(reply.body.subarray(0, Math.floor(reply.body.length / 2)));
      socket.end();
      return;
    }
    case "slow-body": {
      const n = Math.max(1, Math.floor(f.chunks ?? 4));
      applyHead(res, reply);
      const size = Math.ceil(reply.body.length / n);
      for (let i = 0; i < n && !isHead; i++) {
        if (i > 0) await sleep(f.delayMs);
        if (res.destroyed) return;
        const piece = reply.body.subarray(i * size, (i + 1) * size);
        if (piece.length > 0) res.write(piece);
        else res.flushHeaders();
      }
      if (!res.destroyed) res.end();
      return;
    }
    case "delay":
      await sleep(f.delayMs);
      writeReply(res, reply);
      return;
    default:
      writeReply(res, reply);
  }
}
