/**
 * Values between CrateDB's HTTP JSON and PostgreSQL's text format (protocol §1.6, §1.7).
 *
 * PostgreSQL results arrive as raw text (every type's parser is the identity) and become CrateDB JSON values:
 * integers and NUMERIC as exact `JsonNumber`s (no JS rounding), REAL/DOUBLE in Java's `Double.toString` form, NaN and
 * ±Infinity as strings, timestamps and dates as epoch milliseconds, json/jsonb inlined, point as `[x, y]`, arrays
 * recursively. Request `args` are turned into PostgreSQL text for the parameter type PostgreSQL inferred.
 */
import { JsonNumber, parseJson, stringify, type JsonValue } from "../fake/json.js";

/** A `col_types` entry: a type id, or `[100, inner]` for arrays. */
export type ColType = number | [number, ColType];

/** PostgreSQL type OIDs used here. */
export const OID = {
  bool: 16, bytea: 17, char: 18, name: 19, int8: 20, int2: 21, int4: 23, regproc: 24, text: 25, oid: 26,
  json: 114, xml: 142, point: 600, cidr: 650, float4: 700, float8: 701, unknown: 705, inet: 869, bpchar: 1042,
  varchar: 1043, date: 1082, time: 1083, timestamp: 1114, timestamptz: 1184, interval: 1186, timetz: 1266,
  bit: 1560, varbit: 1562, numeric: 1700, regclass: 2205, regtype: 2206, record: 2249, uuid: 2950, jsonb: 3802,
  oidvector: 30,
} as const;

/** PostgreSQL OID → CrateDB type id. Anything else (enums, domains, …) is sent as text (4). */
const CRATE_TYPE: Record<number, number> = {
  [OID.bool]: 3, [OID.bytea]: 4, [OID.char]: 4, [OID.name]: 4, [OID.int8]: 10, [OID.int2]: 8, [OID.int4]: 9,
  [OID.regproc]: 19, [OID.text]: 4, [OID.oid]: 9, [OID.json]: 12, [OID.jsonb]: 12, [OID.xml]: 4, [OID.point]: 13,
  [OID.cidr]: 5, [OID.inet]: 5, [OID.float4]: 7, [OID.float8]: 6, [OID.unknown]: 4, [OID.bpchar]: 27, [OID.varchar]: 4,
  [OID.date]: 24, [OID.time]: 20, [OID.timetz]: 20, [OID.timestamp]: 15, [OID.timestamptz]: 11, [OID.interval]: 17,
  [OID.bit]: 25, [OID.varbit]: 25, [OID.numeric]: 22, [OID.regclass]: 4, [OID.regtype]: 30, [OID.record]: 18,
  [OID.uuid]: 29, [OID.oidvector]: 21,
};

/** Array type OID → element type OID (from `pg_type`, filled at startup and on demand). */
export type ArrayTypes = Map<number, number>;

export function colType(oid: number, arrays: ArrayTypes): ColType {
  const elem = arrays.get(oid);
  if (elem !== undefined) return [100, colType(elem, arrays)];
  return CRATE_TYPE[oid] ?? 4;
}

// ---------------------------------------------------------------- PostgreSQL text → CrateDB JSON

/** `Double.toString`/`Float.toString` of the number PostgreSQL printed in shortest form (`1e+20` → `1.0E20`). */
export function javaFloat(text: string): JsonValue {
  if (text === "NaN" || text === "Infinity" || text === "-Infinity") return text; // Jackson writes these as strings
  const m = /^(-)?([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!m) return text;
  const sign = m[1] ?? "";
  let digits = (m[2] ?? "") + (m[3] ?? "");
  let exp10 = (m[2] ?? "").length + Number(m[4] ?? 0); // value = 0.digits × 10^exp10
  const lead = /^0*/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(lead).replace(/0+$/, "");
  exp10 -= lead;
  if (digits === "") return new JsonNumber(`${sign}0.0`);
  const sci = exp10 - 1;
  if (sci >= -3 && sci < 7) {
    if (exp10 <= 0) return new JsonNumber(`${sign}0.${"0".repeat(-exp10)}${digits}`);
    if (exp10 >= digits.length) return new JsonNumber(`${sign}${digits}${"0".repeat(exp10 - digits.length)}.0`);
    return new JsonNumber(`${sign}${digits.slice(0, exp10)}.${digits.slice(exp10)}`);
  }
  return new JsonNumber(`${sign}${digits[0]}.${digits.slice(1) || "0"}E${sci}`);
}

const TS = /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d+))?)?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?( BC)?$/;

