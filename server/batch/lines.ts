/**
 * What every batch line goes through whichever way it runs: the caller's key as the live pipeline sees it, the
 * plan (routeCall, the live data plane's planner: cascade classifier, constraints, cost ceilings, the policy's
 * compression and caps), whether its first target has a batch API, turning an upstream answer into an output line,
 * and the line's call-log row (batch: true, priced by price.ts). A line sent to a provider batch keeps a summary of
 * its plan (planSummary, stored on its BatchItem) so that its row describes the plan it ran under, however the
 * configuration changed before the provider answered.
 */
import type { Db } from "../db/client";
import { authContextOf, KEY_AUTH_SELECT, keyRefusal, type AuthContext, type KeyRefusal } from "../gateway/auth";
import type { GatewayConfig } from "../gateway/config";
import { AppError, toAppError } from "../gateway/errors";
import { resolvePlan, routeCall, type Plan, type Target } from "../gateway/resolve";
import { estimatePromptTokens, estimateTextTokens } from "../gateway/tokens";
import { adapterFor, toClientError, type AttemptRecord } from "../gateway/upstream";
import { BATCH_KINDS, type ProviderKind } from "../catalog/kinds";
import type { CallRecord } from "../ledger/call-log";
import { capRecord, type CapDecision } from "../optimize";
import { routeRecord, type RouteRecord, type RoutingEngine } from "../routing";
import type { EmbeddingRequest, EmbeddingResponse } from "../providers/adapter";
import { normalizeUsage, type ChatRequest, type ChatResponse, type NormalizedUsage, UpstreamError } from "../providers/types";
import type { LineRequest } from "./input";
import { lineErrorResponse, lineRequestId, type LineResponse } from "./objects";
import { priceBatchLine } from "./price";

/** A key as authentication would answer it, or why its lines can no longer run. */
export type KeyState = { ok: true; key: AuthContext } | { ok: false; error: AppError };

/** Loads the keys that own some batches (one query), with the checks authentication makes on every request. */
export async function loadKeys(db: Db, ids: string[], now = Date.now()): Promise<Map<string, KeyState>> {
  const rows = await db.apiKey.findMany({ where: { id: { in: [...new Set(ids)] } }, select: KEY_AUTH_SELECT });
  const refused = (why: string): KeyState => ({ ok: false, error: new AppError(401, "invalid_api_key", `The API key that created this batch ${why}`) });
  const out = new Map<string, KeyState>();
  for (const id of ids) out.set(id, refused("no longer exists"));
  for (const row of rows) {
    const refusal = keyRefusal(row);
    if (refusal) out.set(row.id, refused(BATCH_REFUSALS[refusal]));
    else if (row.expiresAt && row.expiresAt.getTime() <= now) out.set(row.id, refused("has expired"));
    else out.set(row.id, { ok: true, key: authContextOf(row) });
  }
  return out;
}

const BATCH_REFUSALS: Record<KeyRefusal, string> = { revoked: "has been revoked", disabled: "is disabled", owner_disabled: "belongs to a disabled user" };

/** A line as planned: its plan, and the request as it goes upstream (after the policy's compression and caps). */
export interface PlannedLine {
  plan: Plan;
  line: LineRequest;
}

/**
 * Plans a line as the live endpoint plans the same request. Chat lines go through routeCall — the data plane's own
 * planner, so a cascade's classifier, capability constraints, cost ceilings, `switchyard` overrides in the body, and
 * the policy's prompt compression and output caps all apply per line — and only then are lines grouped by target.
 * Embeddings keep only the targets that produce embeddings (resolvePlan), as the live endpoint does.
 * `raw` is the line's body as submitted (its `switchyard` field holds per-request overrides); `headers` the stored
 * headers of a deferred request (BatchItem.headers).
 */
export async function planLine(routing: RoutingEngine, config: GatewayConfig, key: AuthContext, line: LineRequest, raw: unknown, headers: unknown = null): Promise<PlannedLine> {
  if (line.kind === "chat") {
    // A deferred request's line carries the headers routing reads; an uploaded file's lines have none.
    const plan = await routeCall(routing, config, key, { canonical: line.request, headers: lineHeaders(headers), raw });
    return { plan, line: plan.optimized ? { kind: "chat", request: plan.optimized.request } : line };
  }
  const plan = resolvePlan(config, key, line.request.model);
  const targets = plan.targets.filter((t) => !t.model || t.model.capabilities.embeddings);
  if (targets.length === 0) throw new AppError(400, "model_not_embeddings", `The model '${line.request.model}' does not produce embeddings`, { param: "model" });
  return { plan: { ...plan, targets }, line };
}

