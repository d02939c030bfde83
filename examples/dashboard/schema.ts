// The dashboard's table, shared by the page (app.ts) and the writer (serve.ts).
export const TABLE = "dashboard_metrics";
export const SENSORS = ["boiler", "pump", "turbine"] as const;
export const CREATE_TABLE =
  `CREATE TABLE IF NOT EXISTS ${TABLE} (ts TIMESTAMP WITH TIME ZONE, sensor TEXT, value DOUBLE) ` +
  "CLUSTERED INTO 1 SHARDS WITH (number_of_replicas = 0)";
