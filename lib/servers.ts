/**
 * Server URL parsing and normalisation, embedded credentials, and redaction of secrets.
 *
 * Credentials in a URL (`scheme://user:password@host…`) are split off by structure, never by what
 * they hold, so that no character of a password can change where it ends:
 * - the userinfo is everything before the LAST `@` (after the scheme, if any); the user name ends at
 *   the first `:`, the password is the rest. So a password may hold `/ # ? @ : %`, spaces and
 *   non-ASCII characters raw, and a user name may hold `@` (an e-mail address). A path prefix
 *   cannot hold a raw `@` (write `%40`).
 * - both are percent-decoded as URLs are (`%XX` → a byte, the bytes read as UTF-8); a `%` not
 *   followed by two hex digits stays a `%`. So a raw `%` followed by two hex digits must be written `%25`.
 * - in a whitespace-separated string whitespace always separates servers: a space in a password is
 *   written `%20` there, or raw in an array element (an element holding `@` is one server). A list
 *   that a space in a password could have split is refused (see splitList).
 * Every message about an entry shows it as `scheme://***@<what follows the last @>`: no part of the
 * userinfo, whatever it holds.
 */
import { InterfaceError } from "./errors.js";

/** One configured server, normalised. */
export interface ServerEntry {
  /** `scheme://host:port[/prefix]`, no trailing slash, no credentials: the server's public identity. */
  readonly url: string;
  readonly https: boolean;
  /** Credentials embedded in the URL, percent-decoded (not enumerable: never in inspect or JSON output). */
  readonly username?: string;
  readonly password?: string;
}

const DEFAULT_SERVER = "http://localhost:4200";
const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** An entry split by structure: scheme (as written, with `://`), userinfo (before the last `@`) and the rest. */
interface Parts {
  scheme: string;
  userinfo: string | undefined;
  hostPart: string;
}

function split(entry: string): Parts {
  const scheme = SCHEME.exec(entry)?.[0] ?? "";
  const rest = entry.slice(scheme.length);
  const at = rest.lastIndexOf("@");
  return at < 0 ? { scheme, userinfo: undefined, hostPart: rest } : { scheme, userinfo: rest.slice(0, at), hostPart: rest.slice(at + 1) };
}

/** How an entry may appear in a message: its userinfo, whatever it holds, replaced by `***`. */
export function shownEntry(entry: string): string {
  const p = split(entry.trim());
  return `${p.scheme}${p.userinfo === undefined ? "" : "***@"}${p.hostPart}`;
}

