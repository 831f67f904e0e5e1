/**
 * Lines whose target has a batch API go to the provider as one batch per target (provider, model, endpoint),
 * possibly mixing lines of several Switchyard batches (deferred requests are grouped this way). Provider batches
 * are polled with exponential backoff; their state is in the database, so a restarted worker resumes polling.
 * A provider batch that cannot be submitted, fails as a whole, or leaves lines unrun (expired) hands those lines
 * to the normal adapter path instead of failing them — visibly: a warning naming the provider, the batch's
 * `metadata.switchyard_fallback`, and `route.providerBatchFallback` on each such line's call-log row.
 * A line's call-log row is built from the summary of its plan stored when it was submitted (lines.ts planSummary),
 * not from a new plan: the configuration may have changed while the provider ran the batch.
 */
import { providerModel, type GatewayConfig } from "../gateway/config";
import { AppError } from "../gateway/errors";
import type { Target } from "../gateway/resolve";
import { adapterFor, upstreamTarget } from "../gateway/upstream";
import { planPromptCache } from "../cache/prompt-cache";
import { scrubSecrets } from "../obs/log";
import { protocolTarget } from "../providers/registry";
import { UpstreamError, type ChatRequest } from "../providers/types";
import { routingFor } from "../routing";
import type { WorkerContext } from "./context";
import { admitLine, finishLine, type PreparedLine } from "./execute";
import { validateLine, type LineRequest } from "./input";
import {
  chatUsage,
  embeddingUsage,
  failureResult,
  livePlanRow,
  loadKeys,
  planOrTarget,
  planSummary,
  storedPlanRow,
  storedSummary,
  successResult,
  type LineResult,
  type RowPlan,
} from "./lines";
import { newProviderBatchId, type BatchEndpoint } from "./objects";
import { anthropicBatchApi } from "./provider-anthropic";
import { geminiBatchApi } from "./provider-gemini";
import type { ApiContext, LineOutcome, ProviderBatchApi, ProviderLine } from "./provider-api";
import { openaiBatchApi } from "./provider-openai";

const APIS: Record<string, ProviderBatchApi> = { openai: openaiBatchApi, anthropic: anthropicBatchApi, gemini: geminiBatchApi };
/** Failures worth trying again later rather than giving up on the provider's batch API. */
const RETRYABLE = new Set(["rate_limited", "server_error", "overloaded", "timeout", "connection"]);

function apiContext(ctx: WorkerContext, target: Target): ApiContext {
  return {
    transport: ctx.gw.transport,
    adapter: adapterFor(target),
    // Batch URLs are derived as chat URLs are: a simulator configured at its root gets the protocol's mount.
    target: protocolTarget(upstreamTarget(target)),
    providerName: target.provider.name,
    allowPrivate: target.provider.allowPrivate,
    signal: ctx.signal,
  };
}

