// cratedb-fetch/kysely: the dialect against the embedded PGlite server (CrateDB's HTTP protocol, SQL on PostgreSQL).
// Every lane runs it with Kysely 0.29; the lowest-peers lane runs it with 0.28 (CRATEDB_FETCH_PEERS=lowest),
// resolving "kysely/migration" to 0.28's "kysely", which exported the Migrator itself.
import { expect } from "chai";
import { DefaultTypeConverter, IntegrityError, InterfaceError, NotSupportedError, ProgrammingError, connect, type Connection } from "cratedb-fetch";
import { CrateDBDialect, type CrateDBIntrospector } from "cratedb-fetch/kysely";
import * as kyselyRoot from "kysely";
import { Kysely, sql, type Generated } from "kysely";
import { Migrator, type Migration } from "kysely/migration";
import { expectReject, notApplicable, keepsSockets } from "./support/helpers.js";
import { sessionsHere } from "./support/sessions.js";
import { envVar, startSqlServer, type SqlServerHandle } from "./support/sql-server.js";

/** True in the lane that runs the lowest Kysely the peer range allows (0.28). */
const kysely028 = envVar("CRATEDB_FETCH_PEERS") === "lowest";

interface Person {
  id: number;
  name: string;
  age: number | null;
}
interface DB {
  person: Person;
  pet: { id: Generated<number>; owner: number; nickname: string | null };
  k_event: { id: number; at: Date | null; local_at: Date | null; ats: Date[] | null };
}