/** PostgreSQL's ISO timestamp/date output → epoch milliseconds (microseconds truncated, as CrateDB stores ms). */
export function epochMillis(text: string): number | undefined {
  const m = TS.exec(text);
  if (!m) return undefined;
  const n = (i: number) => Number(m[i] ?? 0);
  const year = m[12] ? 1 - n(1) : n(1);
  const d = new Date(0);
  d.setUTCFullYear(year, n(2) - 1, n(3));
  d.setUTCHours(n(4), n(5), n(6), Math.floor(Number((m[7] ?? "").padEnd(6, "0").slice(0, 6)) / 1000));
  const offset = m[8] ? (m[8] === "-" ? -1 : 1) * (n(9) * 3600 + n(10) * 60 + n(11)) : 0;
  return d.getTime() - offset * 1000;
}

/** `HH:MM:SS[.ffffff][±HH[:MM]]` → CrateDB's timetz pair `[microsFromMidnight, secondsFromUTC]`. */
function timePair(text: string): JsonValue {
  const m = /^(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(?:([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?)?$/.exec(text);
  if (!m) return text;
  const micros = ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3])) * 1_000_000 + Number((m[4] ?? "").padEnd(6, "0").slice(0, 6));
  const offset = m[5] ? (m[5] === "-" ? -1 : 1) * (Number(m[6]) * 3600 + Number(m[7] ?? 0) * 60 + Number(m[8] ?? 0)) : 0;
  return [new JsonNumber(String(micros)), new JsonNumber(String(offset))];
}

/** Parse a PostgreSQL array literal (`{1,NULL,"a b",{2,3}}`) into nested arrays of element texts (null for NULL). */
export function parseArrayLiteral(text: string): unknown[] {
  let s = text;
  if (s.startsWith("[")) s = s.slice(s.indexOf("=") + 1); // `[0:1]={…}` dimension decoration
  let i = 0;
  const parse = (): unknown[] => {
    const out: unknown[] = [];
    i++; // {
    if (s[i] === "}") {
      i++;
      return out;
    }
    for (;;) {
      const c = s[i];
      if (c === "{") out.push(parse());
      else if (c === '"') {
        let v = "";
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === "\\") i++;
          v += s[i];
          i++;
        }
        i++;
        out.push(v);
      } else {
        const start = i;
        while (i < s.length && s[i] !== "," && s[i] !== "}") i++;
        const v = s.slice(start, i).trim();
        out.push(v === "NULL" ? null : v);
      }
      if (s[i] === ",") i++;
      else {
        i++; // }
        return out;
      }
    }
  };
  return parse();
}

/** One PostgreSQL text value of type `oid` → its CrateDB JSON encoding. */
export function fromPg(text: string | null, oid: number, arrays: ArrayTypes): JsonValue {
  if (text === null) return null;
  const elem = arrays.get(oid);
  if (elem !== undefined) {
    const conv = (v: unknown): JsonValue => (Array.isArray(v) ? v.map(conv) : fromPg(v as string | null, elem, arrays));
    return parseArrayLiteral(text).map(conv);
  }
  switch (oid) {
    case OID.bool:
      return text === "t";
    case OID.int2:
    case OID.int4:
    case OID.int8:
    case OID.oid:
      return new JsonNumber(text);
    case OID.numeric:
      return /^-?[0-9]/.test(text) ? new JsonNumber(text) : text; // NaN, ±Infinity as strings
    case OID.float4:
    case OID.float8:
      return javaFloat(text);
    case OID.timestamp:
    case OID.timestamptz:
    case OID.date: {
      const ms = epochMillis(text);
      return ms === undefined || !Number.isFinite(ms) ? text : new JsonNumber(String(ms));
    }
    case OID.time:
    case OID.timetz:
      return timePair(text);
    case OID.json:
    case OID.jsonb:
      return parseJson(text);
    case OID.point: {
      const m = /^\(([^,]+),([^)]+)\)$/.exec(text);
      return m ? [javaFloat(m[1] as string), javaFloat(m[2] as string)] : text;
    }
    case OID.bit:
    case OID.varbit:
      return `B'${text}'`;
    case OID.oidvector:
      return text === "" ? [] : text.split(" ").map((x) => new JsonNumber(x));
    default:
      return text;
  }
}

