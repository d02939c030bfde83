// cratedb-fetch/drizzle: Drizzle ORM (pg-proxy) against the embedded PGlite server. Every lane runs it with
// drizzle-orm as installed; the lowest-peers lane with the lowest the peer range allows (CRATEDB_FETCH_PEERS=lowest).
import { expect } from "chai";
import { IntegrityError, ProgrammingError, connect, type Connection } from "cratedb-fetch";
import { createDrizzleCallback, drizzle } from "cratedb-fetch/drizzle";
import { asc, eq, gt, sql } from "drizzle-orm";
import { integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { drizzle as pgProxy } from "drizzle-orm/pg-proxy";
import { npmVersion } from "drizzle-orm/version";
import { expectReject, keepsSockets } from "./support/helpers.js";
import { envVar, startSqlServer, type SqlServerHandle } from "./support/sql-server.js";

const users = pgTable("d_users", {
  id: integer("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }),
  seen: timestamp("seen"),
  seenText: timestamp("seen_text", { mode: "string" }),
});

describe("Drizzle (cratedb-fetch/drizzle)", function () {
  let server: SqlServerHandle;
  let conn: Connection;
  beforeEach(function () {
    keepsSockets(this, "one connection shared by the suite, closed in after()");
  });
  let db: ReturnType<typeof drizzle>;
  const at = new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789));
  before(async function () {
    this.timeout(120_000);
    server = await startSqlServer();
    conn = connect(server.url, { username: "crate" });
    db = drizzle(conn);
  });
  after(async () => {
    await conn?.close();
    await server?.close();
  });

  /**
   * `d_users` made anew: empty, or holding the rows asked for (Ada: id 1, created and seen `at`; Alan: id 2, no
   * dates). Each test starts from the rows it names, not from what an earlier test left, so each passes alone (`--grep`).
   */
  async function usersTable(rows: { ada?: true; alan?: true } = {}): Promise<void> {
    await conn.query("DROP TABLE IF EXISTS d_users");
    await conn.query(`CREATE TABLE d_users (id INT PRIMARY KEY, name TEXT NOT NULL, created_at TIMESTAMP WITH TIME ZONE,
      seen TIMESTAMP WITHOUT TIME ZONE, seen_text TIMESTAMP WITHOUT TIME ZONE)`);
    if (rows.ada) await conn.query("INSERT INTO d_users (id, name, created_at, seen) VALUES (?, ?, ?, ?)", [1, "Ada", at, at]);
    if (rows.alan) await conn.query("INSERT INTO d_users (id, name) VALUES (?, ?)", [2, "Alan"]);
    await conn.query("REFRESH TABLE d_users");
  }

  it("runs against the drizzle-orm its lane names", () => {
    // The lowest-peers lane names the version it resolved drizzle-orm to; other lanes run the devDependency.
    const lowest = envVar("CRATEDB_FETCH_LOWEST_DRIZZLE");
    if (envVar("CRATEDB_FETCH_PEERS") === "lowest") expect(npmVersion).to.equal(lowest);
    expect(npmVersion).to.match(/^0\.45\.\d+$/);
  });

  it("inserts and selects with a pgTable schema; timestamps come back as Date (and as text in string mode)", async () => {
    await usersTable();
    await db.insert(users).values([
      { id: 1, name: "Ada", createdAt: at, seen: at, seenText: "2024-02-29 12:34:56.789" },
      { id: 2, name: "Alan", createdAt: null, seen: null, seenText: null },
    ]);
    await conn.query("REFRESH TABLE d_users");
    const rows = await db.select().from(users).orderBy(asc(users.id));
    expect(rows).to.have.length(2);
    expect(rows[0]?.createdAt).to.be.instanceOf(Date);
    expect(rows[0]?.createdAt?.getTime()).to.equal(at.getTime());
    expect(rows[0]?.seen?.getTime()).to.equal(at.getTime());
    expect(rows[0]?.seenText).to.equal("2024-02-29 12:34:56.789");
    expect(rows[1]).to.deep.equal({ id: 2, name: "Alan", createdAt: null, seen: null, seenText: null });
    const partial = await db.select({ n: users.name, c: users.createdAt }).from(users).where(gt(users.createdAt, new Date(0)));
    expect(partial).to.deep.equal([{ n: "Ada", c: at }]);
  });

  it("updates and deletes (with returning) and runs raw sql as objects", async () => {
    await usersTable({ ada: true, alan: true });
    const updated = await db.update(users).set({ name: "Ada L." }).where(eq(users.id, 1)).returning({ id: users.id, name: users.name });
    expect(updated).to.deep.equal([{ id: 1, name: "Ada L." }]);
    await db.delete(users).where(eq(users.id, 2));
    await conn.query("REFRESH TABLE d_users");
    const raw = await db.execute(sql`SELECT id, created_at FROM d_users ORDER BY id`);
    expect(raw).to.deep.equal([{ id: 1, created_at: at }]);
  });

  it("reports affected rows as rowCount on insert, update and delete without returning (and db.execute)", async () => {
    await usersTable();
    const ins = await db.insert(users).values([{ id: 20, name: "x" }, { id: 21, name: "y" }, { id: 22, name: "z" }]);
    expect(ins.rowCount).to.equal(3);
    expect(ins).to.deep.equal([]);
    await conn.query("REFRESH TABLE d_users");
    const upd = await db.update(users).set({ name: "w" }).where(gt(users.id, 20));
    expect(upd.rowCount).to.equal(2);
    const none = await db.update(users).set({ name: "v" }).where(eq(users.id, 999));
    expect(none.rowCount).to.equal(0);
    const raw = await db.execute(sql`UPDATE d_users SET name = name WHERE id = ${20}`);
    expect(raw.rowCount).to.equal(1);
    // RETURNING rows are Drizzle's own mapped array: their count is their length.
    const back = await db.update(users).set({ name: "u" }).where(eq(users.id, 20)).returning({ id: users.id });
    expect(back).to.deep.equal([{ id: 20 }]);
    const del = await db.delete(users).where(gt(users.id, 19));
    expect(del.rowCount).to.equal(3);
    // Not enumerable: the result prints and serialises as the empty array it always was.
    expect(Object.keys(del)).to.deep.equal([]);
  });

  it("works through drizzle-orm/pg-proxy with createDrizzleCallback", async () => {
    await usersTable({ ada: true });
    const proxied = pgProxy(createDrizzleCallback(conn, { timeout: 10_000 }));
    const rows = await proxied.select({ id: users.id }).from(users);
    expect(rows).to.deep.equal([{ id: 1 }]);
  });

  it("throws errors as cratedb-fetch classes, never an empty result", async () => {
    await usersTable({ ada: true });
    // Drizzle wraps driver errors in its DrizzleQueryError ("Failed query: …"); ours is the cause.
    const dup = await expectReject<Error>(db.insert(users).values({ id: 1, name: "dup" }), Error, /Failed query/);
    expect(dup.cause).to.be.instanceOf(IntegrityError);
    const missing = await expectReject<Error>(db.execute(sql`SELECT * FROM no_such_table_d`), Error);
    expect(missing.cause).to.be.instanceOf(ProgrammingError);
    expect((missing.cause as Error).message).to.match(/no_such_table_d/);
    await expectReject(db.transaction(async (tx) => tx.select().from(users)), Error, /Transactions are not supported/);
  });
});