/** Submits lines of one target (and protocol) as one provider batch. */
export async function submitGroup(ctx: WorkerContext, protocol: "openai" | "anthropic" | "gemini", target: Target, url: BatchEndpoint, group: PreparedLine[]): Promise<void> {
  const adapter = adapterFor(target);
  const upstream = upstreamTarget(target);
  const lines: ProviderLine[] = [];
  const ready: PreparedLine[] = [];
  // Submitted in item-id order, the order pollOne lists them in, for providers that answer by position.
  for (const p of [...group].sort((a, b) => (a.item.id < b.item.id ? -1 : 1))) {
    if (!(await admitLine(ctx, p))) continue;
    try {
      // As a live attempt on this target: the policy's per-target parameters, then provider prompt caching.
      const planned = p.plan.prepare?.(target) ?? { prepare: (r: ChatRequest) => r, dropParams: p.plan.dropParams };
      const spec =
        p.line.kind === "chat"
          ? adapter.buildRequest(planPromptCache(planned.prepare(p.line.request), { protocol: adapter.protocol, model: target.modelId }), upstream, { dropParams: planned.dropParams })
          : (adapter.embeddings ?? missingEmbeddings(target)).buildRequest(p.line.request, upstream);
      lines.push({ customId: p.item.id, body: JSON.parse(spec.body) as Record<string, unknown> });
      ready.push(p);
    } catch (error) {
      const row = livePlanRow(p.plan);
      await finishLine(ctx, p, failureResult(p.item.callId, error, row, target, true), "pending", row);
    }
  }
  if (ready.length === 0) return;
  const pb = await ctx.db.providerBatch.create({
    data: {
      id: newProviderBatchId(),
      orgId: target.provider.orgId,
      providerId: target.provider.id,
      providerName: target.provider.name,
      protocol,
      model: target.modelId,
      endpoint: url,
      status: "submitting",
      nextPollAt: new Date(),
    },
  });
  // Queued in this provider batch together with what each line's plan decided: its row is built from that.
  const queued = ready.map((p) => ({ id: p.item.id, plan: planSummary(p, target) }));
  await ctx.db.$executeRawUnsafe(QUEUE_SQL, pb.id, JSON.stringify(queued));
  try {
    const { upstreamId, upstreamFileId } = await APIS[protocol]!.submit(apiContext(ctx, target), lines, url, pb.id);
    await ctx.db.providerBatch.update({
      where: { id: pb.id },
      data: { status: "in_progress", upstreamId, upstreamFileId, nextPollAt: new Date(Date.now() + ctx.options().pollInitialMs) },
    });
    ctx.log.info({ providerBatch: pb.id, provider: target.provider.name, model: target.modelId, lines: ready.length }, "batch: submitted a provider batch");
  } catch (error) {
    if (ctx.signal.aborted) return; // the next leader finds it `submitting` and requeues its lines
    const retry = error instanceof UpstreamError && RETRYABLE.has(error.kind);
    const reason = errorText(error);
    ctx.log.warn(
      { providerBatch: pb.id, provider: target.provider.name, model: target.modelId, lines: ready.length, err: reason, retry },
      retry ? "batch: provider batch submission failed; will retry" : "batch: provider batch submission failed; its lines take the normal path at standard prices",
    );
    await ctx.db.providerBatch.update({ where: { id: pb.id }, data: { status: "ended", error: reason } });
    if (!retry) await noteFallback(ctx, ready.map((p) => p.item.batchId), `provider '${target.provider.name}' batch API refused the submission (${reason})`);
    await ctx.db.batchItem.updateMany({
      where: { providerBatchId: pb.id, status: "queued" },
      // A momentary failure retries the batch API later; a refusal (no batch API there) runs the lines directly.
      data: retry
        ? { status: "pending", providerBatchId: null, mode: null, notBefore: new Date(Date.now() + ctx.options().pollInitialMs) }
        : { status: "pending", providerBatchId: null, mode: "direct" },
    });
  }
}

/** Moves lines ($2: [{id, plan}]) that are still pending into provider batch $1, each with its plan summary. */
const QUEUE_SQL = `
UPDATE "BatchItem" AS i SET "status" = 'queued', "providerBatchId" = $1, "mode" = 'provider', "plan" = v."plan"
FROM jsonb_to_recordset($2::jsonb) AS v("id" text, "plan" jsonb)
WHERE i."id" = v."id" AND i."status" = 'pending'`;

function missingEmbeddings(target: Target): never {
  throw new AppError(400, "model_not_embeddings", `Provider '${target.provider.name}' does not serve embeddings`, { param: "model" });
}

function errorText(error: unknown): string {
  return scrubSecrets(error instanceof Error ? error.message : String(error)).slice(0, 1000);
}

/** OpenAI caps a metadata value at 512 characters. */
const METADATA_VALUE_MAX = 512;

/**
 * Marks batches some of whose lines left a provider batch for the normal path (standard prices): the batch object's
 * `metadata.switchyard_fallback` says which provider and why, so the fallback is visible to the client, not only in logs.
 */
async function noteFallback(ctx: WorkerContext, batchIds: string[], reason: string): Promise<void> {
  const note = `${reason}; affected lines run on the normal path at standard prices`.slice(0, METADATA_VALUE_MAX);
  const jobs = await ctx.db.batchJob.findMany({ where: { id: { in: [...new Set(batchIds)] } }, select: { id: true, metadata: true } });
  for (const job of jobs) {
    const metadata = job.metadata && typeof job.metadata === "object" && !Array.isArray(job.metadata) ? (job.metadata as Record<string, unknown>) : {};
    await ctx.db.batchJob.update({ where: { id: job.id }, data: { metadata: { ...metadata, switchyard_fallback: note } } });
  }
}

/** The target a provider batch runs on, from the current configuration (null when its provider is gone). */
function targetOf(config: GatewayConfig, pb: { orgId: string; providerId: string; model: string }): Target | null {
  const org = config.orgs.get(pb.orgId);
  const provider = org ? [...org.providers.values()].find((p) => p.id === pb.providerId) : undefined;
  if (!org || !provider) return null;
  return { provider, modelId: pb.model, model: providerModel(org, provider, pb.model) ?? null };
}

