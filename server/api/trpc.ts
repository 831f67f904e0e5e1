/**
 * tRPC for the control plane: the context (runtime + signed-in user), the error policy, and the procedure ladder
 * `publicProcedure → authedProcedure → role procedures` (create-t3-app's protectedProcedure pattern).
 *
 * Role procedures admit (lib/roles.ts ACCESS):
 * - memberProcedure: any signed-in user;  adminProcedure: admin;
 * - financeProcedure: finance + admin;    developerProcedure: developer + admin.
 * The role check runs before input parsing, so a caller without the role learns nothing from validation errors.
 * Object-level rules (a developer sees only their team's rows) live in access.ts and are applied by each query.
 *
 * Errors: AppError thrown anywhere below is rendered as the TRPCError of its status; anything unexpected is an
 * INTERNAL_SERVER_ERROR whose message never reaches the client (the cause is logged with the request id).
 */
import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import superjson from "superjson";
import { ZodError } from "zod";
import { toIssues } from "@/lib/contracts/common";
import { allows, type AccessLevel } from "@/lib/roles";
import type { SessionUser } from "../auth/users";
import { AppError } from "../gateway/errors";
import { scrubSecrets } from "../obs/log";
import type { Runtime } from "../runtime";
import { configChanged } from "./config-change";

export interface Context {
  rt: Runtime;
  /** The signed-in user (re-read from the database for this request), or null. */
  user: SessionUser | null;
  /** For logs: the request id the HTTP server assigned (or a fresh one for in-process callers). */
  requestId: string;
}

export type AuthedContext = Context & { user: SessionUser };

/** Per-procedure options, set with `.meta({...})`. */
export interface ProcedureMeta {
  /**
   * false for a mutation that changes no configuration (a playground send: POST for the cross-site checks, but
   * nothing for the gateways to reload), so it does not bump the config version.
   */
  changesConfig?: boolean;
}

const t = initTRPC.context<Context>().meta<ProcedureMeta>().create({
  transformer: superjson,
  errorFormatter({ shape, error }) {
    const internal = error.code === "INTERNAL_SERVER_ERROR";
    return {
      ...shape,
      message: internal ? "Internal server error" : scrubSecrets(shape.message),
      data: {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
        path: shape.data.path,
        /** Field-level problems of an invalid input, for forms ("name: must not be empty"). */
        issues: error.cause instanceof ZodError ? toIssues(error.cause) : null,
        /** The AppError code, when there is one ("ssrf_refused", "key_required", …). */
        reason: error.cause instanceof AppError ? error.cause.code : null,
      },
    };
  },
});

const STATUS_CODES: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_SUPPORTED",
  409: "CONFLICT",
  412: "PRECONDITION_FAILED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "UNPROCESSABLE_CONTENT",
  429: "TOO_MANY_REQUESTS",
};

/** AppError → TRPCError with the matching code (unknown statuses: 4xx BAD_REQUEST, 5xx INTERNAL_SERVER_ERROR). */
export function toTRPCError(error: AppError): TRPCError {
  const code = STATUS_CODES[error.status] ?? (error.status < 500 ? "BAD_REQUEST" : "INTERNAL_SERVER_ERROR");
  return new TRPCError({ code, message: error.message, cause: error });
}

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

const withErrorPolicy = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok && result.error.cause instanceof AppError) return { ...result, error: toTRPCError(result.error.cause) };
  return result;
});

/**
 * Every successful mutation bumps the config version once its transaction has committed, so gateways reload
 * (and this instance's snapshot is current before the answer leaves). One rule in one place: no router can forget.
 * The one opt-out is explicit: `.meta({ changesConfig: false })`.
 */
const bumpAfterMutation = t.middleware(async ({ ctx, type, meta, next }) => {
  const result = await next();
  if (type === "mutation" && result.ok && meta?.changesConfig !== false) await configChanged(ctx.rt);
  return result;
});

/** Anyone: first-run setup only. */
export const publicProcedure = t.procedure.use(withErrorPolicy).use(bumpAfterMutation);

/** Any signed-in user (UNAUTHORIZED otherwise); `ctx.user` is non-null below. */
export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.user) throw new TRPCError({ code: "UNAUTHORIZED", message: "Sign in first" });
  return next({ ctx: { ...ctx, user: ctx.user } });
});

function roleProcedure(level: Exclude<AccessLevel, "public">) {
  return authedProcedure.use(({ ctx, next }) => {
    if (!allows(level, ctx.user.role)) {
      throw new TRPCError({ code: "FORBIDDEN", message: `This needs the ${level} role` });
    }
    return next();
  });
}

export const memberProcedure = roleProcedure("member");
export const adminProcedure = roleProcedure("admin");
export const financeProcedure = roleProcedure("finance");
export const developerProcedure = roleProcedure("developer");
