/**
 * The tRPC endpoint as `(Request) => Promise<Response>` (fetch adapter), mounted at /api/trpc by
 * app/api/trpc/[trpc]/route.ts. Cross-site checks (csrf.ts) run first; the session is read from the request's
 * cookies. Answers are never cached. Failures of our own (INTERNAL_SERVER_ERROR) are logged with the request id;
 * the client sees only "Internal server error".
 */
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import superjson from "superjson";
import { readSessionUser } from "../auth/session";
import type { Runtime } from "../runtime";
import { checkTrpcRequest } from "./csrf";
import { appRouter } from "./root";

export const TRPC_ENDPOINT = "/api/trpc";

type ProcedureType = "query" | "mutation" | "subscription";

function procedureType(path: string): ProcedureType | undefined {
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: ProcedureType } } | undefined>;
  return Object.hasOwn(procedures, path) ? procedures[path]?._def.type : undefined;
}

/** The procedure paths of a request URL: "/api/trpc/a.b,c.d" → ["a.b", "c.d"] (batched calls). */
function calledPaths(url: URL): string[] {
  const rest = url.pathname.startsWith(`${TRPC_ENDPOINT}/`) ? url.pathname.slice(TRPC_ENDPOINT.length + 1) : "";
  return decodeURIComponent(rest).split(",").filter(Boolean);
}

/** A refusal in tRPC's error envelope (superjson), one per batched call, so the client shows the message. */
function refusalResponse(status: number, code: string, message: string, paths: string[], batch: boolean): Response {
  const error = (path: string | undefined) => ({ error: superjson.serialize({ message, code: -32003, data: { code, httpStatus: status, path, issues: null, reason: null } }) });
  const body = batch ? paths.map(error) : error(paths[0]);
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store" } });
}

export function createTrpcHandler(rt: Runtime): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const paths = calledPaths(url);
    const refusal = checkTrpcRequest(request, paths, procedureType, rt.env);
    const requestId = request.headers.get("x-request-id") ?? crypto.randomUUID();
    if (refusal) {
      rt.log.info({ requestId, method: request.method, paths, reason: refusal.message }, "tRPC request refused");
      return refusalResponse(refusal.status, refusal.code, refusal.message, paths, url.searchParams.get("batch") === "1");
    }
    return fetchRequestHandler({
      endpoint: TRPC_ENDPOINT,
      req: request,
      router: appRouter,
      createContext: async () => ({ rt, user: await readSessionUser(rt, request.headers), requestId }),
      onError({ error, path, type }) {
        if (error.code === "INTERNAL_SERVER_ERROR") rt.log.error({ err: error.cause ?? error, path, type, requestId }, "tRPC procedure failed");
      },
      responseMeta: () => ({ headers: new Headers({ "cache-control": "no-store" }) }),
    });
  };
}
