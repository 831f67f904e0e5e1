/**
 * Dispatch: pending lines of running batches are validated (the live endpoint's schema), planned one by one by the
 * live planner (routeCall: a cascade sends each line to its own tier) and only then split by target. Lines whose
 * first target has a batch API are grouped per target and submitted when any of them is due — a deferred request
 * waits its grouping window, so requests arriving together share one provider batch. Every other line is admitted
 * and handed to the direct pool.
 */
import type { WorkerContext } from "./context";
import { admitLine, finishLine, type DirectPool, type PreparedLine } from "./execute";
import { validateLine, type LineRequest } from "./input";
import { batchProtocol, failureResult, loadClassifiers, loadKeys, planLine } from "./lines";
import type { BatchEndpoint } from "./objects";
import { submitGroup } from "./provider-batches";
import type { Target } from "../gateway/resolve";
import { routingFor } from "../routing";

/** Lines looked at per pass; the rest wait for the next one. */
const DISPATCH_LIMIT = 5_000;

interface Group {
  protocol: "openai" | "anthropic" | "gemini";
  target: Target;
  url: BatchEndpoint;
  lines: Array<PreparedLine & { due: boolean }>;
}

export async function dispatch(ctx: WorkerContext, pool: DirectPool): Promise<void> {
  const now = Date.now();
  const items = await ctx.db.batchItem.findMany({
    where: { status: "pending", batch: { status: "in_progress" } },
    orderBy: [{ notBefore: "asc" }, { line: "asc" }],
    take: DISPATCH_LIMIT,
    select: { id: true, batchId: true, callId: true, url: true, body: true, headers: true, mode: true, notBefore: true, batch: { select: { orgId: true, teamId: true, apiKeyId: true } } },
  });
  if (items.length === 0) return;
  const keys = await loadKeys(ctx.db, items.map((i) => i.batch.apiKeyId), now);
  const config = ctx.gw.rt.snapshot.current();
  const routing = routingFor(ctx.gw.rt);
  await loadClassifiers(routing, config, items.map((i) => ({ orgId: i.batch.orgId, model: (i.body as { model?: unknown } | null)?.model })));
  const groups = new Map<string, Group>();
  const direct: PreparedLine[] = [];

  for (const item of items) {
    const owner = item.batch;
    const state = keys.get(owner.apiKeyId)!;
    let line: LineRequest | null = null;
    try {
      if (!state.ok) throw state.error;
      line = validateLine(item.url as BatchEndpoint, item.body);
      const planned = await planLine(routing, config, state.key, line, item.body, item.headers);
      const target = planned.plan.targets[0]!;
      const capable = batchProtocol(target, line.kind);
      // A line that a provider batch could not run (mode "direct") never goes back to one.
      const protocol = item.mode === "direct" ? null : capable;
      const prepared: PreparedLine & { due: boolean } = {
        item,
        owner,
        key: state.key,
        ...planned,
        due: item.notBefore.getTime() <= now,
        ...(item.mode === "direct" && capable ? { fellBack: true } : {}),
      };
      if (protocol) {
        const groupKey = `${target.provider.id}\n${target.modelId}\n${item.url}`;
        let group = groups.get(groupKey);
        if (!group) groups.set(groupKey, (group = { protocol, target, url: item.url as BatchEndpoint, lines: [] }));
        group.lines.push(prepared);
      } else if (prepared.due) {
        direct.push(prepared);
      }
    } catch (error) {
      await finishLine(ctx, { item, owner, line }, failureResult(item.callId, error, null, null, false), "pending", null);
    }
  }

  const { maxProviderBatchLines } = ctx.options();
  for (const group of groups.values()) {
    if (ctx.signal.aborted) return;
    if (!group.lines.some((l) => l.due)) continue;
    for (let i = 0; i < group.lines.length; i += maxProviderBatchLines) {
      await submitGroup(ctx, group.protocol, group.target, group.url, group.lines.slice(i, i + maxProviderBatchLines));
    }
  }
  for (const p of direct) {
    if (ctx.signal.aborted) return;
    if (!(await admitLine(ctx, p))) continue;
    const moved = await ctx.db.batchItem.updateMany({ where: { id: p.item.id, status: "pending" }, data: { status: "running", mode: "direct" } });
    if (moved.count === 1) pool.push(p);
  }
}