// ---------------------------------------------------------------- CrateDB args → PostgreSQL text

const TEXTISH = new Set<number>([OID.text, OID.varchar, OID.bpchar, OID.unknown, OID.name]);

/** Thrown by `toPg` when PostgreSQL typed a parameter as text but the value is a number, boolean, array or object. */
export class NeedsTypeHint extends Error {}

function isoFromMillis(v: JsonValue): string | undefined {
  if (!(v instanceof JsonNumber)) return undefined;
  const d = new Date(v.toNumber());
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function arrayLiteral(v: JsonValue[], elem: number, arrays: ArrayTypes): string {
  const item = (x: JsonValue): string => {
    if (x === null) return "NULL";
    if (Array.isArray(x) && !arrays.has(elem) && elem !== OID.json && elem !== OID.jsonb && elem !== OID.point) {
      return arrayLiteral(x, elem, arrays);
    }
    const text = toPg(x, elem, arrays, true);
    return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  };
  return `{${v.map(item).join(",")}}`;
}

/**
 * A JSON argument as PostgreSQL text for a parameter of type `oid`. Epoch-ms numbers become ISO timestamps, arrays
 * array literals, objects JSON text, `[lon, lat]` / `POINT(lon lat)` a point. Unless `permissive`, a non-string value
 * for a text parameter throws `NeedsTypeHint` (PostgreSQL types `SELECT $1` as text; CrateDB guesses from the value).
 */
export function toPg(v: JsonValue, oid: number, arrays: ArrayTypes, permissive: boolean): string {
  if (v === null) return "NULL"; // not reached for top-level parameters (PGlite binds null itself)
  const elem = arrays.get(oid);
  if (elem !== undefined) {
    if (Array.isArray(v)) return arrayLiteral(v, elem, arrays);
    return typeof v === "string" ? v : stringify(v);
  }
  if (!permissive && TEXTISH.has(oid) && typeof v !== "string") throw new NeedsTypeHint();
  switch (oid) {
    case OID.json:
    case OID.jsonb:
      return typeof v === "string" ? v : stringify(v);
    case OID.timestamptz:
      return isoFromMillis(v) ?? plain(v);
    case OID.timestamp:
      return isoFromMillis(v)?.slice(0, -1) ?? plain(v);
    case OID.date:
      return isoFromMillis(v)?.slice(0, 10) ?? plain(v);
    case OID.time:
    case OID.timetz:
      return isoFromMillis(v)?.slice(11, -1) ?? plain(v);
    case OID.point: {
      if (Array.isArray(v) && v.length === 2) return `(${plain(v[0] ?? null)},${plain(v[1] ?? null)})`;
      const m = typeof v === "string" ? /^\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*$/i.exec(v) : null;
      return m ? `(${m[1]},${m[2]})` : plain(v);
    }
    default:
      return plain(v);
  }
}

function plain(v: JsonValue): string {
  if (typeof v === "string") return v;
  if (v instanceof JsonNumber) return v.text;
  if (typeof v === "boolean") return v ? "true" : "false";
  return stringify(v);
}

const ARRAY_OF: Record<number, number> = { 16: 1000, 20: 1016, 23: 1007, 25: 1009, 701: 1022, 1700: 1231, 3802: 3807 };

/** CrateDB's `DataTypes.guessType` as a PostgreSQL parameter type (0 = let PostgreSQL infer). */
export function guessOid(v: JsonValue): number {
  if (v === null || typeof v === "string") return 0;
  if (typeof v === "boolean") return OID.bool;
  if (v instanceof JsonNumber) {
    if (!v.isInteger) return OID.float8;
    const n = BigInt(v.text);
    if (n >= -(2n ** 31n) && n < 2n ** 31n) return OID.int4;
    return n >= -(2n ** 63n) && n < 2n ** 63n ? OID.int8 : OID.numeric;
  }
  if (Array.isArray(v)) {
    const first = v.find((x) => x !== null);
    if (first === undefined) return 0;
    return ARRAY_OF[typeof first === "string" ? OID.text : guessOid(first)] ?? 0;
  }
  return OID.jsonb;
}
