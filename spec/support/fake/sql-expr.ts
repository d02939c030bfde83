/**
 * Expressions of the fake's SQL subset: parsing, evaluation and static typing.
 *
 * Primaries: literals, `?`/`$N`, columns (`a` or `t.a`), `current_schema[()]`, `current_user`/`user`/`session_user`,
 * `count(*)`, `strpos(a, b)`, `concat(a, …)`, `(expr)`. Operators: `* /` over `+ -` (integers exact as BigInt),
 * comparisons `= <> != < > <= >=` (in WHERE), NULL propagating.
 */
import { JsonNumber, stringify, type JsonValue } from "./json.js";
import { Cursor, errors, SqlError } from "./sql-lexer.js";

export type CmpOp = "=" | "<>" | "!=" | "<" | ">" | "<=" | ">=";
export type ArithOp = "+" | "-" | "*" | "/";

export type Expr =
  | { k: "lit"; v: JsonValue }
  | { k: "param"; n: number }
  | { k: "col"; name: string }
  | { k: "fn"; name: "current_schema" | "current_user" | "count" }
  | { k: "call"; name: "strpos" | "concat"; args: Expr[] }
  | { k: "bin"; op: ArithOp; a: Expr; b: Expr }
  | { k: "cmp"; op: CmpOp; a: Expr; b: Expr };

/** A `col_types` entry: a type id, or `[100, inner]` for arrays. */
export type ColType = number | [number, ColType];

const CMP_OPS: CmpOp[] = ["=", "<>", "!=", "<=", ">=", "<", ">"];
const RESERVED = ["from", "where", "select", "order", "limit", "values", "set", "and", "for"];

/** `expr [cmp expr]` (a WHERE condition). */
export function condition(c: Cursor): Expr {
  const a = expr(c);
  const op = CMP_OPS.find((o) => c.is(o));
  if (op === undefined) return a;
  c.next();
  return { k: "cmp", op, a, b: expr(c) };
}

export function expr(c: Cursor): Expr {
  let a = term(c);
  while (c.is("+") || c.is("-")) {
    const op = c.next().value as ArithOp;
    a = { k: "bin", op, a, b: term(c) };
  }
  return a;
}

function term(c: Cursor): Expr {
  let a = primary(c);
  while (c.is("*") || c.is("/")) {
    const op = c.next().value as ArithOp;
    a = { k: "bin", op, a, b: primary(c) };
  }
  return a;
}

function primary(c: Cursor): Expr {
  const t = c.next();
  switch (t.kind) {
    case "number":
      return { k: "lit", v: new JsonNumber(t.value) };
    case "string":
      return { k: "lit", v: t.value };
    case "param":
      return { k: "param", n: c.paramIndex(t) };
    case "qident":
      return { k: "col", name: t.value };
    case "punct": {
      const n = c.peek();
      if (t.value === "-" && n?.kind === "number") {
        c.next();
        return { k: "lit", v: new JsonNumber("-" + n.value) };
      }
      if (t.value === "(") {
        const inner = condition(c);
        c.expect(")");
        return inner;
      }
      c.i--;
      return c.fail();
    }
    case "ident":
      break;
  }
  switch (t.value) {
    case "true":
    case "false":
      return { k: "lit", v: t.value === "true" };
    case "null":
      return { k: "lit", v: null };
    case "current_schema":
      if (c.accept("(")) c.expect(")");
      return { k: "fn", name: "current_schema" };
    case "current_user":
    case "user":
    case "session_user":
      return { k: "fn", name: "current_user" };
    case "count":
      if (c.is("(")) {
        c.expect("(", "*", ")");
        return { k: "fn", name: "count" };
      }
      break;
    case "strpos":
    case "concat":
      if (c.accept("(")) {
        const args: Expr[] = [];
        if (!c.accept(")")) {
          do args.push(expr(c));
          while (c.accept(","));
          c.expect(")");
        }
        if (t.value === "strpos" && args.length !== 2) throw unknownFunction(t.value, args.length);
        return { k: "call", name: t.value, args };
      }
      break;
    default:
      break;
  }
  if (RESERVED.includes(t.value)) {
    c.i--;
    c.fail();
  }
  if (c.accept(".")) return { k: "col", name: c.ident() };
  return { k: "col", name: t.value };
}

function unknownFunction(name: string, n: number): SqlError {
  return new SqlError(400, 4004, "UnsupportedFunctionException", `Invalid arguments in: ${name}(${Array(n).fill("?").join(", ")})`);
}

/** What an expression can see while it is evaluated. */
export interface EvalContext {
  args: JsonValue[];
  schema: string;
  user: string;
  /** The current row's column value; absent outside a FROM. */
  col?: (name: string) => JsonValue;
}

