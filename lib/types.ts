/** Column type ids (`col_types`), Converter and DefaultTypeConverter. */

/** A CrateDB column type: a type id, or `[100, inner]` for arrays (nested as deep as needed). */
export type ColType = number | [100, ColType];

/** CrateDB's HTTP type ids (`col_types`), protocol §1.7. */
export const DataType: {
  readonly NULL: 0; readonly NOT_SUPPORTED: 1; readonly CHAR: 2; readonly BOOLEAN: 3; readonly TEXT: 4; readonly IP: 5;
  readonly DOUBLE: 6; readonly REAL: 7; readonly SMALLINT: 8; readonly INTEGER: 9; readonly BIGINT: 10;
  readonly TIMESTAMP_WITH_TZ: 11; readonly OBJECT: 12; readonly GEOPOINT: 13; readonly GEOSHAPE: 14;
  readonly TIMESTAMP_WITHOUT_TZ: 15; readonly UNCHECKED_OBJECT: 16; readonly INTERVAL: 17; readonly ROW: 18;
  readonly REGPROC: 19; readonly TIMETZ: 20; readonly OIDVECTOR: 21; readonly NUMERIC: 22; readonly REGCLASS: 23;
  readonly DATE: 24; readonly BIT: 25; readonly JSON: 26; readonly CHARACTER: 27; readonly FLOAT_VECTOR: 28;
  readonly UUID: 29; readonly REGTYPE: 30; readonly ARRAY: 100;
} = /* @__PURE__ */ Object.freeze({
  NULL: 0, NOT_SUPPORTED: 1, CHAR: 2, BOOLEAN: 3, TEXT: 4, IP: 5, DOUBLE: 6, REAL: 7, SMALLINT: 8, INTEGER: 9,
  BIGINT: 10, TIMESTAMP_WITH_TZ: 11, OBJECT: 12, GEOPOINT: 13, GEOSHAPE: 14, TIMESTAMP_WITHOUT_TZ: 15,
  UNCHECKED_OBJECT: 16, INTERVAL: 17, ROW: 18, REGPROC: 19, TIMETZ: 20, OIDVECTOR: 21, NUMERIC: 22, REGCLASS: 23,
  DATE: 24, BIT: 25, JSON: 26, CHARACTER: 27, FLOAT_VECTOR: 28, UUID: 29, REGTYPE: 30, ARRAY: 100,
} as const);

/** Converts one non-null value of a column type. */
export type ConvertFn = (value: unknown) => unknown;

/**
 * Converts result values by column type id. Functions are never called with `null`; arrays
 * (`[100, inner]`) are converted element by element; unknown type ids pass values through.
 *
 * @example
 * ```ts
 * const conv = new Converter().set(DataType.BIT, (v) => parseInt(String(v).slice(2, -1), 2));
 * const conn = connect(url, { converter: conv });
 * ```
 */
export class Converter {
  private readonly mappings: Map<number, ConvertFn>;

  constructor(mappings?: Record<number, ConvertFn>) {
    this.mappings = new Map();
    if (mappings) for (const [id, fn] of Object.entries(mappings)) this.set(Number(id), fn);
  }

  /** Registers (or replaces) the function for a type id. */
  set(typeId: number, fn: ConvertFn): this {
    if (typeof fn !== "function") throw new TypeError(`Converter for type ${typeId} must be a function`);
    this.mappings.set(typeId, fn);
    return this;
  }

  /** The function for a type id, if any. */
  get(typeId: number): ConvertFn | undefined {
    return this.mappings.get(typeId);
  }

  /** Converts one value of a column type. */
  convert(type: ColType | undefined, value: unknown): unknown {
    if (value === null || value === undefined || type === undefined) return value;
    if (Array.isArray(type)) {
      const inner = type[1];
      return Array.isArray(value) ? value.map((v: unknown) => this.convert(inner, v)) : value;
    }
    const fn = this.mappings.get(type);
    return fn === undefined ? value : fn(value);
  }

  /** True when some column of these types has a conversion (so rows need a pass at all). */
  affects(types: readonly ColType[]): boolean {
    return types.some((t) => this.mappings.has(baseType(t)));
  }
}

/** The element type id of a possibly nested array type. */
export function baseType(t: ColType): number {
  let cur: ColType = t;
  while (Array.isArray(cur)) cur = cur[1];
  return cur;
}

const toDate: ConvertFn = (v) => (typeof v === "number" || typeof v === "string" ? new Date(Number(v)) : v);
const specialFloat: ConvertFn = (v) =>
  v === "NaN" ? Number.NaN : v === "Infinity" ? Number.POSITIVE_INFINITY : v === "-Infinity" ? Number.NEGATIVE_INFINITY : v;

/**
 * The usual conversions: TIMESTAMP (11, 15) and DATE (24) → `Date`; the DOUBLE/REAL strings
 * `"NaN"`, `"Infinity"`, `"-Infinity"` → numbers. Extra mappings are applied on top.
 *
 * @example
 * ```ts
 * const conn = connect(url, { converter: new DefaultTypeConverter() });
 * const { rows } = await conn.query("SELECT now()"); // rows[0][0] instanceof Date
 * ```
 */
export class DefaultTypeConverter extends Converter {
  constructor(moreMappings?: Record<number, ConvertFn>) {
    super({
      [DataType.TIMESTAMP_WITH_TZ]: toDate,
      [DataType.TIMESTAMP_WITHOUT_TZ]: toDate,
      [DataType.DATE]: toDate,
      [DataType.DOUBLE]: specialFloat,
      [DataType.REAL]: specialFloat,
      ...moreMappings,
    });
  }
}
