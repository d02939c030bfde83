// `npm run dashboard`: serves the dashboard page (examples/dashboard) and, unless CRATEDB_URL is set, starts a
// local CrateDB-protocol test server with CORS for the page (SQL on PGlite: a test double, not CrateDB). A writer
// inserts one reading per sensor every second. Ctrl-C stops everything.
//
//   npm run dashboard                                    # embedded test server
//   CRATEDB_URL=http://localhost:4200 npm run dashboard  # a real CrateDB (needs http.cors.* for the page, see index.html)
//   PORT=9000 npm run dashboard                          # page port (default 8000, else a free one)
import { build, type Plugin } from "esbuild";
import { connect, type Connection } from "cratedb-fetch";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startPgliteServer, type PgliteServer } from "../../spec/support/pglite/server.js";
import { CREATE_TABLE, SENSORS, TABLE } from "./schema.js";

export interface DashboardOptions {
  /** Port of the page; 0 = any free one. @default 0 */
  port?: number;
  /** A CrateDB to use instead of the embedded test server (it must allow the page's origin with CORS). */
  crateUrl?: string;
  log?: (line: string) => void;
}

export interface Dashboard {
  /** The page: `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** The database the page and the writer use. */
  readonly dbUrl: string;
  close(): Promise<void>;
}

/** The repository root: the nearest folder upwards whose package.json is cratedb-fetch's. */
function repoRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "cratedb-fetch") return dir;
    if (dirname(dir) === dir) throw new Error("cannot find the cratedb-fetch repository root");
  }
}

/** app.ts bundled for the browser, `cratedb-fetch` being the built web entry (dist/web.js). */
async function bundleApp(root: string): Promise<string> {
  const webDist: Plugin = {
    name: "cratedb-fetch-web-dist",
    setup(b) {
      b.onResolve({ filter: /^cratedb-fetch$/ }, () => ({ path: join(root, "dist/web.js") }));
    },
  };
  const out = await build({
    entryPoints: [join(root, "examples/dashboard/app.ts")], bundle: true, format: "esm", platform: "browser",
    target: "es2022", write: false, logLevel: "warning", plugins: [webDist],
  });
  return out.outputFiles[0]?.text ?? "";
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** A random walk per sensor. */
function readings(at: number, state: Map<string, number>): Array<[Date, string, number]> {
  return SENSORS.map((sensor, i) => {
    const base = [62, 38, 80][i] ?? 50;
    const next = Math.min(base + 12, Math.max(base - 12, (state.get(sensor) ?? base) + (Math.random() - 0.5) * 3));
    state.set(sensor, next);
    return [new Date(at), sensor, Math.round(next * 100) / 100];
  });
}

export async function startDashboard(opts: DashboardOptions = {}): Promise<Dashboard> {
  const log = opts.log ?? (() => {});
  const root = repoRoot();
  const [html, app] = [readFileSync(join(root, "examples/dashboard/index.html"), "utf8"), await bundleApp(root)];

  let config = "{}";
  const page = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const route: Record<string, [string, string]> = {
      "/": ["text/html", html],
      "/index.html": ["text/html", html],
      "/app.js": ["text/javascript", app],
      "/config.json": ["application/json", config],
    };
    const hit = route[path];
    if (!hit) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": `${hit[0]}; charset=utf-8`, "cache-control": "no-store" }).end(hit[1]);
  });
  const port = await listen(page, opts.port ?? 0);
  const pageUrl = `http://127.0.0.1:${port}/`;

  let db: PgliteServer | undefined;
  let writer: Connection | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  const close = async () => {
    if (timer) clearInterval(timer);
    await writer?.close();
    await db?.close();
    await new Promise<void>((resolve) => {
      page.close(() => resolve());
      page.closeAllConnections();
    });
  };
  try {
    if (opts.crateUrl === undefined) {
      db = await startPgliteServer({
        clusterName: "dashboard",
        // The page is another origin than the database: CORS as CrateDB's http.cors.* settings.
        cors: {
          allowOrigin: `http://127.0.0.1:${port},http://localhost:${port}`,
          allowHeaders: "X-Requested-With, Content-Type, Content-Length, Authorization, Default-Schema",
        },
        log,
      });
    }
    const dbUrl = opts.crateUrl ?? (db as PgliteServer).url;
    config = JSON.stringify({ url: dbUrl });

    writer = connect(dbUrl);
    await writer.query(CREATE_TABLE);
    const state = new Map<string, number>();
    const now = Date.now();
    const backfill = Array.from({ length: 30 }, (_, i) => readings(now - (30 - i) * 1000, state)).flat();
    await writer.bulk(`INSERT INTO ${TABLE} (ts, sensor, value) VALUES (?, ?, ?)`, backfill);
    await writer.query(`REFRESH TABLE ${TABLE}`);
    const w = writer;
    let busy = false;
    timer = setInterval(() => {
      if (busy) return;
      busy = true;
      w.bulk(`INSERT INTO ${TABLE} (ts, sensor, value) VALUES (?, ?, ?)`, readings(Date.now(), state))
        .then(() => w.query(`REFRESH TABLE ${TABLE}`))
        .catch((e: unknown) => log(`writer: ${e instanceof Error ? e.message : String(e)}`))
        .finally(() => (busy = false));
    }, 1000);
    return { url: pageUrl, dbUrl, close };
  } catch (e) {
    await close();
    throw e;
  }
}

// ---- `npm run dashboard`
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const crateUrl = process.env["CRATEDB_URL"] || undefined;
  console.log(crateUrl ? `Using ${crateUrl} (it must allow the page's origin with CORS, see examples/dashboard/index.html)` :
    "Starting an embedded CrateDB-protocol test server (SQL runs on PGlite, not CrateDB)…");
  const wanted = Number(process.env["PORT"] ?? 8000);
  const start = (port: number) => startDashboard({ port, log: (l) => console.log(l), ...(crateUrl ? { crateUrl } : {}) });
  const dashboard = await start(wanted).catch((e: unknown) => {
    if ((e as { code?: string }).code !== "EADDRINUSE") throw e;
    console.log(`Port ${wanted} is busy, using a free one`);
    return start(0);
  });
  console.log(`\nDashboard: ${dashboard.url}\nDatabase:  ${dashboard.dbUrl}${crateUrl ? "" : " (test double)"}\n` +
    "A reading per sensor is inserted every second; the page refreshes every second. Ctrl-C to stop.");
  const stop = () => {
    console.log("\nStopping…");
    dashboard.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}