describe("Kysely dialect (cratedb-fetch/kysely)", function () {
  let server: SqlServerHandle;
  let conn: Connection;
  beforeEach(function () {
    keepsSockets(this, "one connection shared by the suite, closed in after()");
  });
  let db: Kysely<DB>;
  before(async function () {
    this.timeout(120_000);
    server = await startSqlServer();
    conn = connect(server.url, { username: "crate" });
    db = new Kysely<DB>({ dialect: new CrateDBDialect({ connection: conn }) });
  });
  after(async () => {
    await db?.destroy();
    await conn?.close();
    await server?.close();
  });

  /**
   * A fresh `person` table (the schema the Migrator test builds) holding `rows`: every test that uses the table
   * starts from this, not from rows an earlier test left, so each passes alone (`--grep`) as in order.
   */
  async function personTable(rows: Person[] = []): Promise<void> {
    await sql`DROP TABLE IF EXISTS person`.execute(db);
    await sql`CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER)`.execute(db);
    if (rows.length === 0) return;
    await db.insertInto("person").values(rows).execute();
    await sql`REFRESH TABLE person`.execute(db);
  }

  it("runs against the Kysely version its lane names (0.28: Migrator exported from \"kysely\"; 0.29: from \"kysely/migration\" only)", () => {
    expect(Object.keys(kyselyRoot).includes("Migrator")).to.equal(kysely028);
  });

  it("runs a Migrator without transactions or advisory locks: create table, then add a column", async () => {
    // From no table at all, whatever ran before: the migrations create `person`, the Migrator its own table.
    for (const t of ["person", "kysely_migration", "kysely_migration_lock"]) await sql`DROP TABLE IF EXISTS ${sql.table(t)}`.execute(db);
    const migrations: Record<string, Migration> = {
      "001_person": {
        async up(k) {
          await k.schema.createTable("person").addColumn("id", "integer", (c) => c.primaryKey()).addColumn("name", "text", (c) => c.notNull()).execute();
        },
        async down(k) {
          await k.schema.dropTable("person").execute();
        },
      },
      "002_person_age": {
        async up(k) {
          await k.schema.alterTable("person").addColumn("age", "integer").execute();
        },
      },
    };
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const { error, results } = await migrator.migrateToLatest();
    expect(error).to.equal(undefined);
    expect(results?.map((r) => [r.migrationName, r.status])).to.deep.equal([["001_person", "Success"], ["002_person_age", "Success"]]);
    // A second run sees both as executed (the adapter refreshes the migration table first).
    const again = await migrator.migrateToLatest();
    expect(again.error).to.equal(undefined);
    expect(again.results).to.deep.equal([]);
    const tables = await db.introspection.getTables();
    const person = tables.find((t) => t.name === "person");
    expect(person?.columns.map((c) => c.name)).to.deep.equal(["id", "name", "age"]);
    expect(tables.some((t) => t.name.startsWith("kysely_migration"))).to.equal(false);
    // Kysely 0.28's introspector interface also has getMetadata() (0.29 dropped it): the same tables.
    const meta = await (db.introspection as CrateDBIntrospector).getMetadata({ withInternalKyselyTables: true });
    expect(meta.tables.find((t) => t.name === "person")?.columns.map((c) => c.name)).to.deep.equal(["id", "name", "age"]);
    expect(meta.tables.some((t) => t.name === "kysely_migration")).to.equal(true);
  });

  it("inserts, selects, updates and deletes, with numAffectedRows from rowcount", async () => {
    await personTable();
    const ins = await db.insertInto("person").values([{ id: 1, name: "Ada", age: 36 }, { id: 2, name: "Alan", age: 41 }, { id: 3, name: "Grace", age: null }]).executeTakeFirst();
    expect(ins.numInsertedOrUpdatedRows).to.equal(3n);
    await sql`REFRESH TABLE person`.execute(db);
    const rows = await db.selectFrom("person").select(["id", "name"]).where("age", ">", 40).orderBy("id").execute();
    expect(rows).to.deep.equal([{ id: 2, name: "Alan" }]);
    const upd = await db.updateTable("person").set({ age: 37 }).where("name", "like", "A%").executeTakeFirst();
    expect(upd.numUpdatedRows).to.equal(2n);
    const del = await db.deleteFrom("person").where("id", "=", 3).executeTakeFirst();
    expect(del.numDeletedRows).to.equal(1n);
    await sql`REFRESH TABLE person`.execute(db);
    const left = await db.selectFrom("person").selectAll().orderBy("id").execute();
    expect(left).to.deep.equal([{ id: 1, name: "Ada", age: 37 }, { id: 2, name: "Alan", age: 37 }]);
  });

  it("returns rows from INSERT … RETURNING and raw sql", async () => {
    await personTable();
    const back = await db.insertInto("person").values({ id: 10, name: "Linus", age: 1 }).returning(["id", "name"]).execute();
    expect(back).to.deep.equal([{ id: 10, name: "Linus" }]);
    const raw = await sql<{ n: number }>`SELECT ${5}::int AS n`.execute(db);
    expect(raw.rows).to.deep.equal([{ n: 5 }]);
    const rawDml = await sql`DELETE FROM person WHERE id = ${10}`.execute(db);
    expect(rawDml.numAffectedRows).to.equal(1n);
  });

  it("throws the mapped error classes", async () => {
    await personTable([{ id: 1, name: "Ada", age: 36 }]);
    await expectReject(db.insertInto("person").values({ id: 1, name: "dup", age: null }).execute(), IntegrityError);
    await expectReject(sql`SELECT * FROM no_such_table_k`.execute(db), ProgrammingError, /no_such_table_k/);
  });

  it("refuses transactions with NotSupportedError", async () => {
    await personTable(); // so the refusal, not a missing table, is what fails
    await expectReject(db.transaction().execute(async (trx) => trx.selectFrom("person").selectAll().execute()), NotSupportedError, /no transactions/);
  });

  it("passes Kysely's abort signal to query()", async function () {
    if (kysely028) notApplicable(this, "Kysely 0.28 has no execute({ signal }) (0.29 added it; 0.29 needs Node >= 22)");
    await personTable();
    const seen: Array<AbortSignal | undefined> = [];
    const spy = { query: ((stmt, args, opts) => (seen.push(opts?.signal), conn.query(stmt, args, opts))) as Connection["query"] };
    const spied = new Kysely<DB>({ dialect: new CrateDBDialect({ connection: spy }) });
    const controller = new AbortController();
    await spied.selectFrom("person").selectAll().execute({ signal: controller.signal });
    expect(seen).to.deep.equal([controller.signal]);
    controller.abort(new Error("stop now"));
    await expectReject(spied.selectFrom("person").selectAll().execute({ signal: controller.signal }), Error, /stop now/);
  });

  describe("TIMESTAMP columns", () => {
    const at = new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789));
    const later = new Date(Date.UTC(2025, 0, 1));
    before(async () => {
      await sql`CREATE TABLE k_event (id INT PRIMARY KEY, at TIMESTAMP WITH TIME ZONE, local_at TIMESTAMP WITHOUT TIME ZONE, ats ARRAY(TIMESTAMP WITH TIME ZONE))`.execute(db);
      await db.insertInto("k_event").values([{ id: 1, at, local_at: at, ats: [at, later] }, { id: 2, at: null, local_at: null, ats: null }]).execute();
      await sql`REFRESH TABLE k_event`.execute(db);
    });

    it("come back as Date by default, arrays element by element, NULL as null", async () => {
      const rows = await db.selectFrom("k_event").selectAll().orderBy("id").execute();
      expect(rows[0]?.at).to.be.instanceOf(Date);
      expect(rows[0]?.at?.getTime()).to.equal(at.getTime());
      expect(rows[0]?.local_at).to.be.instanceOf(Date);
      expect(rows[0]?.local_at?.getTime()).to.equal(at.getTime());
      expect(rows[0]?.ats?.map((d) => d instanceof Date && d.getTime())).to.deep.equal([at.getTime(), later.getTime()]);
      expect(rows[1]).to.deep.equal({ id: 2, at: null, local_at: null, ats: null });
      // Returned by INSERT … RETURNING and by raw sql too; other columns keep their values.
      const back = await db.insertInto("k_event").values({ id: 3, at: later, local_at: null, ats: [] }).returning(["id", "at", "ats"]).execute();
      expect(back).to.deep.equal([{ id: 3, at: later, ats: [] }]);
      const raw = await sql<{ at: Date; n: number }>`SELECT at, id AS n FROM k_event WHERE id = ${1}`.execute(db);
      expect(raw.rows).to.deep.equal([{ at, n: 1 }]);
      // A column named __proto__ stays an own property holding the Date (the prototype is untouched).
      const [odd] = (await sql<Record<string, unknown>>`SELECT at AS "__proto__" FROM k_event WHERE id = ${1}`.execute(db)).rows;
      expect(Object.getPrototypeOf(odd)).to.equal(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(odd, "__proto__")?.value).to.deep.equal(at);
    });

    it("stay epoch milliseconds with dates: false; a connection converter's values are left as they are", async () => {
      const plain = new Kysely<DB>({ dialect: new CrateDBDialect({ connection: conn, dates: false }) });
      const [row] = await plain.selectFrom("k_event").select(["at", "local_at", "ats"]).where("id", "=", 1).execute();
      expect(row).to.deep.equal({ at: at.getTime(), local_at: at.getTime(), ats: [at.getTime(), later.getTime()] });
      const iso = connect(server.url, { username: "crate", converter: new DefaultTypeConverter({ 11: (v) => new Date(Number(v)).toISOString() }) });
      try {
        const viaIso = new Kysely<DB>({ dialect: new CrateDBDialect({ connection: iso }) });
        const [r] = await viaIso.selectFrom("k_event").select(["at", "local_at"]).where("id", "=", 1).execute();
        expect(r).to.deep.equal({ at: at.toISOString(), local_at: at });
      } finally {
        await iso.close();
      }
      expect(() => new CrateDBDialect({ connection: conn, dates: "no" as unknown as boolean })).to.throw(InterfaceError, /'dates' must be a boolean/);
      expect(() => new CrateDBDialect({} as never)).to.throw(InterfaceError, /connection/);
    });

    it("come back as Date from stream() too", async function () {
      if (!sessionsHere) notApplicable(this, "stream() needs sessions (server-side cursors)");
      const got: unknown[] = [];
      for await (const row of db.selectFrom("k_event").select(["id", "at"]).where("id", "<", 3).orderBy("id").stream(1)) got.push(row);
      expect(got).to.deep.equal([{ id: 1, at }, { id: 2, at: null }]);
    });
  });

  it("stream() reads through a server-side cursor in chunks (NotSupportedError where sessions are not)", async function () {
    await personTable([{ id: 1, name: "Ada", age: 37 }, { id: 2, name: "Alan", age: 37 }, { id: 3, name: "Grace", age: null }]);
    if (!sessionsHere) {
      const it = db.selectFrom("person").selectAll().stream(10)[Symbol.asyncIterator]();
      await expectReject(it.next(), NotSupportedError, /browser/);
      return;
    }
    const names: string[] = [];
    for await (const row of db.selectFrom("person").select(["id", "name"]).orderBy("id").stream(1)) names.push(String(row.name));
    const all = await db.selectFrom("person").select("name").orderBy("id").execute();
    expect(names).to.deep.equal(all.map((r) => String(r.name)));
    expect(names.length).to.be.greaterThan(1);
  });
});
