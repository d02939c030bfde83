/**
 * The SQL engine of the embedded test server: one in-memory PGlite (PostgreSQL compiled to WebAssembly) that runs
 * translated CrateDB statements and answers in CrateDB's result shapes, errors and codes.
 *
 * PGlite is a single PostgreSQL session, so the engine runs one request at a time (`serial`) and sets each HTTP
 * connection's `search_path` before running its statement. Startup runs initdb once and caches a pristine data
 * directory as a tarball under `node_modules/.cache/cratedb-fetch/`; later starts load it (~1–2 s instead of ~5 s).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import type { PGlite, Results } from "@electric-sql/pglite";
import type { JsonValue } from "../fake/json.js";
import { SqlError } from "../fake/sql-lexer.js";
import { cursorPlan, newSessionCursors, pgCursorSql, type CursorPlan, type SessionCursors } from "./streaming.js";
import { quoteIdent, translate, TranslateError, type Plan } from "./translate.js";
import { colType, fromPg, guessOid, NeedsTypeHint, toPg, type ArrayTypes, type ColType } from "./values.js";

export type SqlResult =
  | { kind: "rows"; cols: string[]; colTypes: ColType[]; rows: JsonValue[][] }
  | { kind: "count"; rowcount: number };

export type BulkItem = { rowcount: number } | { rowcount: -2; error: { code: number; message: string } };

/** Per-HTTP-connection session state (CrateDB keeps one SQL session per connection, protocol §1.4). */
export interface PgSession {
  user: string;
  /** `search_path`; the first entry is the default schema (`Default-Schema` or `doc`). */
  searchPath: string[];
  /** SQL cursors of this connection (`streaming.ts`), created on the first DECLARE. */
  cursors?: SessionCursors;
}

export interface EngineOptions {
  clusterName?: string;
  nodeName?: string;
  version?: string;
  /** Where the initdb template is cached; false: no cache (initdb on every start). */
  cacheDir?: string | false;
  /**
   * A directory that holds the database on disk (PGlite's Node filesystem), kept across restarts; created with its
   * parents when missing. Without it the database lives in memory and is gone when the server stops.
   */
  dataDir?: string;
  /** Progress lines (e.g. that the first start runs initdb). */
  log?: (line: string) => void;
}

// Not a string literal on purpose: bundlers must leave PGlite alone (it loads its .wasm/.data next to its own files).
const PGLITE_MODULE = ["@electric-sql", "pglite"].join("/");

interface PGliteModule {
  PGlite: new (dataDirOrOptions?: string | { loadDataDir?: Blob }) => PGlite;
}

const require = createRequire(import.meta.url);

function pglitePackageDir(): string {
  return dirname(dirname(require.resolve(PGLITE_MODULE))); // …/node_modules/@electric-sql/pglite/dist/index.cjs
}

function defaultCacheDir(): string {
  return join(pglitePackageDir(), "..", "..", ".cache", "cratedb-fetch");
}

/** A fresh PGlite: from the cached template when there is one, else initdb (and cache the result). */
async function openPglite(cacheDir: string | false, log: (line: string) => void, dataDir?: string): Promise<PGlite> {
  const { PGlite } = (await import(PGLITE_MODULE)) as PGliteModule;
  if (dataDir !== undefined) {
    // PGlite creates the last path segment only; its initdb runs on the first start in an empty directory.
    mkdirSync(dirname(dataDir), { recursive: true });
    if (!existsSync(join(dataDir, "PG_VERSION"))) log(`New database in ${dataDir}: running PostgreSQL's initdb, this takes a few seconds…`);
    const pg = new PGlite(dataDir);
    await pg.waitReady;
    return pg;
  }
  if (cacheDir === false) {
    const pg = new PGlite();
    await pg.waitReady;
    return pg;
  }
  const version = (JSON.parse(readFileSync(join(pglitePackageDir(), "package.json"), "utf8")) as { version: string }).version;
  const file = join(cacheDir, `pglite-${version}-template.tar.gz`);
  if (existsSync(file)) {
    try {
      const pg = new PGlite({ loadDataDir: new Blob([readFileSync(file)]) });
      await pg.waitReady;
      return pg;
    } catch {
      rmSync(file, { force: true }); // unreadable template: make a new one
    }
  }
  log(`First start: running PostgreSQL's initdb (once; cached in ${cacheDir}), this takes a few seconds…`);
  const pg = new PGlite();
  await pg.waitReady;
  try {
    const dump = await pg.dumpDataDir("gzip");
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, Buffer.from(await dump.arrayBuffer()));
    renameSync(tmp, file); // atomic: concurrent starts never read a half-written template
  } catch {
    // no cache (read-only node_modules): still works, just slower next time
  }
  return pg;
}

