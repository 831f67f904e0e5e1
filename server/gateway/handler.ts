/**
 * The data plane's entry: `(Request) => Promise<Response>` for everything under /api/v1.
 * server/main.ts calls it directly (fast path); app/api/v1/[...path]/route.ts re-exports it for `next dev`.
 */
import type { Runtime } from "../runtime";
import { AppError, renderOpenAIError, toAppError } from "./errors";

export type Handler = (request: Request) => Promise<Response>;

const PREFIX = "/api/v1";

export function createGatewayHandler(rt: Runtime): Handler {
  return async (request) => {
    const requestId = request.headers.get("x-request-id") ?? crypto.randomUUID();
    let response: Response;
    try {
      response = await route(rt, request);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) rt.log.error({ err: error, requestId }, "gateway request failed");
      response = renderOpenAIError(appError);
    }
    response.headers.set("x-request-id", requestId);
    return response;
  };
}

async function route(rt: Runtime, request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  const path = pathname.startsWith(PREFIX) ? pathname.slice(PREFIX.length) || "/" : pathname;
  if (rt.draining) throw new AppError(503, "shutting_down", "The gateway is shutting down; retry on another instance");

  if (path === "/models" || path.startsWith("/models/")) {
    if (request.method !== "GET") throw methodNotAllowed(request.method, path);
    const models = rt.snapshot.current().models;
    if (path === "/models") {
      return Response.json({
        object: "list",
        data: models.map((m) => ({ id: m.id, object: "model", created: m.created, owned_by: m.ownedBy })),
      });
    }
    const id = decodeURIComponent(path.slice("/models/".length));
    const model = models.find((m) => m.id === id);
    if (!model) throw new AppError(404, "model_not_found", `The model '${id}' does not exist`, { param: "model" });
    return Response.json({ id: model.id, object: "model", created: model.created, owned_by: model.ownedBy });
  }
  throw new AppError(404, "unknown_url", `Unknown request URL: ${request.method} ${PREFIX}${path}`);
}

function methodNotAllowed(method: string, path: string): AppError {
  return new AppError(405, "method_not_allowed", `Method ${method} is not allowed on ${PREFIX}${path}`);
}