/** True when the authority of a scheme-less entry's host part names a port. */
function hasExplicitPort(hostPart: string): boolean {
  const authority = hostPart.split(/[/?#]/, 1)[0] ?? "";
  return /:\d*$/.test(authority) && !/^\[[^\]]*$/.test(authority);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** Percent-decodes as URLs do (a `%` without two hex digits stays); undefined when the bytes are not UTF-8. */
function percentDecode(part: string): string | undefined {
  if (!part.includes("%")) return part;
  const raw = encoder.encode(part);
  const out = new Uint8Array(raw.length);
  let n = 0;
  const hex = (b: number | undefined): number => (b === undefined ? -1 : b >= 48 && b <= 57 ? b - 48 : (b | 32) >= 97 && (b | 32) <= 102 ? (b | 32) - 87 : -1);
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i] as number;
    const hi = b === 37 ? hex(raw[i + 1]) : -1;
    const lo = hi >= 0 ? hex(raw[i + 2]) : -1;
    if (lo >= 0) {
      out[n++] = hi * 16 + lo;
      i += 2;
    } else {
      out[n++] = b;
    }
  }
  try {
    return utf8.decode(out.subarray(0, n));
  } catch {
    return undefined;
  }
}

/** A ServerEntry whose credentials are not enumerable (util.inspect, JSON.stringify and spreads skip them). */
export function serverEntry(url: string, https: boolean, username?: string, password?: string): ServerEntry {
  const entry = { url, https } as ServerEntry;
  if (username !== undefined) Object.defineProperty(entry, "username", { value: username, enumerable: false });
  if (password !== undefined) Object.defineProperty(entry, "password", { value: password, enumerable: false });
  return entry;
}

/** Parses one entry such as `h`, `h:4201`, `[::1]:4200`, `https://u:p%40ss@h/crate/`. */
export function parseServer(raw: string): ServerEntry {
  const entry = raw.trim();
  const { scheme, userinfo, hostPart } = split(entry);
  const shown = `${scheme}${userinfo === undefined ? "" : "***@"}${hostPart}`;
  const protocol = scheme === "" ? "http:" : `${scheme.slice(0, -3).toLowerCase()}:`;
  if (protocol !== "http:" && protocol !== "https:") {
    throw new InterfaceError(`Invalid server '${shown}': only http:// and https:// URLs are supported`);
  }
  if (/[?#]/.test(hostPart)) throw new InterfaceError(`Invalid server URL '${shown}': a query string or fragment is not allowed`);
  let url: URL;
  try {
    url = new URL(`${protocol}//${hostPart}`);
  } catch {
    // Never the URL error itself as the cause: Node's carries the input.
    throw new InterfaceError(`Invalid server URL '${shown}'`);
  }
  if (url.hostname === "") throw new InterfaceError(`Invalid server URL '${shown}': no host`);
  const https = protocol === "https:";
  let port = url.port;
  if (port === "") port = scheme === "" && !hasExplicitPort(hostPart) ? "4200" : https ? "443" : "80";
  const prefix = url.pathname.replace(/\/+$/, "");
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(":");
    const rawUser = colon < 0 ? userinfo : userinfo.slice(0, colon);
    const rawPassword = colon < 0 ? "" : userinfo.slice(colon + 1);
    username = rawUser === "" ? undefined : percentDecode(rawUser);
    password = rawPassword === "" ? undefined : percentDecode(rawPassword);
    if ((rawUser !== "" && username === undefined) || (rawPassword !== "" && password === undefined)) {
      throw new InterfaceError(`Invalid percent-encoding in the credentials of server '${shown}': %XX escapes must form UTF-8 text (write a literal % as %25)`);
    }
  }
  return serverEntry(`${url.protocol}//${url.hostname}:${port}${prefix}`, https, username, password);
}

/**
 * Splits a whitespace-separated server list. After the first server, one with credentials must name
 * its scheme: a scheme-less piece holding `@` is how a space in a user name or password splits a URL
 * in two (`http://u:ab cd@h` → `http://u:ab`, `cd@h`), and then a piece of the password would become
 * a server. Nothing in the text tells the two apart, so that is refused, not guessed.
 */
function splitList(text: string): string[] {
  const pieces = text.split(/\s+/).filter((s) => s !== "");
  if (pieces.slice(1).some((piece) => piece.includes("@") && !SCHEME.test(piece))) {
    throw new InterfaceError("Invalid servers: whitespace separates servers, and a later one holds '@' without a scheme: " +
      "if a user name or password holds whitespace, write it as %20 (or give each server as an array element); " +
      "otherwise give each server with credentials its scheme (http:// or https://)");
  }
  return pieces;
}

/**
 * Parses the `servers` argument: a whitespace-separated string or an array of strings (an element
 * holding `@` is one server, whitespace included; others may list several). Missing or empty means
 * `http://localhost:4200`.
 */
export function parseServers(input: unknown): ServerEntry[] {
  if (input === undefined || input === null) return [parseServer(DEFAULT_SERVER)];
  let list: string[];
  if (typeof input === "string") {
    list = splitList(input);
  } else if (Array.isArray(input)) {
    list = [];
    for (const item of input as unknown[]) {
      if (typeof item !== "string") {
        throw new InterfaceError(`Invalid server ${typeof item === "object" ? "object" : String(item)}: servers must be strings`);
      }
      if (item.includes("@") && item.trim() !== "") list.push(item.trim());
      else list.push(...splitList(item));
    }
  } else {
    throw new InterfaceError("servers must be a string or an array of strings");
  }
  if (list.length === 0) return [parseServer(DEFAULT_SERVER)];
  const entries = list.map(parseServer);
  const seen = new Set<string>();
  return entries.filter((e) => (seen.has(e.url) ? false : (seen.add(e.url), true)));
}

/**
 * Removes every secret from a text: passwords, tokens and the Basic credential, in plain,
 * percent-encoded and base64 form. Used on every message that embeds foreign error text.
 * The secrets are in a #private field: never enumerable, inspectable or serialisable.
 */
export class Redactor {
  readonly #secrets: string[];
  constructor(secrets: Iterable<string | undefined>) {
    const set = new Set<string>();
    for (const s of secrets) {
      if (s === undefined || s.length < 3) continue;
      set.add(s);
      set.add(encodeURIComponent(s));
      set.add(encodeURIComponent(s).replace(/%20/g, "+")); // as a form or query string carries it
      // As an HTML page shows it (a proxy's error page echoing the request).
      set.add(s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;"));
      set.add(s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&#34;").replace(/'/g, "&#x27;"));
      // As a JSON string would carry it, also with non-ASCII escaped (\u00e4).
      const json = JSON.stringify(s).slice(1, -1);
      set.add(json);
      set.add(json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
    }
    this.#secrets = [...set].sort((a, b) => b.length - a.length);
  }
  redact(text: string): string {
    let out = text;
    for (const s of this.#secrets) if (out.includes(s)) out = out.split(s).join("***");
    return out.replace(/\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{6,}/gi, "$1 ***");
  }
}
