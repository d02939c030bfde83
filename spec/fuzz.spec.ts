// Fuzzing (fast-check), runtime-agnostic: random input at every boundary the library owns.
// - connect(): random server strings and option objects throw only InterfaceError/NotSupportedError,
//   and an option value connect() accepts can be put on the wire;
// - response decoding: random bodies (served with the `respond` fault, batched) fail only with a CrateDBError;
// - parameter encoding: random values either reach the server losslessly (the fake echoes `SELECT ?`)
//   or throw InterfaceError before any request.
import { expect } from "chai";
import {
  Connection, CrateDBError, DefaultTypeConverter, InterfaceError, NotSupportedError, connect, type ColType,
} from "cratedb-fetch";
import fc from "fast-check";
import { startCluster } from "./support/cluster.js";
import type { ClusterHandle, Fault } from "./support/cluster-api.js";

// FUZZ_SEED=<seed> (Node, Deno, Bun) replays a failed run: fast-check prints the seed with every counterexample.
const replaySeed = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FUZZ_SEED;
if (replaySeed) fc.configureGlobal({ seed: Number(replaySeed) });

const isTyped = (err: unknown): boolean => err instanceof InterfaceError || err instanceof NotSupportedError;
const describeErr = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/** connect() must return a Connection or throw InterfaceError / NotSupportedError, nothing else. */
async function connectOutcome(...args: unknown[]): Promise<Connection | undefined> {
  let conn: Connection;
  try {
    conn = (connect as (...a: unknown[]) => Connection)(...args);
  } catch (err) {
    expect(isTyped(err), `connect threw ${describeErr(err)}`).to.equal(true);
    return undefined;
  }
  expect(conn).to.be.instanceOf(Connection);
  return conn;
}

// ── server strings ────────────────────────────────────────────────────────────────────────────────
const anyString = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "binary-ascii" }), fc.string({ unit: "grapheme" }));
const SCHEME = fc.constantFrom("", "", "http://", "https://", "HTTP://", "Https://", "ftp://", "ws://", "file://", "javascript:", "//", "http:/", "http:");
const HOST = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6().map((h) => `[${h}]`), fc.ipV6(), fc.constantFrom("localhost", "[::1]", "h", ""), anyString);
const PORT = fc.oneof(fc.integer({ min: 0, max: 70_000 }).map((p) => `:${p}`), fc.constantFrom("", ":", ":abc", ":-1", ":4200"));
const USERINFO = fc.option(fc.tuple(anyString, fc.option(anyString)).map(([u, p]) => `${u}${p === null ? "" : `:${p}`}@`), { nil: "" });
const PATH = fc.oneof(fc.constant(""), fc.webPath(), anyString.map((s) => `/${s}`));
const TAIL = fc.constantFrom("", "", "/", "?q=1", "#frag", " ", "\n");
const rawServer = fc.oneof(
  anyString,
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.tuple(SCHEME, USERINFO, HOST, PORT, PATH, TAIL).map((parts) => parts.join("")),
);
const anything = fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, maxDepth: 2 });

// Valid servers, with the normalised form `servers` must show (scheme://host:port/prefix, no credentials).
const LABEL = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
const VALID_HOST = fc.oneof(
  fc.array(LABEL, { minLength: 1, maxLength: 3 }).map((l) => l.join(".")).filter((h) => {
    try {
      return new URL(`http://${h}`).hostname === h; // what WHATWG URL accepts as a domain as it is
    } catch {
      return false;
    }
  }),
  fc.ipV4(),
  fc.constantFrom("[::1]", "[2001:db8::7]", "localhost"),
);
const SEGMENT = fc.stringMatching(/^[a-z0-9_~-]{1,6}$/);
const validServer = fc.record({
  scheme: fc.constantFrom("", "http://", "https://"),
  user: fc.option(fc.tuple(anyString, anyString), { nil: undefined }),
  host: VALID_HOST,
  port: fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }),
  path: fc.array(SEGMENT, { maxLength: 3 }),
  slash: fc.boolean(),
}).map((s) => {
  const userinfo = s.user === undefined ? "" : `${encodeURIComponent(s.user[0])}:${encodeURIComponent(s.user[1])}@`;
  const path = s.path.length === 0 ? (s.slash ? "/" : "") : `/${s.path.join("/")}${s.slash ? "/" : ""}`;
  const raw = `${s.scheme}${userinfo}${s.host}${s.port === undefined ? "" : `:${s.port}`}${path}`;
  const scheme = s.scheme === "" ? "http:" : s.scheme.slice(0, -2);
  const port = s.port ?? (s.scheme === "" ? 4200 : scheme === "https:" ? 443 : 80);
  const host = new URL(`http://${s.host}`).hostname;
  const expected = `${scheme}//${host}:${port}${s.path.length === 0 ? "" : `/${s.path.join("/")}`}`;
  return { raw, expected, secrets: s.user === undefined ? [] : [s.user[1]].filter((p) => p.length >= 3) };
});

