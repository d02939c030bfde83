/**
 * The CLI's SQL buffer: lines go in, statements come out at each `;` that is outside a string, a quoted
 * identifier or a comment, so `SELECT 1; SELECT 2;` on one line runs twice and a `;` inside '…' does not end one.
 */

interface Scan {
  statements: string[];
  /** The text after the last complete statement. */
  rest: string;
  /** The rest holds SQL, not only blanks and comments. */
  significant: boolean;
  /** The rest ends inside a string, quoted identifier or block comment. */
  open: boolean;
}

function scan(text: string): Scan {
  const statements: string[] = [];
  let start = 0;
  let significant = false;
  // "e'": an escape string (E'…'), where a backslash escapes the next character, \' included.
  let state: "sql" | "'" | "e'" | '"' | "--" | "/*" = "sql";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    const next = text[i + 1];
    if (state === "sql") {
      if (c === "'" && /(^|[^\w$])[eE]$/.test(text.slice(Math.max(0, i - 2), i))) state = "e'";
      else if (c === "'" || c === '"') state = c;
      else if (c === "-" && next === "-") (state = "--"), i++;
      else if (c === "/" && next === "*") (state = "/*"), i++;
      else if (c === ";") {
        if (significant) statements.push(text.slice(start, i).trim());
        start = i + 1;
        significant = false;
        continue;
      }
      if (state !== "--" && state !== "/*" && c !== undefined && /\S/.test(c)) significant = true;
    } else if (state === "e'") {
      if (c === "\\") i++;
      else if (c === "'" && next === "'") i++;
      else if (c === "'") state = "sql";
    } else if (state === "'" || state === '"') {
      // A doubled quote ('' or "") is an escaped quote: leaving and re-entering the state handles it.
      if (c === state) state = "sql";
    } else if (state === "--") {
      if (c === "\n") state = "sql";
    } else if (c === "*" && next === "/") {
      state = "sql";
      i++;
    }
  }
  return { statements, rest: text.slice(start), significant, open: state === "'" || state === "e'" || state === '"' || state === "/*" };
}

/** SQL typed line by line, split into complete statements. */
export class StatementBuffer {
  private text = "";
  private last: Scan = scan("");

  /** Adds one line; returns the statements it completed (trimmed, without their `;`). */
  push(line: string): string[] {
    this.last = scan(this.text === "" ? line : `${this.text}\n${line}`);
    this.text = this.last.significant || this.last.open ? this.last.rest : "";
    return this.last.statements;
  }

  /** Text waiting for its `;`. */
  get pending(): boolean {
    return this.text !== "";
  }

  /** The buffer ends inside a string, quoted identifier or block comment (a `\` line there is SQL, not a command). */
  get open(): boolean {
    return this.text !== "" && this.last.open;
  }

  /** What is waiting, for running it at the end of a script that forgot its last `;`. */
  take(): string {
    const rest = this.last.significant ? this.text.trim() : "";
    this.clear();
    return rest;
  }

  clear(): void {
    this.text = "";
    this.last = scan("");
  }
}
