// cratedb-fetch/kysely: the dialect against the embedded PGlite server (CrateDB's HTTP protocol, SQL on PostgreSQL).
import { expect } from "chai";
import { IntegrityError, NotSupportedError, ProgrammingError, connect, type Connection } from "cratedb-fetch";
import { CrateDBDialect } from "cratedb-fetch/kysely";
import { Kysely, sql, type Generated } from "kysely";
import { Migrator, type Migration } from "kysely/migration";
import { expectReject } from "./support/helpers.js";
import { sessionsHere } from "./support/sessions.js";
import { startSqlServer, type SqlServerHandle } from "./support/sql-server.js";

interface Person {
  id: number;
  name: string;
  age: number | null;
}
interface DB {
  person: Person;
  pet: { id: Generated<number>; owner: number; nickname: string | null };
}

describe("Kysely dialect (cratedb-fetch/kysely)", function () {
  let server: SqlServerHandle;
  let conn: Connection;
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

  it("runs a Migrator without transactions or advisory locks: create table, then add a column", async () => {
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
  });

  it("inserts, selects, updates and deletes, with numAffectedRows from rowcount", async () => {
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
    const back = await db.insertInto("person").values({ id: 10, name: "Linus", age: 1 }).returning(["id", "name"]).execute();
    expect(back).to.deep.equal([{ id: 10, name: "Linus" }]);
    const raw = await sql<{ n: number }>`SELECT ${5}::int AS n`.execute(db);
    expect(raw.rows).to.deep.equal([{ n: 5 }]);
    const rawDml = await sql`DELETE FROM person WHERE id = ${10}`.execute(db);
    expect(rawDml.numAffectedRows).to.equal(1n);
  });

  it("throws the mapped error classes", async () => {
    await expectReject(db.insertInto("person").values({ id: 1, name: "dup", age: null }).execute(), IntegrityError);
    await expectReject(sql`SELECT * FROM no_such_table_k`.execute(db), ProgrammingError, /no_such_table_k/);
  });

  it("refuses transactions with NotSupportedError", async () => {
    await expectReject(db.transaction().execute(async (trx) => trx.selectFrom("person").selectAll().execute()), NotSupportedError, /no transactions/);
  });

  it("passes Kysely's abort signal to query()", async () => {
    const seen: Array<AbortSignal | undefined> = [];
    const spy = { query: ((stmt, args, opts) => (seen.push(opts?.signal), conn.query(stmt, args, opts))) as Connection["query"] };
    const spied = new Kysely<DB>({ dialect: new CrateDBDialect({ connection: spy }) });
    const controller = new AbortController();
    await spied.selectFrom("person").selectAll().execute({ signal: controller.signal });
    expect(seen).to.deep.equal([controller.signal]);
    controller.abort(new Error("stop now"));
    await expectReject(spied.selectFrom("person").selectAll().execute({ signal: controller.signal }), Error, /stop now/);
  });

  it("stream() reads through a server-side cursor in chunks (NotSupportedError where sessions are not)", async function () {
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
