/** The response a fake node computed, before faults decide how (or whether) it reaches the wire. */
export interface Reply {
  status: number;
  /** Lower-case names; an array value becomes one header line per element. */
  headers: Array<[string, string | string[]]>;
  body: Buffer;
  /** Close the connection after the response (CrateDB does this for 401, 500-text, CORS preflight/403). */
  close?: boolean;
  /** HEAD: send the headers as given (content-length included) but no body. */
  noBody?: boolean;
}

export const JSON_UTF8 = "application/json; charset=UTF-8";

export function jsonReply(status: number, json: string, contentType = JSON_UTF8): Reply {
  const body = Buffer.from(json, "utf8");
  return { status, headers: [["content-type", contentType], ["content-length", String(body.length)]], body };
}

/** A plain-text reply without content-type (CrateDB's 401/403/404/500 text bodies). */
export function textReply(status: number, text: string, close = false): Reply {
  const body = Buffer.from(text, "utf8");
  return { status, headers: [["content-length", String(body.length)]], body, close };
}

export function emptyReply(status: number, headers: Array<[string, string]> = [], close = false): Reply {
  return { status, headers: [...headers, ["content-length", "0"]], body: Buffer.alloc(0), close };
}
