"use client";
import { useQuery } from "@tanstack/react-query";
import { formatDateTime, formatTokens, formatUsd } from "@/lib/format";
import { useTRPC } from "@/components/providers/trpc";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { JsonView } from "@/components/ui/json-view";
import { QueryState } from "@/components/ui/query-state";

const LEVERS = [
  ["routing", "routing"],
  ["cache", "response cache"],
  ["promptCache", "prompt cache"],
  ["batch", "batch"],
  ["caps", "caps"],
] as const;

/** "routing $0.0012 · response cache $0.0030", or "none". */
function savingsText(savings: Record<(typeof LEVERS)[number][0], string>): string {
  return LEVERS.filter(([k]) => Number(savings[k]) !== 0).map(([k, label]) => `${label} ${formatUsd(savings[k])}`).join(" · ") || "none";
}

/** The detail of one call: what was asked, where it went (route decision), each attempt, and what it cost. */
export function CallDetail({ id, onClose }: { id: string | null; onClose: () => void }) {
  const trpc = useTRPC();
  const detail = useQuery({ ...trpc.calls.get.queryOptions({ id: id ?? "" }), enabled: id !== null });
  return (
    <Dialog open={id !== null} onOpenChange={(open) => (open ? undefined : onClose())}>
      <DialogContent title="Call detail" description={id ?? undefined} className="max-w-3xl">
        <QueryState query={detail} label="Loading call">
          {(call) => (
            <div className="space-y-4 text-sm">
              <dl className="grid grid-cols-2 gap-x-6 gap-y-1 sm:grid-cols-3">
                {(
                  [
                    ["Time", formatDateTime(call.createdAt)],
                    ["Request id", call.requestId],
                    ["Endpoint", `${call.surface} ${call.endpoint}`],
                    ["Requested", call.requestedModel ?? "—"],
                    ["Served by", call.model ? `${call.providerKind}/${call.model}` : "—"],
                    ["Status", `${call.status}${call.errorClass ? ` (${call.errorClass})` : ""}`],
                    ["Tokens in / out", `${formatTokens(call.inputTokens)} / ${formatTokens(call.outputTokens)}`],
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
              <section aria-label="Route decision">
                <h3 className="mb-1 font-semibold text-slate-900">Route decision</h3>
                <JsonView value={call.route ?? null} label="Route decision JSON" />
              </section>
              <section aria-label="Attempts">
                <h3 className="mb-1 font-semibold text-slate-900">Attempts</h3>
                <JsonView value={call.attempts ?? []} label="Attempts JSON" />
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
          )}
        </QueryState>
      </DialogContent>
    </Dialog>
  );
}