// ── option objects ────────────────────────────────────────────────────────────────────────────────
const KNOWN_VALID: Record<string, fc.Arbitrary<unknown>> = {
  username: anyString, password: anyString, jwtToken: anyString, schema: anyString,
  timeout: fc.oneof(fc.integer({ min: 1, max: 60_000 }), fc.double()),
  backoffFactor: fc.double(), maxRetries: fc.oneof(fc.nat(20), fc.integer()), retryInterval: fc.double(),
  errorTrace: fc.boolean(), verifySslCert: fc.boolean(), sslRelaxMinimumVersion: fc.boolean(), socketKeepalive: fc.boolean(),
  caCert: fc.oneof(anyString, fc.constant("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----")),
  certFile: anyString, keyFile: anyString,
  socketTcpKeepidle: fc.double(), socketTcpKeepintvl: fc.double(), socketTcpKeepcnt: fc.integer(), poolSize: fc.integer(),
  compress: fc.oneof(fc.boolean(), fc.integer(), fc.double()),
  int64: fc.constantFrom("number", "bigint", "string", "BIGINT", ""), numeric: fc.constantFrom("number", "string", "decimal"),
  converter: fc.constantFrom(new DefaultTypeConverter(), {}, null),
  rowMode: fc.constantFrom("array", "object", "map"),
  fetch: fc.constantFrom(globalThis.fetch, () => undefined, "fetch"),
  headers: fc.oneof(fc.dictionary(anyString, anyString, { maxKeys: 3 }), anything),
  logger: fc.oneof(fc.constant({}), fc.record({ warn: fc.constantFrom(() => undefined, "warn") }, { requiredKeys: [] }), anything),
  servers: fc.oneof(rawServer, fc.array(rawServer, { maxLength: 3 })),
};
// Valid option objects (no conflicting combinations), and valid ones with one key set to anything.
const VALID_OPTIONS = fc.record({
  credentials: fc.option(fc.record({ username: fc.string({ minLength: 1 }), password: fc.string() }, { requiredKeys: ["username"] }), { nil: undefined }),
  schema: fc.string({ minLength: 1 }), timeout: fc.integer({ min: 1, max: 60_000 }), backoffFactor: fc.nat(1000),
  maxRetries: fc.nat(20), retryInterval: fc.nat(60_000), errorTrace: fc.boolean(), verifySslCert: fc.constant(true),
  socketKeepalive: fc.constant(true), compress: fc.oneof(fc.boolean(), fc.nat(100_000)),
  int64: fc.constantFrom("number", "bigint", "string"), numeric: fc.constantFrom("number", "string"),
  rowMode: fc.constantFrom("array", "object"), converter: fc.constant(new DefaultTypeConverter()),
  headers: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/).filter((h) => h !== "authorization"), fc.string(), { maxKeys: 3 }),
  logger: fc.constantFrom({}, { warn: () => undefined }, { debug: () => undefined, info: () => undefined, warn: () => undefined }),
}, { requiredKeys: [] }).map(({ credentials, ...rest }) => ({ ...rest, ...credentials }) as Record<string, unknown>);
const ONE_BAD = fc.tuple(VALID_OPTIONS, fc.constantFrom(...Object.keys(KNOWN_VALID)), fc.oneof(anything, fc.constantFrom(undefined, null, "", 0, -1, Number.NaN, Number.POSITIVE_INFINITY, true, [], {})))
  .map(([o, key, value]) => ({ ...o, [key]: value }));
