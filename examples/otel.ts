// OpenTelemetry without a dependency in the library: subscribe to the `cratedb-fetch:query` TracingChannel
// and make CLIENT spans with the database semantic conventions. A tiny in-memory tracer stands in for your SDK
// (with @opentelemetry/sdk-trace-node registered, `trace.getTracer()` gives a real one and this code is the same).
// Run: node examples/run.mjs otel   (or CRATEDB_URL=…)
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from "@opentelemetry/api";
import { connect, type QueryTraceContext } from "cratedb-fetch";
import { tracingChannel } from "node:diagnostics_channel";
import { localCluster } from "./local-cluster.js";

// --- a minimal in-memory tracer (replace with your SDK) ---
const finished: Array<{ name: string; kind: SpanKind; attributes: Attributes; status: SpanStatusCode }> = [];
const memoryTracer = {
  startSpan(name: string, options: { kind?: SpanKind; attributes?: Attributes } = {}): Span {
    const record = { name, kind: options.kind ?? SpanKind.INTERNAL, attributes: { ...options.attributes }, status: SpanStatusCode.UNSET };
    const span = {
      setAttribute: (k: string, v: never) => ((record.attributes[k] = v), span),
      setStatus: (s: { code: SpanStatusCode }) => ((record.status = s.code), span),
      recordException: () => undefined,
      end: () => void finished.push(record),
    };
    return span as unknown as Span;
  },
} as unknown as Tracer;
trace.setGlobalTracerProvider({ getTracer: () => memoryTracer });

// --- the integration: TracingChannel → spans ---
const tracer = trace.getTracer("cratedb-fetch-example");
const spans = new WeakMap<object, Span>();
tracingChannel<string, QueryTraceContext>("cratedb-fetch:query").subscribe({
  start(ctx) {
    spans.set(ctx, tracer.startSpan(ctx.statement.trim().split(/\s+/)[0]?.toUpperCase() ?? "cratedb", {
      kind: SpanKind.CLIENT,
      attributes: {
        "db.system.name": "cratedb",
        "db.query.text": ctx.statement, // parameterised: values are never in the text
        ...(ctx.schema ? { "db.namespace": ctx.schema } : {}),
        ...(ctx.bulkSize !== undefined ? { "db.operation.batch.size": ctx.bulkSize } : {}),
      },
    }));
  },
  asyncEnd(ctx) {
    const span = spans.get(ctx);
    if (!span) return;
    const server = ctx.server ?? (ctx.error as { server?: string } | undefined)?.server;
    if (server) {
      const url = new URL(server);
      span.setAttribute("server.address", url.hostname);
      span.setAttribute("server.port", Number(url.port || (url.protocol === "https:" ? 443 : 80)));
    }
    if (ctx.error) {
      const code = (ctx.error as { code?: number }).code;
      if (code !== undefined) span.setAttribute("db.response.status_code", String(code));
      span.setAttribute("error.type", (ctx.error as Error).name);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  },
  end() {},
  asyncStart() {},
  error() {},
});

const local = process.env.CRATEDB_URL ? undefined : await localCluster({ nodes: 1 });
const conn = connect(process.env.CRATEDB_URL ?? (local?.urls as string[]), { schema: "doc" });
try {
  await conn.query("CREATE TABLE IF NOT EXISTS otel_example (id INT PRIMARY KEY, name TEXT)");
  await conn.bulk("INSERT INTO otel_example (id, name) VALUES (?, ?)", [[1, "a"], [2, "b"]]);
  await conn.query("SELECT name FROM otel_example WHERE id = ?", [1]);
  await conn.query("SELECT * FROM otel_example_missing").catch(() => undefined);
  await conn.query("DROP TABLE otel_example");
  for (const s of finished) console.log(`${s.name.padEnd(7)} ${SpanKind[s.kind]} ${SpanStatusCode[s.status]} ${JSON.stringify(s.attributes)}`);
  const ok = finished.length === 5 && finished.every((s) => s.kind === SpanKind.CLIENT && s.attributes["db.system.name"] === "cratedb") &&
    finished[1]?.attributes["db.operation.batch.size"] === 2 && finished[3]?.status === SpanStatusCode.ERROR;
  console.log(JSON.stringify({ example: "otel", ok }));
} finally {
  await conn.close();
  await local?.close();
}