/**
 * Loads the trained classifiers of the learned cascade policies these lines name before they are planned: a live
 * call takes the heuristic while a model loads in the background, but a batch line can wait for it.
 */
export async function loadClassifiers(routing: RoutingEngine, config: GatewayConfig, lines: Array<{ orgId: string; model: unknown }>): Promise<void> {
  const wanted = new Map<string, { orgId: string; policy: string }>();
  for (const { orgId, model } of lines) {
    if (typeof model !== "string") continue;
    const document = config.orgs.get(orgId)?.policies.get(model)?.document;
    if (document?.strategy === "cascade" && document.classifier.kind === "learned") wanted.set(`${orgId}\n${model}`, { orgId, policy: model });
  }
  for (const { orgId, policy } of wanted.values()) {
    if (!routing.learned(orgId, policy)) await routing.classifiers.reload(orgId, policy);
  }
}

/** The protocol whose batch API serves `target`, or null when its provider has none that Switchyard drives. */
export function batchProtocol(target: Target, kind: LineRequest["kind"]): "openai" | "anthropic" | "gemini" | null {
  if (!BATCH_KINDS.has(target.provider.kind as ProviderKind)) return null;
  const protocol = adapterFor(target).protocol;
  if (protocol === "openai") return "openai";
  // Embeddings go through OpenAI's batch API only; elsewhere they take the normal path.
  if (kind !== "chat") return null;
  return protocol;
}

/**
 * The plan of a provider-batch line submitted before plan summaries were stored (BatchItem.plan null): planned again
 * under today's configuration (the request sent is rebuilt the same way); a line that no longer resolves gets a plan
 * of the target it ran on. Lines submitted since are recorded from their summary (storedPlanRow) instead.
 */
export async function planOrTarget(
  routing: RoutingEngine,
  config: GatewayConfig,
  key: AuthContext | null,
  line: { request: LineRequest; raw: unknown; headers: unknown },
  target: Target,
): Promise<PlannedLine> {
  if (key) {
    try {
      return await planLine(routing, config, key, line.request, line.raw, line.headers);
    } catch {
      // fall through: the line ran on `target` whatever the configuration says now
    }
  }
  return { plan: { requested: line.request.request.model, policy: null, targets: [target], reference: target, dropParams: new Set() }, line: line.request };
}

/**
 * What a line's plan decided, stored on its BatchItem (`plan`) when it is submitted to a provider batch. The provider
 * answers hours later; the line's call-log row is built from this, so a policy changed meanwhile (targets, reference,
 * compression, caps, a retrained classifier) does not rewrite the policy, route, baseline or savings of a line that
 * ran under the old plan. Secret-free: names, ids, the decision's reasons, hashed features and the client's request.
 */
export interface PlanSummary {
  /**
   * routeRecord(plan, target) for the target the line was submitted to, without `cap`: what only the answer decides
   * (the cap's outcome, `overBudget`) is completed when it comes (storedPlanRow).
   */
  route: RouteRecord;
  /** The target the savings baseline is priced at, by id: priced when the answer is, as the target it ran on is. */
  reference: { providerId: string; modelId: string };
  /** Prompt tokens the policy's compression removed (priced as compression savings). */
  tokensSaved: number;
  /** The policy's output cap, and the choices it covers (the request's `n`). */
  cap: CapDecision | null;
  choices: number;
  /** The chat request as sent upstream (after compression and cap); null when the policy left it as the client sent it. */
  request: ChatRequest | null;
}

/** The summary of a line planned for `target` (the provider batch it goes into). */
export function planSummary({ plan, line }: PlannedLine, target: Target): PlanSummary {
  const route = routeRecord(plan, target);
  delete route.cap;
  return {
    route,
    reference: { providerId: plan.reference.provider.id, modelId: plan.reference.modelId },
    tokensSaved: plan.optimized?.compression?.tokensSaved ?? 0,
    cap: plan.optimized?.cap ?? null,
    choices: plan.optimized?.request.n ?? 1,
    request: plan.optimized && line.kind === "chat" ? line.request : null,
  };
}