const WILD_OPTIONS = fc.tuple(
  fc.record(Object.fromEntries(Object.entries(KNOWN_VALID).map(([k, arb]) => [k, fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: anything })])), { requiredKeys: [] }),
  fc.dictionary(fc.oneof(anyString, fc.constantFrom("jwt_token", "ca_cert", "pool_size", "time_zone", "error_trace")), anything, { maxKeys: 2 }),
  fc.boolean(),
).map(([known, unknown, withUnknown]) => (withUnknown ? { ...unknown, ...known } : known));
const optionObject = fc.oneof(VALID_OPTIONS, ONE_BAD, WILD_OPTIONS);

// Options whose values travel in request headers (or change nothing a `SELECT 1` could notice).
const HEADER_STRING = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.string({ unit: "binary-ascii" }), fc.string({ unit: "grapheme" }));
const wireOptions = fc.record({
  username: HEADER_STRING, password: HEADER_STRING, jwtToken: HEADER_STRING, schema: HEADER_STRING,
  headers: fc.dictionary(fc.constantFrom("x-app", "x-trace-id", "x-tenant"), HEADER_STRING, { maxKeys: 2 }),
  compress: fc.oneof(fc.boolean(), fc.nat(64)),
  errorTrace: fc.boolean(),
}, { requiredKeys: [] });

