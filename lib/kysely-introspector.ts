/**
 * Kysely's DatabaseIntrospector on `information_schema`, which CrateDB and PostgreSQL both have
 * (PostgreSQL's introspector reads `pg_catalog` tables and functions CrateDB lacks).
 */
import { sql, type DatabaseIntrospector, type DatabaseMetadataOptions, type Kysely, type SchemaMetadata, type TableMetadata } from "kysely";

// CrateDB's own schemas (and PostgreSQL's, for the test double).
const SYSTEM_SCHEMAS = ["information_schema", "pg_catalog", "sys", "blob", "pg_toast"];
const KYSELY_TABLES = ["kysely_migration", "kysely_migration_lock"];

interface ColumnRow {
  table_schema: string;
  table_name: string;
  table_type: string;
  column_name: string | null;
  data_type: string | null;
  is_nullable: boolean | string | null;
  column_default: string | null;
}

/**
 * Schemas, tables and views with their columns. CrateDB's object sub-columns (`obj['key']`) are left out;
 * `isAutoIncrementing` is always false (CrateDB has no sequences).
 */
export class CrateDBIntrospector implements DatabaseIntrospector {
  private readonly db: Kysely<any>;

  constructor(db: Kysely<any>) {
    this.db = db;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ schema_name: string }>`SELECT schema_name FROM information_schema.schemata ORDER BY schema_name`.execute(this.db);
    return rows.map((r) => ({ name: r.schema_name }));
  }

  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    const { rows } = await sql<ColumnRow>`
      SELECT t.table_schema, t.table_name, t.table_type, c.column_name, c.data_type, c.is_nullable, c.column_default
      FROM information_schema.tables t
      LEFT JOIN information_schema.columns c ON c.table_schema = t.table_schema AND c.table_name = t.table_name
      WHERE t.table_schema NOT IN (${sql.join(SYSTEM_SCHEMAS)})
      ORDER BY t.table_schema, t.table_name, c.ordinal_position`.execute(this.db);
    const tables = new Map<string, TableMetadata>();
    for (const r of rows) {
      if (!options.withInternalKyselyTables && KYSELY_TABLES.includes(r.table_name)) continue;
      const key = `${r.table_schema}.${r.table_name}`;
      let table = tables.get(key);
      if (table === undefined) {
        const type = r.table_type.toUpperCase();
        table = { schema: r.table_schema, name: r.table_name, isView: type === "VIEW", isForeign: type.includes("FOREIGN"), columns: [] };
        tables.set(key, table);
      }
      if (r.column_name === null || r.column_name.includes("[")) continue;
      table.columns.push({
        name: r.column_name,
        dataType: r.data_type ?? "unknown",
        isNullable: r.is_nullable === true || r.is_nullable === "YES",
        isAutoIncrementing: false,
        hasDefaultValue: r.column_default !== null,
      });
    }
    return [...tables.values()];
  }

  /**
   * The tables as `{ tables }`: Kysely 0.28's introspector interface requires it (0.29 dropped it); the
   * return type is spelled out because 0.29 no longer exports `DatabaseMetadata`.
   */
  async getMetadata(options?: DatabaseMetadataOptions): Promise<{ tables: TableMetadata[] }> {
    return { tables: await this.getTables(options) };
  }
}
