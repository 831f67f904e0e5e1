"use client";
import { useQuery } from "@tanstack/react-query";
import { formatDateTime, formatTokens, formatUsd } from "@/lib/format";
import { LEVERS } from "@/components/features/analytics/levers";
import { useTRPC } from "@/components/providers/trpc";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { JsonView } from "@/components/ui/json-view";
import { QueryState } from "@/components/ui/query-state";
import type { AttemptRecord } from "@/server/routing/execute";
import type { RouteRecord } from "@/server/routing/explain";
import { policyLine, RouteDetails } from "./route-details";

/** "routing $0.0012 · response cache $0.0030", or "none". */
function savingsText(savings: Record<(typeof LEVERS)[number][0], string>): string {
  return LEVERS.filter(([k]) => Number(savings[k]) !== 0).map(([k, label]) => `${label.toLowerCase()} ${formatUsd(savings[k])}`).join(" · ") || "none";
}

/** "1,200 new · 3,000 cached · 0 cache write · 40 reasoning" — input tokens split by how they were billed, and reasoning output. */
function tokenDetail(call: { inputTokens: number; cachedInputTokens: number; cacheWriteTokens: number; reasoningTokens: number }): string {
  const fresh = Math.max(0, call.inputTokens - call.cachedInputTokens - call.cacheWriteTokens);
  const parts = [`${formatTokens(fresh)} new`, `${formatTokens(call.cachedInputTokens)} cached`, `${formatTokens(call.cacheWriteTokens)} cache write`];
  if (call.reasoningTokens > 0) parts.push(`${formatTokens(call.reasoningTokens)} reasoning out`);
  return parts.join(" · ");
}

/** The detail of one call: what was asked, where it went (route decision), each attempt, and what it cost. */
export function CallDetail({ id, onClose }: { id: string | null; onClose: () => void }) {
  const trpc = useTRPC();
  const detail = useQuery({ ...trpc.calls.get.queryOptions({ id: id ?? "" }), enabled: id !== null });
  return (
    <Dialog open={id !== null} onOpenChange={(open) => (open ? undefined : onClose())}>
      <DialogContent title="Call detail" description={id ?? undefined} className="max-w-3xl">
        <QueryState query={detail} label="Loading call">
          {(call) => {
            // The logged JSON (type-only imports: nothing of the server is bundled).
            const route = (call.route ?? null) as unknown as RouteRecord | null;
            return (
              <div className="space-y-4 text-sm">
                <dl className="grid grid-cols-2 gap-x-6 gap-y-1 sm:grid-cols-3">
                  {(
                    [
                      ["Time", formatDateTime(call.createdAt)],
                      ["Request id", call.requestId],
                      ["Endpoint", `${call.surface} ${call.endpoint}${call.streamed ? " (stream)" : ""}${call.batch ? " (batch)" : ""}`],
                      ["Requested", call.requestedModel ?? "—"],
                      ["Served by", call.model ? `${call.providerKind}/${call.model}` : "—"],
                      ["Status", `${call.status}${call.errorClass ? ` (${call.errorClass})` : ""}${call.partial ? " · partial answer" : ""}`],
                      ["Tokens in / out", `${formatTokens(call.inputTokens)} / ${formatTokens(call.outputTokens)}${call.estimated ? " (estimated)" : ""}`],
                      ["Input tokens by type", tokenDetail(call)],
                      ["Cost", formatUsd(call.costUsd)],
                      ["Baseline", formatUsd(call.baselineCostUsd)],
                      ["Savings by lever", savingsText(call.savings)],
                      ["Latency", call.latencyMs === null ? "—" : `${call.latencyMs} ms`],
                      ["Cache", call.cacheOutcome ?? "not cacheable"],
                      ["Key", call.keyPrefix ? `${call.keyName} (${call.keyPrefix}…)` : "—"],
                    ] as const
                  ).map(([label, value]) => (
                    <div key={label}>
                      <dt className="text-xs text-slate-500">{label}</dt>
                      <dd className="font-medium text-slate-900">{value}</dd>
                    </div>
                  ))}
                </dl>
                <section aria-label="Route decision" className="border-t border-slate-200 pt-3">
                  <h3 className="font-semibold text-slate-900">Route decision</h3>
                  {policyLine(route) ? <p className="mb-2 text-xs text-slate-600">{policyLine(route)}</p> : null}
                  <RouteDetails route={route} attempts={(call.attempts ?? []) as unknown as AttemptRecord[]} />
                </section>
                {call.bodies ? (
                  <section aria-label="Bodies">
                    <h3 className="mb-1 font-semibold text-slate-900">Request body</h3>
                    <JsonView value={call.bodies.request ?? null} label="Request body JSON" />
                    <h3 className="mb-1 mt-3 font-semibold text-slate-900">Response body</h3>
                    <JsonView value={call.bodies.response ?? null} label="Response body JSON" />
                    <p className="mt-1 text-xs text-slate-500">Stored because the policy logs bodies; key-shaped strings are redacted and each body is capped at 64 KiB.</p>
                  </section>
                ) : null}
              </div>
            );
          }}
        </QueryState>
      </DialogContent>
    </Dialog>
  );
}