export function evaluate(e: Expr, ctx: EvalContext): JsonValue {
  switch (e.k) {
    case "lit":
      return e.v;
    case "param":
      if (e.n < 1 || e.n > ctx.args.length) {
        throw errors.parse(`The query contains a parameter placeholder $${e.n}, but there are only ${ctx.args.length} parameter values`);
      }
      return ctx.args[e.n - 1] as JsonValue;
    case "fn":
      if (e.name === "current_schema") return ctx.schema;
      if (e.name === "current_user") return ctx.user;
      throw errors.parse("count(*) is only supported with FROM");
    case "col":
      if (!ctx.col) throw errors.columnUnknown(e.name);
      return ctx.col(e.name);
    case "call": {
      const vs = e.args.map((a) => evaluate(a, ctx));
      if (e.name === "concat") return vs.map((v) => (v === null ? "" : text(v))).join("");
      const [hay, needle] = vs;
      if (hay === null || needle === null || hay === undefined || needle === undefined) return null;
      return new JsonNumber(String(text(hay).indexOf(text(needle)) + 1));
    }
    case "bin":
      return arith(e.op, evaluate(e.a, ctx), evaluate(e.b, ctx));
    case "cmp": {
      const a = evaluate(e.a, ctx);
      const b = evaluate(e.b, ctx);
      if (a === null || b === null) return null;
      if (e.op === "=") return sameValue(a, b);
      if (e.op === "<>" || e.op === "!=") return !sameValue(a, b);
      const d = compare(a, b);
      return e.op === "<" ? d < 0 : e.op === ">" ? d > 0 : e.op === "<=" ? d <= 0 : d >= 0;
    }
  }
}

function text(v: JsonValue): string {
  if (typeof v === "string") return v;
  if (v instanceof JsonNumber) return v.text;
  return stringify(v);
}

function arith(op: ArithOp, a: JsonValue, b: JsonValue): JsonValue {
  if (a === null || b === null) return null;
  if (!(a instanceof JsonNumber) || !(b instanceof JsonNumber)) {
    throw errors.parse(`Cannot apply ${op} to ${stringify(a)} and ${stringify(b)}`);
  }
  if (a.isInteger && b.isInteger) {
    const x = BigInt(a.text);
    const y = BigInt(b.text);
    if (op === "/" && y === 0n) throw new SqlError(400, 4000, "ArithmeticException", "/ by zero");
    const r = op === "+" ? x + y : op === "-" ? x - y : op === "*" ? x * y : x / y;
    return new JsonNumber(r.toString());
  }
  const x = a.toNumber();
  const y = b.toNumber();
  const r = op === "+" ? x + y : op === "-" ? x - y : op === "*" ? x * y : x / y;
  const s = String(r);
  return new JsonNumber(/[.eE]/.test(s) || !Number.isFinite(r) ? s : s + ".0");
}

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

/** CrateDB's `DataTypes.guessType` as far as the fake needs it. */
export function guessType(v: JsonValue): ColType {
  if (v === null) return 0;
  if (typeof v === "boolean") return 3;
  if (typeof v === "string") return 4;
  if (v instanceof JsonNumber) {
    if (!v.isInteger) return 6;
    const n = BigInt(v.text);
    return n >= INT32_MIN && n <= INT32_MAX ? 9 : 10;
  }
  if (Array.isArray(v)) {
    const first = v.find((x) => x !== null);
    return [100, first === undefined ? 0 : guessType(first)];
  }
  return 12;
}

/** The static type of an expression (for lazy results, whose values are not known up front). */
export function typeOf(e: Expr, args: JsonValue[], colType: (name: string) => ColType): ColType {
  switch (e.k) {
    case "lit":
      return guessType(e.v);
    case "param":
      return guessType(args[e.n - 1] ?? null);
    case "col":
      return colType(e.name);
    case "fn":
      return e.name === "count" ? 10 : 4;
    case "call":
      return e.name === "strpos" ? 9 : 4;
    case "cmp":
      return 3;
    case "bin": {
      const a = typeOf(e.a, args, colType);
      const b = typeOf(e.b, args, colType);
      if (a === 6 || b === 6 || a === 7 || b === 7) return 6;
      return a === 10 || b === 10 ? 10 : 9;
    }
  }
}

export function sameValue(a: JsonValue, b: JsonValue): boolean {
  if (a instanceof JsonNumber && b instanceof JsonNumber) {
    if (a.isInteger && b.isInteger) return BigInt(a.text) === BigInt(b.text);
    return a.toNumber() === b.toNumber();
  }
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return a === b;
  return stringify(a) === stringify(b);
}

export function compare(a: JsonValue, b: JsonValue): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1; // NULLS LAST
  if (a instanceof JsonNumber && b instanceof JsonNumber) return a.toNumber() - b.toNumber();
  const x = String(a instanceof JsonNumber ? a.text : a);
  const y = String(b instanceof JsonNumber ? b.text : b);
  return x < y ? -1 : x > y ? 1 : 0;
}