export class Engine {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly arrays: ArrayTypes = new Map();
  private identity: Record<number, (x: string) => string> = {};
  private currentPath = "";
  private readonly schemas = new Set<string>();
  private closed = false;

  private constructor(
    private readonly pg: PGlite,
    readonly options: EngineOptions,
  ) {}

  static async create(options: EngineOptions = {}): Promise<Engine> {
    const pg = await openPglite(options.cacheDir ?? defaultCacheDir(), options.log ?? (() => {}), options.dataDir);
    const engine = new Engine(pg, options);
    await engine.bootstrap();
    return engine;
  }

  private async bootstrap(): Promise<void> {
    const o = this.options;
    const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
    const versionObj = JSON.stringify({ number: o.version ?? "6.4.3", build_hash: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567", build_snapshot: false });
    // Idempotent: a persistent dataDir already holds the role and schemas; sys.* are rebuilt on every start.
    await this.pg.exec(`
      SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, YMD'; SET IntervalStyle TO 'postgres'; SET extra_float_digits TO 1;
      DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'crate') THEN CREATE ROLE crate SUPERUSER; END IF; END $$;
      SET SESSION AUTHORIZATION crate;
      CREATE SCHEMA IF NOT EXISTS doc; CREATE SCHEMA IF NOT EXISTS sys;
      DROP TABLE IF EXISTS sys.cluster, sys.nodes;
      CREATE TABLE sys.cluster (id text, name text, master_node text, settings jsonb);
      CREATE TABLE sys.nodes (id text, name text, hostname text, rest_url text, port jsonb, version jsonb);
      INSERT INTO sys.cluster VALUES (${lit(crypto.randomUUID())}, ${lit(o.clusterName ?? "pglite-crate")}, 'pglite-node-0', '{}');
      INSERT INTO sys.nodes VALUES ('pglite-node-0', ${lit(o.nodeName ?? "pglite-0")}, ${lit(hostname())}, NULL, NULL, ${lit(versionObj)});
    `);
    this.schemas.add("doc");
    await this.loadTypes();
  }

  /** Identity parsers for every type (values stay PostgreSQL text) and the array → element map. */
  private async loadTypes(): Promise<void> {
    const res = await this.pg.query<[number, number, string]>("SELECT oid::int, typelem::int, typcategory::text FROM pg_type", [], { rowMode: "array" });
    const identity: Record<number, (x: string) => string> = {};
    for (const [oid, elem, category] of res.rows) {
      identity[oid] = (x) => x;
      if (category === "A" && elem !== 0) this.arrays.set(oid, elem);
    }
    this.identity = identity;
  }

  /** Record the HTTP port in `sys.nodes` once the server listens. */
  async setRestUrl(host: string, port: number): Promise<void> {
    await this.serial(() => this.pg.query("UPDATE sys.nodes SET rest_url = $1, port = $2", [`${host}:${port}`, JSON.stringify({ http: port, psql: null, transport: null })]));
  }

  /** Run `fn` after every earlier job (PGlite is one session). */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.serial(() => this.pg.close());
  }

  // ---------------------------------------------------------------- execution

  /** One statement with `args` (a simple `/_sql` request). */
  execute(stmt: string, args: JsonValue[], session: PgSession): Promise<SqlResult> {
    return this.serial(async () => {
      const plan = this.plan(stmt);
      return this.runPlan(plan, args, session);
    });
  }

  /**
   * A bulk request: the statement is analysed once (analysis errors and result-set statements fail the whole
   * request), then run per item; data errors (SQLSTATE classes 22 and 23) become per-item failures.
   */
  bulk(stmt: string, bulkArgs: JsonValue[][], session: PgSession): Promise<BulkItem[]> {
    return this.serial(async () => {
      const plan = this.plan(stmt);
      if (plan.kind === "pg") {
        await this.applySession(session, plan);
        let described;
        try {
          described = await this.pg.describeQuery(plan.sql);
        } catch (e) {
          throw await this.mapErrorChecked(e, session);
        }
        if (described.resultFields.length > 0) {
          throw new SqlError(400, 4004, "UnsupportedFeatureException", "Bulk operations for statements that return result sets is not supported");
        }
      }
      const results: BulkItem[] = [];
      let errorsShown = 0;
      for (const args of bulkArgs) {
        try {
          const r = await this.runPlan(plan, args, session);
          results.push({ rowcount: r.kind === "count" ? r.rowcount : r.rows.length });
        } catch (e) {
          if (!(e instanceof SqlError) || !e.perItem) throw e;
          // ShardingUpsertExecutor.BULK_RESPONSE_MAX_ERRORS_PER_SHARD: only the first 10 failures carry `error`.
          results.push(++errorsShown <= 10 ? { rowcount: -2, error: { code: e.code, message: e.message } } : ({ rowcount: -2 } as BulkItem));
        }
      }
      return results;
    });
  }

  private plan(stmt: string): Plan | CursorPlan {
    try {
      return cursorPlan(stmt) ?? translate(stmt);
    } catch (e) {
      if (e instanceof TranslateError) throw new SqlError(400, 4000, "SQLParseException", e.message);
      throw e;
    }
  }

  /** The connection closed: close its cursors (PGlite's one PostgreSQL session outlives it). */
  closeCursors(session: PgSession): Promise<void> {
    const open = [...(session.cursors?.open.values() ?? [])];
    session.cursors?.open.clear();
    if (open.length === 0 || this.closed) return Promise.resolve();
    return this.serial(async () => {
      for (const c of open) await this.pg.exec(`CLOSE ${quoteIdent(c.pg)}`).catch(() => undefined);
    });
  }

  private async runCursor(plan: CursorPlan, args: JsonValue[], session: PgSession): Promise<SqlResult> {
    const cursors = (session.cursors ??= newSessionCursors());
    const { sql, pgName } = pgCursorSql(plan, cursors);
    switch (plan.kind) {
      case "declare":
        await this.applySession(session, undefined);
        await this.runPg({ kind: "pg", sql, names: undefined, createSchema: undefined }, args, session);
        cursors.open.set(plan.name, { pg: pgName as string, names: plan.names });
        return { kind: "count", rowcount: 0 };
      case "fetch": {
        const names = cursors.open.get(plan.name)?.names;
        return this.runPg({ kind: "pg", sql, names, createSchema: undefined }, [], session);
      }
      case "close": {
        const names = plan.name === undefined ? [...cursors.open.keys()] : [plan.name];
        for (const n of names) {
          const c = cursors.open.get(n);
          cursors.open.delete(n);
          if (c) await this.pg.exec(`CLOSE ${quoteIdent(c.pg)}`);
        }
        return { kind: "count", rowcount: 1 };
      }
    }
  }

  private async runPlan(plan: Plan | CursorPlan, args: JsonValue[], session: PgSession): Promise<SqlResult> {
    switch (plan.kind) {
      case "declare":
      case "fetch":
      case "close":
        return this.runCursor(plan, args, session);
      case "noop":
        return { kind: "count", rowcount: plan.rowcount };
      case "search-path":
        session.searchPath = plan.schemas.length > 0 ? plan.schemas : ["doc"];
        return { kind: "count", rowcount: 0 };
      case "refresh": {
        await this.applySession(session, undefined);
        for (const t of plan.tables) {
          const qualified = `${t.schema ?? session.searchPath[0]}.${t.name}`;
          const found = await this.pg.query<[string | null]>("SELECT to_regclass($1)::text", [
            `${quoteIdent(t.schema ?? (session.searchPath[0] as string))}.${quoteIdent(t.name)}`,
          ], { rowMode: "array" });
          if (found.rows[0]?.[0] === null) throw new SqlError(404, 4041, "RelationUnknown", `Relation '${qualified}' unknown`);
        }
        return { kind: "count", rowcount: plan.tables.length };
      }
      case "pg":
        await this.applySession(session, plan);
        return this.runPg(plan, args, session);
    }
  }

  /** Point PostgreSQL's `search_path` at the session's schemas (created on demand, as CrateDB does implicitly). */
  private async applySession(session: PgSession, plan: Plan | undefined): Promise<void> {
    const wanted = [...session.searchPath];
    if (plan?.kind === "pg" && plan.createSchema !== undefined) wanted.push(plan.createSchema);
    for (const s of wanted) {
      if (this.schemas.has(s)) continue;
      await this.pg.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(s)}`);
      this.schemas.add(s);
    }
    const path = session.searchPath.map(quoteIdent).join(", ");
    if (path !== this.currentPath) {
      await this.pg.exec(`SET search_path TO ${path}`);
      this.currentPath = path;
    }
  }

  /**
   * Run on PostgreSQL. Parameter types are what PostgreSQL infers from the statement; where it can only say "text"
   * (`SELECT ?`) but the value is a number, boolean, array or object, the statement is re-parsed with CrateDB-style
   * type hints guessed from the values, and if PostgreSQL rejects those, once more with the values as text.
   */
  private async runPg(plan: Extract<Plan, { kind: "pg" }>, args: JsonValue[], session: PgSession): Promise<SqlResult> {
    let hints: number[] | undefined;
    let permissive = false;
    let res: Results<unknown[]> | undefined;
    for (let attempt = 0; res === undefined; attempt++) {
      const serializers = new Proxy({}, {
        get: (_t, key) => (v: JsonValue) => toPg(v, Number(String(key)), this.arrays, permissive),
      });
      try {
        res = await this.pg.query<unknown[]>(plan.sql, args, {
          rowMode: "array",
          parsers: this.identity,
          serializers,
          ...(hints ? { paramTypes: hints } : {}),
        });
      } catch (e) {
        const hintable = args.some((a) => guessOid(a) !== 0);
        if (attempt === 0 && hintable && (e instanceof NeedsTypeHint || isAmbiguousParam(e))) {
          hints = args.map(guessOid);
          continue;
        }
        if (attempt === 1 && !(e instanceof NeedsTypeHint)) {
          hints = undefined;
          permissive = true;
          continue;
        }
        if (e instanceof NeedsTypeHint) {
          permissive = true;
          continue;
        }
        throw await this.mapErrorChecked(e, session);
      }
    }
    if (res.fields.length > 0 || res.command === "SELECT") {
      for (const f of res.fields) if (!this.arrays.has(f.dataTypeID) && f.dataTypeID >= 16384) await this.refreshArrayType(f.dataTypeID);
      const rows = res.rows.map((row) => row.map((v, i) => fromPg(v as string | null, (res.fields[i] as { dataTypeID: number }).dataTypeID, this.arrays)));
      const cols = res.fields.map((f, i) => (plan.names && plan.names.length === res.fields.length ? plan.names[i] : undefined) ?? f.name);
      return { kind: "rows", cols, colTypes: res.fields.map((f) => colType(f.dataTypeID, this.arrays)), rows };
    }
    return { kind: "count", rowcount: rowcountOf(res) };
  }

  /** A user-defined type created after startup: learn whether it is an array type. */
  private async refreshArrayType(oid: number): Promise<void> {
    const r = await this.pg.query<[number, string]>("SELECT typelem::int, typcategory::text FROM pg_type WHERE oid = $1", [oid], { rowMode: "array" });
    const [elem, category] = r.rows[0] ?? [0, ""];
    if (category === "A" && elem !== 0) this.arrays.set(oid, elem);
    this.identity[oid] = (x) => x;
  }

  // ---------------------------------------------------------------- errors

  /** `mapError`, except that an unknown `schema.table` whose schema is unknown too is CrateDB's SchemaUnknownException. */
  private async mapErrorChecked(e: unknown, session: PgSession): Promise<SqlError> {
    const mapped = this.mapError(e, session);
    const schema = mapped.code === 4041 ? /^Relation '(.+)\.[^.]+' unknown$/.exec(mapped.detail)?.[1] : undefined;
    if (schema !== undefined && !session.searchPath.includes(schema)) {
      const r = await this.pg.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", [schema]);
      if (r.rows.length === 0) return new SqlError(404, 4045, "SchemaUnknownException", `Schema '${schema}' unknown`);
    }
    return mapped;
  }

  /** PostgreSQL error → CrateDB error (exception name, code, HTTP status; protocol §2). */
  mapError(e: unknown, session: PgSession): SqlError {
    if (e instanceof SqlError) return e;
    const pgErr = e as { code?: string; message?: string };
    const code = pgErr.code ?? "";
    const msg = pgErr.message ?? String(e);
    const qualify = (name: string) => (name.includes(".") ? name : `${session.searchPath[0] ?? "doc"}.${name}`);
    const quoted = (re: RegExp) => re.exec(msg)?.[1];
    switch (code) {
      case "42P01": {
        const name = quoted(/(?:relation|table) "([^"]+)"/) ?? "unknown";
        return new SqlError(404, 4041, "RelationUnknown", `Relation '${qualify(name)}' unknown`);
      }
      case "3F000": {
        const name = quoted(/schema "([^"]+)"/) ?? session.searchPath[0] ?? "doc";
        return new SqlError(404, 4045, "SchemaUnknownException", `Schema '${name}' unknown`);
      }
      case "42703": {
        const name = quoted(/column "([^"]+)"/) ?? /column (\S+) does not exist/.exec(msg)?.[1] ?? "unknown";
        return new SqlError(404, 4043, "ColumnUnknownException", `Column ${name} unknown`);
      }
      case "42P07": {
        const name = quoted(/relation "([^"]+)"/) ?? "unknown";
        return new SqlError(409, 4093, "RelationAlreadyExists", `Relation '${qualify(name)}' already exists.`);
      }
      case "42P06":
        return new SqlError(409, 40910, "DuplicateObjectException", msg);
      case "23505":
        return new SqlError(409, 4091, "DuplicateKeyException", "A document with the same primary key exists already", true);
      case "22P02": {
        const m = /invalid input syntax for type (.+?): "(.*)"$/s.exec(msg);
        const text = m ? `Cannot cast value \`${m[2]}\` to type \`${m[1]}\`` : msg;
        return new SqlError(400, 4000, "SQLParseException", text, true);
      }
      case "0A000":
        return new SqlError(400, 4004, "UnsupportedFeatureException", msg);
      case "42883":
        return msg.startsWith("function")
          ? new SqlError(400, 4004, "UnsupportedFunctionException", `Unknown function: ${msg.replace(/^function (.*) does not exist$/, "$1")}`)
          : new SqlError(400, 4000, "SQLParseException", msg);
      case "42501":
        return new SqlError(401, 4011, "MissingPrivilegeException", msg);
      case "57014":
        return new SqlError(500, 5005, "JobKilledException", `Job killed. ${msg}`);
      case "2BP01":
        return new SqlError(400, 40013, "DependentObjectsStillExistException", msg);
      default:
        break;
    }
    if (code.startsWith("22") || code.startsWith("23")) return new SqlError(400, 4000, "SQLParseException", msg, true);
    if (code.startsWith("42") || code === "08P01") return new SqlError(400, 4000, "SQLParseException", msg);
    return new SqlError(500, 5000, code ? "SQLException" : (e instanceof Error ? e.name : "Exception"), msg);
  }
}

/** PostgreSQL could not type a parameter (`SELECT $1 + $2`). */
function isAmbiguousParam(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === "42P18" || code === "42725" || code === "42883" || code === "42804";
}

/** CrateDB's row counts: DML the affected rows, CREATE/DROP 1, ALTER and the rest −1 (protocol §1.5). */
function rowcountOf(res: Results<unknown[]>): number {
  switch (res.command) {
    case "INSERT":
    case "UPDATE":
    case "DELETE":
    case "MERGE":
    case "COPY":
      return res.rowCount ?? res.affectedRows ?? -1;
    case "CREATE":
    case "DROP":
      return 1;
    case "SET":
      return 0;
    default:
      return -1;
  }
}
