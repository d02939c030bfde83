/** Server URL parsing and normalisation, embedded credentials, and redaction of secrets. */
import { InterfaceError } from "./errors.js";

/** One configured server, normalised. */
export interface ServerEntry {
  /** `scheme://host:port[/prefix]`, no trailing slash, no credentials: the server's public identity. */
  readonly url: string;
  readonly https: boolean;
  /** Credentials embedded in the URL, percent-decoded. */
  readonly username?: string;
  readonly password?: string;
}

const DEFAULT_SERVER = "http://localhost:4200";
const HAS_SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Hides the password of a raw URL-ish entry so it can appear in an error message. */
export function hidePassword(entry: string): string {
  return entry.replace(/^((?:[a-z][a-z0-9+.-]*:\/\/)?[^/@:]*):[^/@]*@/i, "$1:***@");
}

/** True when the authority part of a scheme-less entry names a port. */
function hasExplicitPort(entry: string): boolean {
  const authority = (entry.split(/[/?#]/, 1)[0] ?? "").replace(/^.*@/, "");
  return /:\d*$/.test(authority) && !/^\[[^\]]*$/.test(authority);
}

function decode(part: string, entry: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new InterfaceError(`Invalid percent-encoding in the credentials of server '${hidePassword(entry)}'`);
  }
}

/** Parses one entry such as `h`, `h:4201`, `[::1]:4200`, `https://u:p%40ss@h/crate/`. */
export function parseServer(raw: string): ServerEntry {
  const entry = raw.trim();
  const hasScheme = HAS_SCHEME.test(entry);
  if (hasScheme && !/^https?:\/\//i.test(entry)) {
    throw new InterfaceError(`Invalid server '${hidePassword(entry)}': only http:// and https:// URLs are supported`);
  }
  const text = hasScheme ? entry : `http://${entry}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InterfaceError(`Invalid server URL '${hidePassword(entry)}'`);
  }
  if (url.hostname === "") throw new InterfaceError(`Invalid server URL '${hidePassword(entry)}': no host`);
  if (url.search !== "" || url.hash !== "" || /[?#]/.test(entry.replace(/^[^@]*@/, ""))) {
    throw new InterfaceError(`Invalid server URL '${hidePassword(entry)}': a query string or fragment is not allowed`);
  }
  const https = url.protocol === "https:";
  let port = url.port;
  if (port === "") port = !hasScheme && !hasExplicitPort(entry) ? "4200" : https ? "443" : "80";
  const prefix = url.pathname.replace(/\/+$/, "");
  const result: { url: string; https: boolean; username?: string; password?: string } = {
    url: `${url.protocol}//${url.hostname}:${port}${prefix}`,
    https,
  };
  if (url.username !== "") result.username = decode(url.username, entry);
  if (url.password !== "") result.password = decode(url.password, entry);
  return result;
}

/**
 * Parses the `servers` argument: a whitespace-separated string or an array of strings.
 * Missing or empty means `http://localhost:4200`.
 */
export function parseServers(input: unknown): ServerEntry[] {
  if (input === undefined || input === null) return [parseServer(DEFAULT_SERVER)];
  let list: string[];
  if (typeof input === "string") {
    list = input.split(/\s+/).filter((s) => s !== "");
  } else if (Array.isArray(input)) {
    list = [];
    for (const item of input as unknown[]) {
      if (typeof item !== "string") {
        throw new InterfaceError(`Invalid server ${typeof item === "object" ? "object" : String(item)}: servers must be strings`);
      }
      list.push(...item.split(/\s+/).filter((s) => s !== ""));
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
 */
export class Redactor {
  private readonly secrets: string[];
  constructor(secrets: Iterable<string | undefined>) {
    const set = new Set<string>();
    for (const s of secrets) {
      if (s === undefined || s.length < 3) continue;
      set.add(s);
      set.add(encodeURIComponent(s));
      // As a JSON string would carry it, also with non-ASCII escaped (\u00e4).
      const json = JSON.stringify(s).slice(1, -1);
      set.add(json);
      set.add(json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
    }
    this.secrets = [...set].sort((a, b) => b.length - a.length);
  }
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) if (out.includes(s)) out = out.split(s).join("***");
    return out.replace(/\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{6,}/gi, "$1 ***");
  }
}