/** A stored summary, or null for a line submitted before summaries were stored (or never submitted). */
export function storedSummary(stored: unknown): PlanSummary | null {
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return null;
  return "route" in stored && "reference" in stored ? (stored as PlanSummary) : null;
}

/**
 * What a line's call-log row takes from its plan: the live Plan of a line planned now (livePlanRow), or the summary
 * stored when a provider-batch line was submitted (storedPlanRow).
 */
export interface RowPlan {
  /** The policy's name; null when the line named a model. */
  policy: string | null;
  /** What the savings baseline is priced at. */
  reference: Target;
  /** Prompt tokens the policy's compression removed. */
  tokensSaved: number;
  /** The route record of a line that ended on `final` (null: no target answered). */
  route(final: Target | null, extra: { costUsd?: string; finishReason?: string | null }): RouteRecord;
  /** An upstream failure as the client is told it. */
  clientError(error: UpstreamError): AppError;
}

/** The row plan of a line planned now (the direct path, lines that fail before reaching a provider batch). */
export function livePlanRow(plan: Plan): RowPlan {
  return {
    policy: plan.policy?.name ?? null,
    reference: plan.reference,
    tokensSaved: plan.optimized?.compression?.tokensSaved ?? 0,
    route: (final, extra) => routeRecord(plan, final, extra),
    clientError: (error) => toClientError(error, plan),
  };
}

/**
 * The row plan of a provider-batch line from its stored summary. `target` is what it ran on; `reference` the
 * summary's reference as configured now (the caller passes `target` when it is gone: no routing saving).
 */
export function storedPlanRow(summary: PlanSummary, target: Target, reference: Target): RowPlan {
  // Only `target` ran the line: with one target, toClientError names its provider and reads nothing else of a plan.
  const ran: Plan = { requested: summary.route.requested, policy: null, targets: [target], reference, dropParams: new Set() };
  return {
    policy: summary.route.policy,
    reference,
    tokensSaved: summary.tokensSaved,
    route: (final, extra) => {
      const route: RouteRecord = { ...summary.route };
      // Completed from the answer as routeRecord completes it: the cap's outcome, a cost above the max per query.
      if (summary.cap) route.cap = capRecord(summary.cap, extra.finishReason, final, summary.choices);
      if (route.maxCostUsd != null && extra.costUsd !== undefined && Number(extra.costUsd) > route.maxCostUsd) route.overBudget = true;
      return route;
    },
    clientError: (error) => toClientError(error, ran),
  };
}

/** Stored headers (a JSON object of strings) as Headers; anything else as none. */
function lineHeaders(stored: unknown): Headers {
  const headers = new Headers();
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return headers;
  for (const [name, value] of Object.entries(stored)) if (typeof value === "string") headers.set(name, value);
  return headers;
}

export function chatText(response: ChatResponse): string {
  return response.choices
    .map((c) => (c.message.content ?? "") + (c.message.tool_calls ?? []).map((t) => t.function.name + t.function.arguments).join(""))
    .join("");
}

/** Usage as reported, or estimated with the tokenizer when the upstream reported none. */
export function chatUsage(request: ChatRequest, response: ChatResponse): { usage: NormalizedUsage; estimated: boolean } {
  const reported = normalizeUsage(response.usage);
  if (reported) return { usage: reported, estimated: false };
  return {
    usage: { input: estimatePromptTokens(request.messages, request.tools), cachedInput: 0, cacheWrite: 0, output: estimateTextTokens(chatText(response)), reasoning: 0 },
    estimated: true,
  };
}

export function embeddingUsage(request: EmbeddingRequest, response: EmbeddingResponse): { usage: NormalizedUsage; estimated: boolean } {
  const texts = typeof request.input === "string" ? [request.input] : request.input.every((i) => typeof i === "string") ? (request.input as string[]) : [];
  const input = response.usage?.prompt_tokens ?? texts.reduce((n, t) => n + estimateTextTokens(t), 0);
  return { usage: { input, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0 }, estimated: !response.usage };
}

/** What one line ended with: its output-line response and the call-log fields that describe it. */
export interface LineResult {
  ok: boolean;
  response: LineResponse;
  record: Partial<CallRecord>;
  /** What the line consumed (zero for failures), for the admission ticket. */
  usage: NormalizedUsage;
}

