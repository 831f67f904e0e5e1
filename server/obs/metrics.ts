/** Prometheus metrics (prom-client) on a registry owned by the runtime, so tests and instances don't collide. */
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"surface" | "method" | "status">;
  httpDuration: Histogram<"surface">;
}

export function createMetrics(options: { defaults?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaults ?? true) collectDefaultMetrics({ register: registry, prefix: "switchyard_" });
  return {
    registry,
    httpRequests: new Counter({
      name: "switchyard_http_requests_total",
      help: "HTTP requests by surface (gateway, ops, ui), method and status code.",
      labelNames: ["surface", "method", "status"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "switchyard_http_request_duration_seconds",
      help: "Time from request to response headers, by surface.",
      labelNames: ["surface"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
  };
}
