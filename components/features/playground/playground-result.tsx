"use client";
import { formatTokens, formatUsd } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { LEVERS } from "@/components/features/analytics/levers";
import { policyLine, RouteDetails } from "@/components/features/requests/route-details";
import type { AttemptRecord } from "@/server/routing/execute";
import type { RouteRecord } from "@/server/routing/explain";

export type SendResult = RouterOutputs["playground"]["send"];

/** The logged route and attempts JSON (type-only imports: nothing of the server is bundled). */
type RouteView = RouteRecord;
type AttemptView = AttemptRecord;

const CACHE_TONES: Record<string, "success" | "info" | "neutral" | "warning"> = { hit: "success", "semantic-hit": "success", shadow: "info", miss: "neutral", bypass: "warning" };

/** One playground answer: the text, then what the gateway did with it (route, attempts, cost, savings, cache). */
export function PlaygroundResult({ result }: { result: SendResult }) {
  const call = result.call;
  const route = (call?.route ?? null) as unknown as RouteView | null;
  const attempts = (call?.attempts ?? []) as unknown as AttemptView[];
  const cache = result.headers["x-switchyard-cache"] ?? call?.cacheOutcome ?? null;
  const similarity = result.headers["x-switchyard-cache-similarity"];
  const shadow = result.headers["x-switchyard-cache-shadow"];
  const savings = call ? LEVERS.filter(([key]) => Number(call.savings[key]) !== 0).map(([key, label]) => [label, call.savings[key]] as const) : [];
  const totalSaved = call ? (Number(call.baselineCostUsd) - Number(call.costUsd)) : null;

  return (
    <>
      <Card>
        <CardHeader>
          <CardTitle>Answer</CardTitle>
          <div className="flex items-center gap-2">
            <Badge tone={result.status === 200 ? "success" : "danger"}>HTTP {result.status}</Badge>
            {result.answer?.finishReason ? <Badge>{result.answer.finishReason}</Badge> : null}
          </div>
        </CardHeader>
        <CardContent>
          <section aria-label="Answer">
            {result.answer ? (
              <p className="whitespace-pre-wrap text-sm leading-relaxed text-slate-900">{result.answer.content || <em className="text-slate-500">(empty answer)</em>}</p>
            ) : (
              <Alert tone="error" title={result.error?.code ?? "The call failed"}>
                {result.error?.message}
              </Alert>
            )}
          </section>
          <p className="mt-3 text-xs text-slate-500">
            Team {result.team.name} · request {result.requestId}
            {result.usage ? ` · ${formatTokens(result.usage.prompt_tokens ?? 0)} tokens in, ${formatTokens(result.usage.completion_tokens ?? 0)} out` : ""}
          </p>
        </CardContent>
      </Card>

      <Card>
        <CardHeader>
          <CardTitle>Outcome</CardTitle>
        </CardHeader>
        <CardContent>
          <dl aria-label="Outcome" className="grid grid-cols-2 gap-x-6 gap-y-3 text-sm sm:grid-cols-3">
            <div>
              <dt className="text-xs text-slate-500">Served by</dt>
              <dd className="font-medium text-slate-900">{result.headers["x-switchyard-target"] ?? route?.target ?? "—"}</dd>
            </div>
            <div>
              <dt className="text-xs text-slate-500">Upstream attempts</dt>
              <dd className="font-medium text-slate-900">{result.headers["x-switchyard-attempts"] ?? attempts.length}</dd>
            </div>
            <div>
              <dt className="text-xs text-slate-500">Cache</dt>
              <dd className="flex flex-wrap items-center gap-1.5 font-medium text-slate-900">
                {cache ? <Badge tone={CACHE_TONES[cache] ?? "neutral"} aria-label={`Cache outcome: ${cache}`}>{cache}</Badge> : "not cacheable"}
                {similarity ? <span className="text-xs text-slate-600">similarity {similarity}</span> : null}
                {shadow ? <span className="text-xs text-slate-600">(shadow: would have been a {shadow})</span> : null}
              </dd>
            </div>
            <div>
              <dt className="text-xs text-slate-500">Cost</dt>
              <dd className="font-medium tabular-nums text-slate-900">{formatUsd(call?.costUsd ?? result.headers["x-switchyard-cost-usd"])}</dd>
            </div>
            <div>
              <dt className="text-xs text-slate-500">Baseline</dt>
              <dd className="font-medium tabular-nums text-slate-900">{formatUsd(call?.baselineCostUsd)}</dd>
            </div>
            <div>
              <dt className="text-xs text-slate-500">Saved</dt>
              <dd className="font-medium tabular-nums text-slate-900">
                {totalSaved === null ? "—" : formatUsd(totalSaved.toFixed(10).replace(/\.?0+$/, ""))}
                {savings.length > 0 ? <span className="block text-xs font-normal text-slate-600">{savings.map(([label, v]) => `${label} ${formatUsd(v)}`).join(" · ")}</span> : null}
              </dd>
            </div>
            <div>
              <dt className="text-xs text-slate-500">Latency</dt>
              <dd className="font-medium tabular-nums text-slate-900">{call?.latencyMs === null || call?.latencyMs === undefined ? "—" : `${call.latencyMs} ms`}</dd>
            </div>
            <div>
              <dt className="text-xs text-slate-500">Tokens in / out</dt>
              <dd className="font-medium tabular-nums text-slate-900">
                {call ? `${formatTokens(call.inputTokens)} / ${formatTokens(call.outputTokens)}${call.estimated ? " (estimated)" : ""}` : "—"}
              </dd>
            </div>
            <div>
              <dt className="text-xs text-slate-500">Rate limit left</dt>
              <dd className="font-medium tabular-nums text-slate-900">{result.headers["x-ratelimit-remaining-requests"] ?? "—"}</dd>
            </div>
          </dl>
          {call === null ? <p className="mt-3 text-xs text-slate-500">The call log has not written this call yet; it appears in Requests shortly.</p> : null}
        </CardContent>
      </Card>

      <Card>
        <CardHeader>
          <CardTitle>Route</CardTitle>
          {policyLine(route) ? <span className="text-xs text-slate-600">{policyLine(route)}</span> : null}
        </CardHeader>
        <CardContent>
          <RouteDetails route={route} attempts={attempts} />
        </CardContent>
      </Card>
    </>
  );
}