/** Polls the provider batches that are due, oldest first. */
export async function pollProviderBatches(ctx: WorkerContext): Promise<void> {
  const due = await ctx.db.providerBatch.findMany({
    where: { status: { in: ["in_progress", "cancelling"] }, nextPollAt: { lte: new Date() } },
    orderBy: { nextPollAt: "asc" },
    take: 20,
  });
  for (const pb of due) {
    if (ctx.signal.aborted) return;
    await pollOne(ctx, pb);
  }
}

type ProviderBatchRow = Awaited<ReturnType<WorkerContext["db"]["providerBatch"]["findMany"]>>[number];

async function pollOne(ctx: WorkerContext, pb: ProviderBatchRow): Promise<void> {
  const target = targetOf(ctx.gw.rt.snapshot.current(), pb);
  if (!target || !pb.upstreamId) return endAndRequeue(ctx, pb, "the provider is no longer configured");
  let result;
  try {
    const lines = await ctx.db.batchItem.findMany({ where: { providerBatchId: pb.id }, orderBy: { id: "asc" }, select: { id: true } });
    result = await APIS[pb.protocol]!.poll(apiContext(ctx, target), pb.upstreamId, lines.map((l) => l.id));
  } catch (error) {
    if (ctx.signal.aborted) return;
    if (error instanceof UpstreamError && !RETRYABLE.has(error.kind)) return endAndRequeue(ctx, pb, errorText(error));
    ctx.log.warn({ providerBatch: pb.id, err: errorText(error) }, "batch: polling a provider batch failed; will retry");
    result = { state: "running" as const };
  }
  if (result.state === "running") {
    const { pollInitialMs, pollFactor, pollMaxMs } = ctx.options();
    const wait = Math.min(pollMaxMs, pollInitialMs * pollFactor ** (pb.polls + 1));
    await ctx.db.providerBatch.update({ where: { id: pb.id }, data: { polls: pb.polls + 1, nextPollAt: new Date(Date.now() + wait) } });
    return;
  }
  if (result.state === "failed") return endAndRequeue(ctx, pb, scrubSecrets(result.message));
  await applyResults(ctx, pb, target, result.results);
}

/** Ends a provider batch that produced nothing; its open lines run on the normal path instead. */
async function endAndRequeue(ctx: WorkerContext, pb: { id: string; providerName: string }, reason: string): Promise<void> {
  ctx.log.warn({ providerBatch: pb.id, provider: pb.providerName, reason }, "batch: provider batch failed; its lines take the normal path at standard prices");
  await ctx.db.providerBatch.update({ where: { id: pb.id }, data: { status: "ended", error: reason.slice(0, 1000) } });
  const open = await ctx.db.batchItem.findMany({ where: { providerBatchId: pb.id, status: "queued" }, select: { batchId: true } });
  await ctx.db.batchItem.updateMany({ where: { providerBatchId: pb.id, status: "queued" }, data: { status: "pending", providerBatchId: null, mode: "direct" } });
  if (open.length > 0) await noteFallback(ctx, open.map((i) => i.batchId), `provider '${pb.providerName}' batch failed (${reason.slice(0, 300)})`);
}

/**
 * Turns one provider answer into the line's result, parsed by the target's adapter as a live answer would be.
 * `line` is the request as it was sent upstream; `plan` the line's plan as it ran (errors name `target` only).
 */
function resultOf(callId: string, line: LineRequest, plan: RowPlan, target: Target, outcome: Extract<LineOutcome, { kind: "response" }>): LineResult {
  const adapter = adapterFor(target);
  const upstream = upstreamTarget(target);
  if (outcome.status < 200 || outcome.status >= 300) {
    const error = adapter.classifyError(outcome.status, outcome.body == null ? "" : JSON.stringify(outcome.body), new Headers());
    return failureResult(callId, error, plan, target, true);
  }
  try {
    if (line.kind === "chat") {
      const response = adapter.parseResponse(outcome.body, upstream);
      return successResult({ callId, body: response, ...chatUsage(line.request, response), target, plan, viaBatchApi: true });
    }
    if (!adapter.embeddings) missingEmbeddings(target);
    const response = adapter.embeddings.parseResponse(outcome.body, upstream, line.request);
    return successResult({ callId, body: response, ...embeddingUsage(line.request, response), target, plan, viaBatchApi: true });
  } catch (error) {
    const cause = error instanceof UpstreamError || error instanceof AppError ? error : new UpstreamError("server_error", `provider '${target.provider.name}' returned a malformed response`, { status: 502 });
    return failureResult(callId, cause, plan, target, true);
  }
}