// ── response bodies (raw JSON text, so that number literals can be anything) ────────────────────────
const NUM = fc.oneof(
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
  fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }).map(String),
  fc.constantFrom("1e400", "-1e400", "1.5", "0.1e1", "-0", "1E2", "12345678901234567890.123456789", "9007199254740993", "-9223372036854775808", "1e21"),
);
const { json: JSON_TEXT } = fc.letrec<{ json: string }>((tie) => ({
  json: fc.oneof({ depthSize: "small" },
    NUM, HEADER_STRING.map((s) => JSON.stringify(s)), fc.constantFrom("true", "false", "null"),
    fc.array(tie("json"), { maxLength: 4 }).map((a) => `[${a.join(",")}]`),
    fc.dictionary(HEADER_STRING, tie("json"), { maxKeys: 4 }).map((d) => `{${Object.entries(d).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`)),
}));
const { t: COL_TYPE } = fc.letrec<{ t: string }>((tie) => ({
  t: fc.oneof({ depthSize: "small" },
    fc.constantFrom("0", "3", "4", "6", "7", "9", "10", "11", "12", "15", "22", "24", "100", "-1", "999"),
    tie("t").map((x) => `[100,${x}]`), fc.constantFrom("[100]", "[]", "[10,10]", '"10"', "null"), JSON_TEXT),
}));
const obj = (fields: Record<string, string | undefined>): string =>
  `{${Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
const maybe = (arb: fc.Arbitrary<string>): fc.Arbitrary<string | undefined> => fc.option(arb, { nil: undefined, freq: 4 });
const RESULT_BODY = fc.integer({ min: 0, max: 4 }).chain((n) => fc.record({
  cols: maybe(fc.oneof(fc.array(HEADER_STRING, { minLength: n, maxLength: n }).map((a) => JSON.stringify(a)), JSON_TEXT)),
  col_types: maybe(fc.oneof(fc.array(COL_TYPE, { minLength: n, maxLength: n }).map((a) => `[${a.join(",")}]`), JSON_TEXT)),
  rows: maybe(fc.oneof(
    fc.array(fc.array(fc.oneof(NUM, JSON_TEXT), { minLength: n, maxLength: n }).map((r) => `[${r.join(",")}]`), { maxLength: 4 }).map((a) => `[${a.join(",")}]`),
    JSON_TEXT)),
  rowcount: maybe(fc.oneof(NUM, JSON_TEXT)),
  duration: maybe(fc.oneof(NUM, JSON_TEXT)),
})).map(obj);
// A well-formed result whose typed columns hold random literals (BIGINT, NUMERIC, TIMESTAMP, arrays of them, …).
const TYPED_RESULT_BODY = fc.array(fc.constantFrom("10", "[100,10]", "[100,[100,10]]", "22", "11", "15", "24", "6", "12", "4", "0"), { minLength: 1, maxLength: 4 })
  .chain((types) => fc.array(fc.array(fc.oneof(NUM, NUM, JSON_TEXT), { minLength: types.length, maxLength: types.length }), { minLength: 1, maxLength: 3 })
    .map((rows) => obj({
      cols: JSON.stringify(types.map((_t, i) => `c${i}`)), col_types: `[${types.join(",")}]`,
      rows: `[${rows.map((r) => `[${r.join(",")}]`).join(",")}]`, rowcount: String(rows.length), duration: "1.5",
    })));
const BULK_ITEM = fc.oneof(
  fc.record({
    rowcount: maybe(fc.oneof(fc.constantFrom("1", "0", "-2", "-1"), NUM, JSON_TEXT)),
    error: maybe(fc.oneof(fc.record({ code: maybe(fc.oneof(NUM, JSON_TEXT)), message: maybe(JSON_TEXT) }).map(obj), JSON_TEXT)),
    error_message: maybe(JSON_TEXT),
  }).map(obj),
  JSON_TEXT,
);
const BULK_BODY = fc.record({
  cols: maybe(JSON_TEXT), duration: maybe(fc.oneof(NUM, JSON_TEXT)),
  results: maybe(fc.oneof(fc.array(BULK_ITEM, { maxLength: 4 }).map((a) => `[${a.join(",")}]`), JSON_TEXT)),
}).map(obj);
const ERROR_BODY = fc.record({
  error: maybe(fc.oneof(fc.record({ message: maybe(JSON_TEXT), code: maybe(fc.oneof(NUM, JSON_TEXT)) }).map(obj), JSON_TEXT)),
  error_trace: maybe(JSON_TEXT),
}).map(obj);
const SERVER_INFO_BODY = fc.record({
  name: maybe(JSON_TEXT), cluster_name: maybe(JSON_TEXT),
  version: maybe(fc.oneof(fc.record({ number: maybe(JSON_TEXT) }).map(obj), JSON_TEXT)),
}).map(obj);
const SOME_BODY = fc.oneof(RESULT_BODY, BULK_BODY, ERROR_BODY, SERVER_INFO_BODY, JSON_TEXT, HEADER_STRING, fc.string({ unit: "binary" }));
const BODY = fc.oneof({ weight: 4, arbitrary: TYPED_RESULT_BODY }, { weight: 5, arbitrary: SOME_BODY },
  { weight: 1, arbitrary: SOME_BODY.chain((t) => fc.nat(t.length).map((k) => t.slice(0, k))) });
const RESPONSE = fc.record({
  status: fc.oneof({ weight: 3, arbitrary: fc.constant(200) },
    { weight: 1, arbitrary: fc.constantFrom(201, 204, 400, 401, 403, 404, 409, 500, 502, 503, 504, 509, 599) }),
  contentType: fc.constantFrom("application/json; charset=UTF-8", "application/json", "text/html", "text/plain", undefined),
  encoding: fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom("gzip", "deflate", "br", "identity", "x-custom") }),
  body: BODY,
  op: fc.constantFrom("query", "query", "bulk", "cursor", "serverInfo"),
});
const DECODING = fc.record({
  int64: fc.constantFrom("number", "bigint", "string"),
  numeric: fc.constantFrom("number", "string"),
  rowMode: fc.constantFrom("array", "object"),
  converter: fc.boolean(),
});

// ── parameters ────────────────────────────────────────────────────────────────────────────────────
/** What JSON cannot carry faithfully and must be refused before any I/O. */
const refused = fc.oneof(
  fc.int8Array({ maxLength: 3 }), fc.uint8Array({ maxLength: 3 }), fc.float64Array({ maxLength: 3 }), fc.bigInt64Array({ maxLength: 3 }),
  fc.constant(new ArrayBuffer(2)), fc.constant(new DataView(new ArrayBuffer(2))),
  fc.array(fc.integer(), { maxLength: 3 }).map((a) => new Set(a)), fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }).map((d) => new Map(Object.entries(d))),
  fc.func(fc.integer()), fc.string().map((s) => Symbol(s)), fc.constant(Promise.resolve(1)), fc.constant(/re/g), fc.constant(new WeakMap()),
  fc.constant(new Date(Number.NaN)), fc.bigInt().map((b) => Object(b) as object),
  fc.anything({ maxDepth: 1 }).map((v) => {
    const cyclic: Record<string, unknown> = { v };
    cyclic.self = cyclic;
    return cyclic;
  }),
  fc.anything({ maxDepth: 1 }).map((v) => {
    const a: unknown[] = [v];
    a.push([a]);
    return a;
  }),
);
const converted = fc.oneof(
  fc.bigInt(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.date({ noInvalidDate: true }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, undefined, 2 ** 53, 2 ** 60, 1e21, -(2 ** 63)),
  fc.integer().map((n) => new Number(n)), fc.string().map((s) => new String(s)), fc.boolean().map((b) => new Boolean(b)),
  // integer-valued doubles beyond 2^53 (JSON.stringify writes most of them with other digits)
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((b) => Number(b)).filter((n) => !Number.isSafeInteger(n)),
);
const { param: PARAM } = fc.letrec<{ param: unknown }>((tie) => ({
  param: fc.oneof({ depthSize: "small" },
    fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true, withNullPrototype: true, maxDepth: 3 }),
    converted, converted, refused,
    fc.array(tie("param"), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie("param"), { maxKeys: 4 })),
}));

class Refuse extends Error {}

/** An integer-valued double that JSON.stringify writes with other digits than its exact value. */
const isUnsafeInteger = (v: number): boolean => Number.isInteger(v) && !Number.isSafeInteger(v) && Math.abs(v) < 1e21;

/** True when a value holds such a number anywhere (the library may refuse those instead of sending exact digits). */
function holdsUnsafeInteger(v: unknown, depth = 0): boolean {
  if (depth > 8) return false;
  const x = v instanceof Number ? v.valueOf() : v;
  if (typeof x === "number") return isUnsafeInteger(x);
  if (Array.isArray(x)) return Array.from({ length: x.length }, (_y, i) => (x as unknown[])[i]).some((y) => holdsUnsafeInteger(y, depth + 1));
  if (x !== null && typeof x === "object" && !(x instanceof Date)) return Object.keys(x).some((k) => holdsUnsafeInteger((x as Record<string, unknown>)[k], depth + 1));
  return false;
}

/** A short description of each value's kind, for failure messages (fast-check prints some alike). */
const kinds = (values: unknown[]): string => values.map((v) => `${typeof v} ${Object.prototype.toString.call(v)}`).join(", ");

/**
 * The JSON the client must send for a value, written independently of the library: bigint → digits,
 * Date → epoch ms, NaN/±Infinity → null, undefined → null in arrays and omitted in objects, boxed
 * primitives → their value. Anything JSON cannot carry faithfully throws Refuse.
 */
function reference(v: unknown, inArray: boolean, stack: object[] = []): string | undefined {
  if (v === null) return "null";
  switch (typeof v) {
    case "undefined": return inArray ? "null" : undefined;
    case "boolean": return v ? "true" : "false";
    // An integer-valued double beyond 2^53 is sent as its exact digits: JSON.stringify(2 ** 60) is
    // "1152921504606847000", which CrateDB reads as a different BIGINT than 2 ** 60.
    case "number": return !Number.isFinite(v) ? "null" : isUnsafeInteger(v) ? BigInt(v).toString() : JSON.stringify(v);
    case "bigint": return v.toString();
    case "string": return JSON.stringify(v);
    case "function":
    case "symbol": throw new Refuse(typeof v);
    default: break;
  }
  const o = v as object;
  if (o instanceof Date) {
    if (Number.isNaN(o.getTime())) throw new Refuse("invalid Date");
    return String(o.getTime());
  }
  if (o instanceof Map || o instanceof Set || o instanceof WeakMap || o instanceof WeakSet || ArrayBuffer.isView(o) ||
    o instanceof ArrayBuffer || o instanceof Promise || o instanceof RegExp || o instanceof BigInt) throw new Refuse(Object.prototype.toString.call(o));
  if (o instanceof Number || o instanceof String || o instanceof Boolean) return reference(o.valueOf(), inArray, stack);
  if (stack.includes(o)) throw new Refuse("cycle");
  stack.push(o);
  let out: string;
  if (Array.isArray(o)) {
    out = `[${Array.from({ length: o.length }, (_v, i) => reference((o as unknown[])[i], true, stack)).join(",")}]`;
  } else {
    const parts: string[] = [];
    for (const k of Object.keys(o)) {
      const s = reference((o as Record<string, unknown>)[k], false, stack);
      if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
    }
    out = `{${parts.join(",")}}`;
  }
  stack.pop();
  return out;
}

/**
 * The echoed value must equal the sent one, up to the documented conversions. Integers are exact
 * where the column type says BIGINT (10, also inside arrays) with int64: "bigint"; elsewhere JSON
 * numbers are doubles, so an integer beyond 2^53 nested in an object comes back as the nearest double.
 */
function expectEcho(actual: unknown, sent: unknown, type: ColType | undefined, path: string): void {
  let v = sent;
  if (v instanceof Number || v instanceof String || v instanceof Boolean) v = v.valueOf();
  if (v instanceof Date) v = v.getTime();
  if (v === undefined || v === null || (typeof v === "number" && !Number.isFinite(v))) {
    expect(actual, path).to.equal(null);
    return;
  }
  if (typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v) && Math.abs(v) < 1e21)) {
    const exact = BigInt(v as bigint | number);
    if (type === 10) expect(actual, `${path} (BIGINT column)`).to.equal(exact);
    else expect(actual === Number(exact), `${path}: ${String(actual)} ≠ ${String(Number(exact))}`).to.equal(true);
    return;
  }
  if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") {
    expect(actual === v || (v === 0 && actual === 0), `${path}: ${String(actual)} ≠ ${String(v)}`).to.equal(true);
    return;
  }
  if (Array.isArray(v)) {
    expect(Array.isArray(actual), `${path} is an array`).to.equal(true);
    const a = actual as unknown[];
    expect(a.length, `${path}.length`).to.equal(v.length);
    const inner = Array.isArray(type) ? type[1] : undefined;
    for (let i = 0; i < v.length; i++) expectEcho(a[i], (v as unknown[])[i], inner, `${path}[${i}]`);
    return;
  }
  expect(actual !== null && typeof actual === "object" && !Array.isArray(actual), `${path} is an object`).to.equal(true);
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  expect(Object.keys(actual as object).sort(), `${path} keys`).to.deep.equal([...keys].sort());
  for (const k of keys) expectEcho((actual as Record<string, unknown>)[k], o[k], undefined, `${path}.${k}`);
}

/** A value as JSON carries it (documented conversions applied), for the type guess below. */
function jsonish(v: unknown): unknown {
  if (v instanceof Number || v instanceof String || v instanceof Boolean) return v.valueOf();
  if (v instanceof Date) return v.getTime();
  if (v === undefined || (typeof v === "number" && !Number.isFinite(v))) return null;
  return v;
}

/**
 * The column type the fake guesses for an echoed value: like CrateDB for scalars, but an array takes
 * the type of its first non-null element (CrateDB takes the highest-precedence one, so it types
 * `[2147483648, 0.5]` as DOUBLE[] where the fake says BIGINT[]).
 */
function fakeType(value: unknown): ColType {
  const v = jsonish(value);
  if (v === null) return 0;
  if (typeof v === "boolean") return 3;
  if (typeof v === "string") return 4;
  if (typeof v === "number" || typeof v === "bigint") {
    if (typeof v === "number" && !(Number.isInteger(v) && Math.abs(v) < 1e21)) return 6;
    const n = BigInt(v);
    return n >= -(2n ** 31n) && n < 2n ** 31n ? 9 : 10;
  }
  if (Array.isArray(v)) {
    const first = Array.from({ length: v.length }, (_x, i) => jsonish((v as unknown[])[i])).find((x) => x !== null);
    return [100, first === undefined ? 0 : fakeType(first)];
  }
  return 12;
}

/** False where the fake would label a fraction BIGINT (see fakeType): the client then rightly refuses the answer. */
function typedConsistently(value: unknown, type: ColType = fakeType(value)): boolean {
  const v = jsonish(value);
  if (type === 10) return !(typeof v === "number" && !(Number.isInteger(v) && Math.abs(v) < 1e21));
  if (Array.isArray(type) && Array.isArray(v)) return Array.from({ length: v.length }, (_x, i) => (v as unknown[])[i]).every((x) => typedConsistently(x, type[1]));
  return true;
}

describe("Fuzz: connect() with random servers and options", () => {
  it("random server strings: a Connection or InterfaceError, never anything else", async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(fc.oneof(rawServer, fc.array(rawServer, { maxLength: 4 }), fc.array(anything, { maxLength: 3 }), anything), async (servers) => {
      const conn = await connectOutcome(servers);
      if (conn === undefined) return;
      accepted++;
      for (const s of conn.servers) {
        expect(s, "a normalised server: scheme://host:port[/prefix], no credentials").to.match(/^https?:\/\/[^\s/@?#]+:\d+(\/[^\s?#]*[^/\s])?$/);
      }
      expect(conn.closed).to.equal(false);
      await conn.close();
    }), { numRuns: 400 });
    expect(accepted, "the generator also produces servers connect() accepts").to.be.above(20);
  });

  it("valid server URLs always give a Connection with the normalised server and no credentials", async () => {
    await fc.assert(fc.asyncProperty(fc.array(validServer, { minLength: 1, maxLength: 3 }), fc.boolean(), async (list, asString) => {
      // In a string, a later server with credentials must name its scheme (a space in a password could have split it).
      const stringOk = list.slice(1).every((s) => !s.raw.includes("@") || /^https?:\/\//.test(s.raw));
      const conn = connect(asString && stringOk ? list.map((s) => s.raw).join(" ") : list.map((s) => s.raw));
      const expected = [...new Set(list.map((s) => s.expected))];
      expect(conn.servers).to.deep.equal(expected);
      expect(conn.activeServers).to.deep.equal(expected);
      // A password can also be an ordinary part of some host or path (":key@0.0.0.0/keya", found by seed 469625864):
      // only passwords that the credential-free form does not contain anyway can be looked for.
      const shown = JSON.stringify(conn.servers);
      const plain = JSON.stringify(expected);
      for (const secret of list.flatMap((s) => s.secrets).map(encodeURIComponent).filter((s) => !plain.includes(s))) {
        expect(shown).not.to.include(secret);
      }
      await conn.close();
    }), { numRuns: 300 });
  });

  it("random option objects: a Connection, InterfaceError or NotSupportedError, never anything else", async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(optionObject, fc.boolean(), async (options, optionsOnly) => {
      const conn = optionsOnly ? await connectOutcome(options) : await connectOutcome("http://127.0.0.1:4200", options);
      if (conn !== undefined) accepted++;
      await conn?.close();
    }), { numRuns: 500 });
    expect(accepted, "the generator also produces valid option objects").to.be.above(10);
  });

  it("valid option objects always give a Connection (both call forms)", async () => {
    await fc.assert(fc.asyncProperty(VALID_OPTIONS, async (options) => {
      for (const conn of [connect("http://127.0.0.1:4200", options), connect({ ...options, servers: "127.0.0.1:4200" })]) {
        expect(conn).to.be.instanceOf(Connection);
        expect(conn.servers).to.deep.equal(["http://127.0.0.1:4200"]);
        await conn.close();
      }
    }), { numRuns: 300 });
  });

  it("random non-object options and argument shapes: InterfaceError", async () => {
    await fc.assert(fc.asyncProperty(anything, anything, async (a, b) => {
      const conn = await connectOutcome(a, b);
      await conn?.close();
    }), { numRuns: 300 });
  });
});

describe("Fuzz: against the fake cluster", () => {
  let cluster: ClusterHandle;
  before(async () => {
    cluster = await startCluster();
  });
  after(async () => cluster?.close());
  beforeEach(async () => {
    await cluster.clearFaults();
    await cluster.resetLog();
  });

  it("option values connect() accepts can be sent: a SELECT 1 then succeeds", async () => {
    await fc.assert(fc.asyncProperty(wireOptions, async (options) => {
      const conn = await connectOutcome(cluster.urls, options);
      if (conn === undefined) return;
      try {
        const res = await conn.query("SELECT 1");
        expect(res.rows).to.deep.equal([[1]]);
      } catch (err) {
        expect.fail(`connect() accepted ${JSON.stringify(options)}, but a request with it failed: ${describeErr(err)}`);
      } finally {
        await conn.close();
      }
    }), { numRuns: 80 });
  });

  it("random response bodies: decoding resolves or fails with a CrateDBError, never anything else", async () => {
    await fc.assert(fc.asyncProperty(DECODING, fc.array(RESPONSE, { minLength: 1, maxLength: 6 }), async (decoding, responses) => {
      const conn = connect([cluster.urls[0] as string], {
        int64: decoding.int64 as "number", numeric: decoding.numeric as "number", rowMode: decoding.rowMode as "array",
        ...(decoding.converter ? { converter: new DefaultTypeConverter() } : {}),
      });
      try {
        await cluster.clearFaults();
        for (const r of responses) {
          const headers: Record<string, string> = {};
          if (r.contentType !== undefined) headers["content-type"] = r.contentType;
          if (r.encoding !== undefined) headers["content-encoding"] = r.encoding;
          const fault: Fault = { kind: "respond", status: r.status, headers, body: r.body };
          await cluster.fault({ node: 0, fault, path: "/" });
          const run = async (): Promise<unknown> => {
            switch (r.op) {
              case "bulk": return conn.bulk("INSERT INTO fz (id) VALUES (?)", [[1], [2]]);
              case "cursor": {
                const cur = conn.cursor();
                await cur.execute("SELECT 1");
                return [cur.description, cur.rowcount, cur.duration, cur.fetchone(), cur.fetchall()];
              }
              case "serverInfo": return conn.serverInfo();
              default: return conn.query("SELECT 1");
            }
          };
          try {
            await run();
          } catch (err) {
            expect(err instanceof CrateDBError, `${r.op} of HTTP ${r.status} ${JSON.stringify(headers)} ${JSON.stringify(r.body)} with ${JSON.stringify(decoding)} threw ${describeErr(err)}`).to.equal(true);
          }
        }
      } finally {
        await cluster.clearFaults();
        await conn.close();
      }
    }), { numRuns: 100 });
  });

  it("random parameters: sent losslessly (echoed by SELECT ?) or refused with InterfaceError before any request", async () => {
    const conn = connect(cluster.urls, { int64: "bigint" });
    try {
      await fc.assert(fc.asyncProperty(fc.array(PARAM, { minLength: 1, maxLength: 3 }), async (args) => {
        await cluster.resetLog();
        let expected: string | undefined;
        try {
          expected = `[${args.map((a) => reference(a, true)).join(",")}]`;
        } catch (err) {
          if (!(err instanceof Refuse)) throw err;
        }
        const stmt = `SELECT ${args.map(() => "?").join(", ")}`;
        if (expected !== undefined) fc.pre(args.every((a) => typedConsistently(a)));
        if (expected === undefined) {
          for (const attempt of [() => conn.query(stmt, args), () => conn.cursor().execute(stmt, args), () => conn.bulk(`INSERT INTO fz (a) VALUES (${args.map(() => "?").join(", ")})`, [args])]) {
            let caught: unknown;
            try {
              await attempt();
            } catch (err) {
              caught = err;
            }
            expect(caught instanceof InterfaceError, `${kinds(args)}: expected InterfaceError, got ${caught === undefined ? "success" : describeErr(caught)}`).to.equal(true);
          }
          expect(await cluster.requests(), "nothing reached the server").to.have.length(0);
          return;
        }
        let res;
        try {
          res = await conn.query(stmt, args);
        } catch (err) {
          // Refusing an integer-valued double beyond 2^53 (instead of sending its exact digits) is fine too.
          if (err instanceof InterfaceError && args.some((a) => holdsUnsafeInteger(a))) {
            expect(await cluster.requests(), "nothing reached the server").to.have.length(0);
            return;
          }
          expect.fail(`${stmt} with ${expected} failed: ${describeErr(err)}`);
        }
        const seen = await cluster.requests();
        expect(seen).to.have.length(1);
        const body = `{"stmt":${JSON.stringify(stmt)},"args":${expected}}`;
        expect(seen[0]?.body === body, `the JSON sent:\n  ${seen[0]?.body}\nexpected (lossless):\n  ${body}`).to.equal(true);
        const row = res.rows[0] as unknown[];
        args.forEach((a, i) => expectEcho(row[i], a, res.colTypes[i], `arg ${i}`));
      }), { numRuns: 150 });
    } finally {
      await conn.close();
    }
  });
});
