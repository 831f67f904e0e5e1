/**
 * The data plane's entry: `(Request) => Promise<Response>` for everything under /api/v1.
 * server/main.ts calls it directly (fast path); app/api/v1/[...path]/route.ts re-exports it for `next dev`.
 */
import type { Runtime } from "../runtime";
import { createAdmission } from "../ledger/admission";
import { createTransport } from "../providers/transport";
import { createAuthenticator } from "./auth";
import type { Gateway } from "./context";
import { createResponseCache } from "../cache/response-cache";
import { registerPlayground } from "./playground";
import { batches } from "./endpoints/batches";
import { chatCompletions } from "./endpoints/chat";
import { embeddings } from "./endpoints/embeddings";
import { files } from "./endpoints/files";
import { messages } from "./endpoints/messages";
import { getModel, listModels } from "./endpoints/models";
import { responses } from "./endpoints/responses";
import { AppError, renderAnthropicError, renderOpenAIError, toAppError } from "./errors";
import { createIdempotency } from "./idempotency";

export type Handler = (request: Request) => Promise<Response>;

const PREFIX = "/api/v1";

export function createGatewayHandler(rt: Runtime): Handler {
  const auth = createAuthenticator(rt.db.prisma, rt.snapshot);
  const transport = createTransport({
    ...(rt.resolve ? { resolve: rt.resolve } : {}),
    timeouts: {
      connectMs: rt.env.SWITCHYARD_UPSTREAM_CONNECT_TIMEOUT_MS,
      firstByteMs: rt.env.SWITCHYARD_UPSTREAM_FIRST_BYTE_TIMEOUT_MS,
      idleMs: rt.env.SWITCHYARD_UPSTREAM_IDLE_TIMEOUT_MS,
      totalMs: rt.env.SWITCHYARD_UPSTREAM_TIMEOUT_MS,
    },
  });
  rt.onShutdown(() => transport.close());
  const gw: Gateway = { rt, auth, transport, admission: createAdmission(rt), cache: createResponseCache(rt) };
  rt.batch.attach(gw);
  // Idempotency-Key on the endpoints below (reliability case 22): replays a stored answer instead of calling again.
  const idempotency = createIdempotency(gw);
  registerPlayground(gw);

  const route = async (request: Request, requestId: string): Promise<Response> => {
    const { pathname } = new URL(request.url);
    const path = pathname.startsWith(PREFIX) ? pathname.slice(PREFIX.length) || "/" : pathname;
    if (rt.draining) throw new AppError(503, "shutting_down", "The gateway is shutting down; retry on another instance");

    if (path === "/chat/completions" || path === "/messages" || path === "/responses") {
      if (request.method !== "POST") throw methodNotAllowed(request.method, path);
      return idempotency.handle(request, requestId, path, (req) => {
        if (path === "/messages") return messages(gw, req, requestId);
        if (path === "/responses") return responses(gw, req, requestId);
        return chatCompletions(gw, req, requestId);
      });
    }
    if (path === "/embeddings") {
      if (request.method !== "POST") throw methodNotAllowed(request.method, path);
      return idempotency.handle(request, requestId, path, (req) => embeddings(gw, req, requestId));
    }
    if (path === "/files" || path.startsWith("/files/")) return files(gw, request, path);
    if (path === "/batches" || path.startsWith("/batches/")) return batches(gw, request, path);
    if (path === "/feedback") return (await import("./endpoints/feedback")).feedback(gw, request);
    if (path === "/models" || path.startsWith("/models/")) {
      if (request.method !== "GET") throw methodNotAllowed(request.method, path);
      const key = await auth.authenticate(request.headers);
      const config = rt.snapshot.current();
      if (path === "/models") return listModels(config, key);
      return getModel(config, key, decodeURIComponent(path.slice("/models/".length)));
    }
    throw new AppError(404, "unknown_url", `Unknown request URL: ${request.method} ${PREFIX}${path}`);
  };

  return async (request) => {
    const requestId = request.headers.get("x-request-id") ?? crypto.randomUUID();
    let response: Response;
    try {
      response = await route(request, requestId);
    } catch (error) {
      const appError = toAppError(error);
      if (appError.status >= 500) rt.log.error({ err: error, requestId }, "gateway request failed");
      // Each surface answers errors in its own envelope (Anthropic SDK clients parse theirs).
      const anthropic = new URL(request.url).pathname === `${PREFIX}/messages`;
      response = anthropic ? renderAnthropicError(appError) : renderOpenAIError(appError);
    }
    response.headers.set("x-request-id", requestId);
    return response;
  };
}

function methodNotAllowed(method: string, path: string): AppError {
  return new AppError(405, "method_not_allowed", `Method ${method} is not allowed on ${PREFIX}${path}`);
}