/** Records every line of an ended provider batch; lines it did not run go back to the normal path. */
async function applyResults(ctx: WorkerContext, pb: ProviderBatchRow, target: Target, results: Map<string, LineOutcome>): Promise<void> {
  const items = await ctx.db.batchItem.findMany({
    where: { providerBatchId: pb.id },
    select: { id: true, batchId: true, callId: true, url: true, body: true, headers: true, status: true, plan: true, batch: { select: { orgId: true, teamId: true, apiKeyId: true } } },
  });
  // Keys matter only to lines submitted before plan summaries were stored: those are planned again.
  const replanned = items.filter((i) => storedSummary(i.plan) === null);
  const keys = replanned.length > 0 ? await loadKeys(ctx.db, replanned.map((i) => i.batch.apiKeyId)) : new Map<string, never>();
  const config = ctx.gw.rt.snapshot.current();
  const routing = routingFor(ctx.gw.rt);
  const unrun: Array<{ id: string; batchId: string }> = [];
  for (const item of items) {
    const outcome = results.get(item.id);
    const state = keys.get(item.batch.apiKeyId);
    let line: LineRequest;
    try {
      line = validateLine(item.url as BatchEndpoint, item.body);
    } catch {
      continue; // validated when it was submitted; a body cannot change since
    }
    const p = { item, owner: item.batch, line };
    if (item.status === "queued" && (!outcome || outcome.kind === "not_run")) {
      unrun.push(item);
      continue;
    }
    if (item.status !== "queued" && !(outcome?.kind === "response" && outcome.status >= 200 && outcome.status < 300)) continue;
    // A line cancelled or expired while the provider ran it keeps that answer (finishLine moves only queued
    // lines), but what it cost is logged.
    const summary = storedSummary(item.plan);
    let sent: LineRequest;
    let plan: RowPlan;
    if (summary) {
      // The baseline's target as configured now (priced now, as `target` is); gone: no routing saving.
      const reference = targetOf(config, { orgId: pb.orgId, providerId: summary.reference.providerId, model: summary.reference.modelId }) ?? target;
      sent = summary.request ? { kind: "chat", request: summary.request } : line;
      plan = storedPlanRow(summary, target, reference);
    } else {
      const planned = await planOrTarget(routing, config, state?.ok ? state.key : null, { request: line, raw: item.body, headers: item.headers }, target);
      sent = planned.line;
      // Only `target` ran the line, so errors name it rather than the whole plan.
      plan = livePlanRow({ ...planned.plan, targets: [target] });
    }
    await finishLine(ctx, p, resultOf(item.callId, sent, plan, target, outcome as Extract<LineOutcome, { kind: "response" }>), "queued", plan);
  }
  if (unrun.length > 0) {
    await ctx.db.batchItem.updateMany({ where: { id: { in: unrun.map((u) => u.id) }, status: "queued" }, data: { status: "pending", providerBatchId: null, mode: "direct" } });
    ctx.log.warn({ providerBatch: pb.id, provider: pb.providerName, lines: unrun.length }, "batch: a provider batch left lines unrun (expired or cancelled); they take the normal path at standard prices");
    await noteFallback(ctx, unrun.map((u) => u.batchId), `provider '${pb.providerName}' batch ended without running ${unrun.length} line(s)`);
  }
  await ctx.db.providerBatch.update({ where: { id: pb.id }, data: { status: "ended" } });
  ctx.log.info({ providerBatch: pb.id, lines: items.length, unrun: unrun.length }, "batch: provider batch ended");
}

/**
 * Cancels provider batches none of whose lines are wanted any more (their batches were cancelled or expired).
 * Best effort: they are still polled afterwards, so whatever did run is logged with its cost.
 */
export async function cancelAbandonedProviderBatches(ctx: WorkerContext, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const live = await ctx.db.batchItem.groupBy({ by: ["providerBatchId"], where: { providerBatchId: { in: ids }, status: "queued" }, _count: true });
  const wanted = new Set(live.map((row) => row.providerBatchId));
  const config = ctx.gw.rt.snapshot.current();
  const batches = await ctx.db.providerBatch.findMany({ where: { id: { in: ids.filter((id) => !wanted.has(id)) }, status: "in_progress" } });
  for (const pb of batches) {
    const target = targetOf(config, pb);
    if (target && pb.upstreamId) {
      await APIS[pb.protocol]!.cancel(apiContext(ctx, target), pb.upstreamId).catch((error) =>
        ctx.log.warn({ providerBatch: pb.id, err: errorText(error) }, "batch: cancelling a provider batch failed"),
      );
    }
    await ctx.db.providerBatch.update({ where: { id: pb.id }, data: { status: "cancelling", nextPollAt: new Date() } });
  }
}
