/**
 * Declarative parameter rules (the good half of Portkey's gateway): each adapter has a `ParamTable` with one
 * rule for EVERY OpenAI request parameter — TypeScript enforces the table is complete — saying how the target
 * honours it: pass it, rename it, map it, drop it (only where dropping cannot change the answer), or reject it.
 * Values are never clamped: a value the target cannot represent is rejected with a 400 naming the parameter,
 * unless the caller listed the parameter in `dropParams`.
 */
import { AppError } from "../gateway/errors";
import type { BuildOptions } from "./adapter";
import type { ChatParam, ChatRequest, UpstreamTarget } from "./types";

export interface ParamContext {
  readonly req: ChatRequest;
  readonly target: UpstreamTarget;
  /** Human label of the target protocol or provider, used in error messages. */
  readonly label: string;
  /** Whether the caller allowed dropping `param`. */
  droppable(param: string): boolean;
  /** Rejects `param` with a 400, unless it is droppable; then it returns and the caller skips the parameter. */
  reject(param: string, reason: string): void;
}

export type ParamRule<V> =
  /** Copy the value under the same name. */
  | { action: "pass" }
  /** Copy the value under another name. */
  | { action: "rename"; to: string }
  /** Translate the value into the upstream body (may call `ctx.reject` for values it cannot represent). */
  | { action: "map"; apply: (value: V, body: Record<string, unknown>, ctx: ParamContext) => void }
  /** Ignore it: the target has no equivalent and dropping it cannot change the generated answer. */
  | { action: "drop"; reason: string }
  /** The target cannot honour it: 400 unless droppable, or unless the value is the OpenAI no-op default. */
  | { action: "reject"; reason: string };

export type ParamTable = { readonly [K in ChatParam]-?: ParamRule<NonNullable<ChatRequest[K]>> };

/**
 * Values that leave the OpenAI default behaviour unchanged; a `reject` rule never fires on them (`n: 1` is not
 * a reason to refuse a target that cannot generate several choices).
 */
const NO_OP: Partial<Record<ChatParam, (value: unknown) => boolean>> = {
  n: (v) => v === 1,
  logprobs: (v) => v === false,
  top_logprobs: (v) => v === 0,
  presence_penalty: (v) => v === 0,
  frequency_penalty: (v) => v === 0,
  logit_bias: isEmptyObject,
  metadata: isEmptyObject,
  tools: isEmptyArray,
  functions: isEmptyArray,
  stop: isEmptyArray,
  parallel_tool_calls: (v) => v === true,
  tool_choice: (v) => v === "auto",
  stream: (v) => v === false,
  store: (v) => v === false,
  response_format: (v) => typeof v === "object" && v !== null && (v as { type?: unknown }).type === "text",
  modalities: (v) => Array.isArray(v) && v.length === 1 && v[0] === "text",
};

function isEmptyObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}

function isEmptyArray(value: unknown): boolean {
  return Array.isArray(value) && value.length === 0;
}

/** Whether `value` leaves the OpenAI default behaviour of `param` unchanged. */
export function isNoOpValue(param: string, value: unknown): boolean {
  return NO_OP[param as ChatParam]?.(value) ?? false;
}

/** The 400 every adapter raises for a parameter (or a value of it) the target cannot honour. */
export function unsupportedParameter(param: string, label: string, reason: string): AppError {
  return new AppError(
    400,
    "unsupported_parameter",
    `Parameter '${param}' is not supported by ${label}: ${reason}. Remove it, or allow the route to drop it.`,
    { param },
  );
}

export function createParamContext(
  req: ChatRequest,
  target: UpstreamTarget,
  label: string,
  options: BuildOptions = {},
): ParamContext {
  const drop = options.dropParams ?? new Set<string>();
  return {
    req,
    target,
    label,
    droppable: (param) => drop.has(param),
    reject(param, reason) {
      if (!drop.has(param)) throw unsupportedParameter(param, label, reason);
    },
  };
}

/**
 * Applies `table` to every parameter set in `req` (undefined and null mean "not set"), writing into `body`.
 * Keys that are not OpenAI parameters are passed through (`unknown: "pass"`, vendor extensions for an
 * OpenAI-protocol upstream) or rejected (`unknown: "reject"`, for translated protocols).
 */
export function applyParams(
  table: ParamTable,
  body: Record<string, unknown>,
  ctx: ParamContext,
  unknown: "pass" | "reject",
): void {
  for (const [param, value] of Object.entries(ctx.req)) {
    if (value === undefined || value === null) continue;
    const rule = (table as Record<string, ParamRule<unknown> | undefined>)[param];
    if (!rule) {
      if (unknown === "pass") body[param] = value;
      else ctx.reject(param, "it is not an OpenAI Chat Completions parameter this adapter can translate");
      continue;
    }
    switch (rule.action) {
      case "pass":
        body[param] = value;
        break;
      case "rename":
        body[rule.to] = value;
        break;
      case "map":
        rule.apply(value, body, ctx);
        break;
      case "drop":
        break;
      case "reject":
        if (!isNoOpValue(param, value)) ctx.reject(param, rule.reason);
        break;
    }
  }
}
