// The package as an app gets it: `npm pack` output installed (a copy, not a link) into a temporary app with
// kysely and drizzle-orm of its own, type-checked with tsc (strict, NodeNext, no skipLibCheck) and run
// against the embedded PGlite server. Once with the lowest peers the ranges allow (kysely 0.28, what
// `npm i kysely` gives on Node 20) and once with the devDependencies (kysely 0.29). Node lane only; npm
// installs with --prefer-offline, so the packages come from npm's cache when they are there.
import { expect } from "chai";
import type * as ChildProcess from "node:child_process";
import type * as Fs from "node:fs";
import type * as Os from "node:os";
import type * as Path from "node:path";
import { notApplicable, runtime } from "./support/helpers.js";
import { builtin, proc } from "./support/node-process.js";
import { startSqlServer, type SqlServerHandle } from "./support/sql-server.js";


interface Run {
  code: number;
  out: string;
}

/** Runs a command to its end (no shell); resolves with its exit code and its stdout and stderr together. */
function run(file: string, args: string[], cwd: string, timeout = 170_000): Promise<Run> {
  const { execFile } = builtin<typeof ChildProcess>("node:child_process");
  return new Promise((resolve) => {
    execFile(file, args, { cwd, timeout, env: proc().env, maxBuffer: 16 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, out: `${stdout}${stderr}` }));
  });
}

/** Code every Kysely the range allows compiles: both adapters, Kysely's Date for a TIMESTAMP, Drizzle's rowCount. */
const APP = `import { connect } from "cratedb-fetch";
import { CrateDBDialect } from "cratedb-fetch/kysely";
import { drizzle } from "cratedb-fetch/drizzle";
import { Kysely, sql } from "kysely";
import { eq } from "drizzle-orm";
import { integer, pgTable, text } from "drizzle-orm/pg-core";

interface DB { c_event: { id: number; at: Date | null } }
const notes = pgTable("c_note", { id: integer("id").primaryKey(), body: text("body") });

export async function main(url: string): Promise<{ at: boolean; ms: number | undefined; updated: number | undefined }> {
  const conn = connect(url, { username: "crate" });
  try {
    // The dialect type-checks as Kysely's Dialect: one copy of kysely (the app's), not a second one.
    const db = new Kysely<DB>({ dialect: new CrateDBDialect({ connection: conn }) });
    // Never called (it would throw InterfaceError): proves the dialect's own types are read, not any.
    // @ts-expect-error dates is a boolean
    const typo = (): unknown => new CrateDBDialect({ connection: conn, dates: "no" });
    void typo;
    // Both apps (lowest peers, then 0.29) run against one server.
    await sql\`DROP TABLE IF EXISTS c_event\`.execute(db);
    await sql\`CREATE TABLE c_event (id INT PRIMARY KEY, at TIMESTAMP WITH TIME ZONE)\`.execute(db);
    await db.insertInto("c_event").values({ id: 1, at: new Date(86_400_000) }).execute();
    const row = await db.selectFrom("c_event").select("at").where("id", "=", 1).executeTakeFirstOrThrow();
    const at: Date | null = row.at;

    const orm = drizzle(conn);
    await orm.execute("DROP TABLE IF EXISTS c_note");
    await orm.execute("CREATE TABLE c_note (id INT PRIMARY KEY, body TEXT)");
    await orm.insert(notes).values([{ id: 1, body: "a" }, { id: 2, body: "b" }]);
    const res = await orm.update(notes).set({ body: "c" }).where(eq(notes.id, 2));
    const updated: number | undefined = res.rowCount;
    return { at: at instanceof Date, ms: at?.getTime(), updated };
  } finally {
    await conn.close();
  }
}
`;

/**
 * Only Kysely 0.29 (Node >= 22) compiles this: execute({ signal }) and the "kysely/migration" entry. It and
 * APP_028 are also checked with skipLibCheck off, so our declarations must fit that Kysely's (as
 * CrateDBIntrospector's `implements DatabaseIntrospector` must).
 */
const APP_029 = `import { Kysely } from "kysely";
import { Migrator, type MigrationProvider } from "kysely/migration";
import { CrateDBDialect } from "cratedb-fetch/kysely";
import { connect } from "cratedb-fetch";

export function only029(provider: MigrationProvider): Promise<unknown> {
  const db = new Kysely<{ t: { id: number } }>({ dialect: new CrateDBDialect({ connection: connect("http://localhost:4200") }) });
  void new Migrator({ db, provider });
  return db.selectFrom("t").selectAll().execute({ signal: AbortSignal.timeout(1000) });
}
`;

