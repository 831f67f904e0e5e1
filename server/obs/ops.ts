/** Operational endpoints: /api/health (liveness), /api/ready (readiness), /api/metrics (Prometheus). */
import { timingSafeEqual } from "node:crypto";
import { readiness, type Runtime } from "../runtime";

export function health(rt: Runtime): Response {
  return Response.json({ status: rt.draining ? "draining" : "ok" });
}

export async function ready(rt: Runtime): Promise<Response> {
  const report = await readiness(rt);
  return Response.json({ status: report.ok ? "ready" : "not_ready", checks: report.checks }, { status: report.ok ? 200 : 503 });
}

export async function metrics(rt: Runtime, request: Request): Promise<Response> {
  const token = rt.env.SWITCHYARD_METRICS_TOKEN;
  if (token) {
    const given = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1] ?? "";
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    if (a.length !== b.length || !timingSafeEqual(a, b)) {
      return Response.json(
        { error: { message: "A valid metrics token is required", type: "authentication_error", code: "invalid_metrics_token", param: null } },
        { status: 401, headers: { "www-authenticate": "Bearer" } },
      );
    }
  }
  return new Response(await rt.metrics.registry.metrics(), {
    headers: { "content-type": rt.metrics.registry.contentType },
  });
}

/** Routes an ops path, or returns null when the path is not one. */
export async function handleOps(rt: Runtime, request: Request, pathname: string): Promise<Response | null> {
  if (pathname === "/api/health") return health(rt);
  if (pathname === "/api/ready") return ready(rt);
  if (pathname === "/api/metrics") return metrics(rt, request);
  return null;
}