const NO_USAGE: NormalizedUsage = { input: 0, cachedInput: 0, cacheWrite: 0, output: 0, reasoning: 0 };

/** A successful line: the body the live endpoint would have answered, priced for the call log. */
export function successResult(args: {
  callId: string;
  body: ChatResponse | EmbeddingResponse;
  usage: NormalizedUsage;
  estimated: boolean;
  target: Target;
  plan: RowPlan;
  viaBatchApi: boolean;
  /** The line ran on the normal path because its provider batch could not run it. */
  fellBack?: boolean;
}): LineResult {
  const { target, plan, usage } = args;
  const money = priceBatchLine(usage, target, plan.reference, args.viaBatchApi, plan.tokensSaved);
  const finishReason = "choices" in args.body ? (args.body.choices[0]?.finish_reason ?? null) : null;
  return {
    ok: true,
    usage,
    response: { status_code: 200, request_id: lineRequestId(args.callId), body: args.body },
    record: {
      status: 200,
      providerId: target.provider.id,
      providerKind: target.provider.kind,
      model: target.modelId,
      upstreamId: "id" in args.body ? (args.body as ChatResponse).id : null,
      inputTokens: usage.input,
      cachedInputTokens: usage.cachedInput,
      cacheWriteTokens: usage.cacheWrite,
      outputTokens: usage.output,
      reasoningTokens: usage.reasoning,
      estimated: args.estimated,
      route: routeOf(plan, target, args.viaBatchApi, { costUsd: money.costUsd, finishReason, fellBack: args.fellBack }),
      ...money,
    },
  };
}

/** A failed line: the error answer the live endpoint would have given (upstream errors mapped the same way). */
export function failureResult(callId: string, error: unknown, plan: RowPlan | null, target: Target | null, viaBatchApi: boolean, fellBack = false): LineResult {
  const appError = error instanceof UpstreamError && plan ? plan.clientError(error) : toAppError(error);
  return {
    ok: false,
    usage: NO_USAGE,
    response: lineErrorResponse(appError, lineRequestId(callId)),
    record: {
      status: appError.status,
      errorClass: appError.code,
      ...(target ? { providerId: target.provider.id, providerKind: target.provider.kind, model: target.modelId } : {}),
      ...(plan ? { route: routeOf(plan, target, viaBatchApi, { fellBack }) } : {}),
    },
  };
}

/**
 * The line's `route`: the live call log's record of the decision (strategy, cascade tier and difficulty,
 * candidates, rejections, compression, cap), plus how the line ran — `mode` "provider-batch" or "direct", and
 * `providerBatchFallback` when it ran directly because its provider batch could not run it.
 */
function routeOf(plan: RowPlan, target: Target | null, viaBatchApi: boolean, extra: { costUsd?: string; finishReason?: string | null; fellBack?: boolean | undefined } = {}) {
  const { fellBack, ...money } = extra;
  const ran = target ? { mode: viaBatchApi ? "provider-batch" : "direct", ...(fellBack ? { providerBatchFallback: true } : {}) } : {};
  return { ...plan.route(target, money), ...ran };
}

/** The line's call-log row: one per line, under the line's fixed call id (a replayed result never doubles it). */
export function callRecord(
  line: { callId: string; batchId: string; kind: LineRequest["kind"]; requestedModel: string | null; endUser: string | null },
  owner: { orgId: string; teamId: string; apiKeyId: string },
  plan: RowPlan | null,
  result: Partial<CallRecord>,
  attempts: AttemptRecord[] = [],
): CallRecord {
  return {
    id: line.callId,
    requestId: lineRequestId(line.callId),
    createdAt: new Date(),
    orgId: owner.orgId,
    teamId: owner.teamId,
    apiKeyId: owner.apiKeyId,
    endUser: line.endUser,
    surface: "openai",
    endpoint: line.kind === "chat" ? "chat.completions" : "embeddings",
    requestedModel: line.requestedModel,
    policy: plan?.policy ?? null,
    batch: true,
    attempts,
    ...result,
    // The batch a row belongs to is kept in its route, next to the target and how the line ran.
    route: { ...(result.route as object | undefined), batch: line.batchId },
    status: result.status ?? 500,
  };
}