/** On Kysely 0.28 the Migrator comes from "kysely" itself. */
const APP_028 = `import { Kysely, Migrator, type MigrationProvider } from "kysely";
import { CrateDBDialect } from "cratedb-fetch/kysely";
import { connect } from "cratedb-fetch";

export function only028(provider: MigrationProvider): Migrator {
  const db = new Kysely<{ t: { id: number } }>({ dialect: new CrateDBDialect({ connection: connect("http://localhost:4200") }) });
  return new Migrator({ db, provider });
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", lib: ["ES2022", "ESNext.Disposable", "DOM"], types: [],
    // drizzle-orm's own declarations do not pass a library check (its docs ask for skipLibCheck); ours and
    // Kysely's are checked by the Kysely-only app below.
    strict: true, skipLibCheck: true, outDir: "out", rootDir: "src",
  },
  include: ["src"],
};

describe("npm pack consumer: both adapters from the packed package", function () {
  let root: string;
  let work: string;
  let tarball: string;
  let server: SqlServerHandle;
  let devDeps: Record<string, string>;

  before(async function () {
    if (runtime !== "node") return;
    this.timeout(120_000);
    const { mkdtempSync, readFileSync } = builtin<typeof Fs>("node:fs");
    const { tmpdir } = builtin<typeof Os>("node:os");
    const { join } = builtin<typeof Path>("node:path");
    root = proc().cwd();
    devDeps = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { devDependencies: Record<string, string> }).devDependencies;
    work = mkdtempSync(join(tmpdir(), "cratedb-fetch-consumer-"));
    // dist/ (with dist/types) was built by the runner; --ignore-scripts: pack exactly that.
    const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work], root);
    if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.out}`);
    const json = packed.out.slice(packed.out.indexOf("["));
    tarball = join(work, (JSON.parse(json) as Array<{ filename: string }>)[0]?.filename ?? "");
    server = await startSqlServer();
  });
  beforeEach(function () {
    if (runtime !== "node") notApplicable(this, "installs the package with npm and runs tsc and node as child processes");
  });
  after(async () => {
    await server?.close();
    if (work) builtin<typeof Fs>("node:fs").rmSync(work, { recursive: true, force: true });
  });

  /** The version of a devDependency, also through an npm alias ("npm:kysely@0.28.0" → "0.28.0"). */
  const version = (name: string): string => (devDeps[name] ?? "").replace(/^npm:[^@]+@/, "");

  async function consumer(name: string, kysely: string, drizzle: string, only: [string, string]): Promise<Run & { dir: string }> {
    const { mkdirSync, writeFileSync, readFileSync, lstatSync } = builtin<typeof Fs>("node:fs");
    const { join } = builtin<typeof Path>("node:path");
    const dir = join(work, name);
    mkdirSync(join(dir, "src"), { recursive: true });
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `consumer-${name}`, private: true, type: "module" }));
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(TSCONFIG));
    writeFileSync(join(dir, "tsconfig.kysely.json"), JSON.stringify({
      extends: "./tsconfig.json", compilerOptions: { skipLibCheck: false, noEmit: true }, include: [`src/${only[0]}.ts`],
    }));
    writeFileSync(join(dir, "src/app.ts"), APP);
    writeFileSync(join(dir, `src/${only[0]}.ts`), only[1]);
    const install = await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts",
      tarball, `kysely@${kysely}`, `drizzle-orm@${drizzle}`], dir);
    expect(install.code, install.out).to.equal(0);
    // A copy, not a link, with no node_modules of its own (so no second kysely or drizzle-orm).
    expect(lstatSync(join(dir, "node_modules/cratedb-fetch")).isSymbolicLink()).to.equal(false);
    expect(() => lstatSync(join(dir, "node_modules/cratedb-fetch/node_modules"))).to.throw(/ENOENT/);
    expect(JSON.parse(readFileSync(join(dir, "node_modules/kysely/package.json"), "utf8")).version).to.equal(kysely);
    const tscBin = join(root, "node_modules/typescript/bin/tsc");
    const all = await run(proc().execPath, [tscBin, "-p", "tsconfig.json"], dir);
    const kyselyOnly = await run(proc().execPath, [tscBin, "-p", "tsconfig.kysely.json"], dir);
    return { code: all.code || kyselyOnly.code, out: all.out + kyselyOnly.out, dir };
  }

  async function runApp(dir: string): Promise<unknown> {
    const { writeFileSync } = builtin<typeof Fs>("node:fs");
    const { join } = builtin<typeof Path>("node:path");
    writeFileSync(join(dir, "main.mjs"), `const { main } = await import("./out/app.js");\nconsole.log(JSON.stringify(await main(process.argv[2])));\n`);
    const r = await run(proc().execPath, ["main.mjs", server.url], dir, 60_000);
    expect(r.code, r.out).to.equal(0);
    return JSON.parse(r.out.trim().split("\n").pop() ?? "null");
  }

  it("type-checks and runs with the lowest peers (kysely 0.28, Migrator from \"kysely\")", async function () {
    this.timeout(240_000);
    const { code, out, dir } = await consumer("lowest", version("kysely-lowest"), version("drizzle-orm-lowest"), ["only028", APP_028]);
    expect(version("kysely-lowest")).to.match(/^0\.28\./);
    expect(out).to.equal("");
    expect(code).to.equal(0);
    expect(await runApp(dir)).to.deep.equal({ at: true, ms: 86_400_000, updated: 1 });
  });

  it("type-checks and runs with kysely 0.29 (execute({ signal }), kysely/migration)", async function () {
    this.timeout(240_000);
    const { code, out, dir } = await consumer("default", version("kysely"), version("drizzle-orm"), ["only029", APP_029]);
    expect(out).to.equal("");
    expect(code).to.equal(0);
    expect(await runApp(dir)).to.deep.equal({ at: true, ms: 86_400_000, updated: 1 });
  });
});
