"use client";
import { formatTokens, formatUsd } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { JsonView } from "@/components/ui/json-view";
import type { AttemptRecord } from "@/server/routing/execute";
import type { RouteRecord } from "@/server/routing/explain";

export type SendResult = RouterOutputs["playground"]["send"];

/** The logged route and attempts JSON (type-only imports: nothing of the server is bundled). */
type RouteView = RouteRecord;
type AttemptView = AttemptRecord;

const CACHE_TONES: Record<string, "success" | "info" | "neutral" | "warning"> = { hit: "success", "semantic-hit": "success", shadow: "info", miss: "neutral", bypass: "warning" };

/** A tiny, not-yet-rounded USD estimate (floats from the planner) as text. */
function estimate(value: number | null): string {
  return value === null ? "—" : `≈ $${value.toPrecision(3)}`;
}

/** One playground answer: the text, then what the gateway did with it (route, attempts, cost, savings, cache). */
export function PlaygroundResult({ result }: { result: SendResult }) {
  const call = result.call;
  const route = (call?.route ?? null) as unknown as RouteView | null;
  const attempts = (call?.attempts ?? []) as unknown as AttemptView[];
  const cache = result.headers["x-switchyard-cache"] ?? call?.cacheOutcome ?? null;
  const similarity = result.headers["x-switchyard-cache-similarity"];
  const shadow = result.headers["x-switchyard-cache-shadow"];
  const savings = call
    ? (
        [
          ["Routing", call.savings.routing],
          ["Response cache", call.savings.cache],
          ["Prompt cache", call.savings.promptCache],
          ["Batch", call.savings.batch],
          ["Caps", call.savings.caps],
        ] as const
      ).filter(([, v]) => Number(v) !== 0)
    : [];
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
          {route?.policy ? (
            <span className="text-xs text-slate-600">
              policy {route.policy}
              {route.policyVersion ? ` v${route.policyVersion}` : ""}
              {route.strategy ? ` · ${route.strategy}` : ""}
              {route.rule ? ` · rule ${route.rule}` : ""}
            </span>
          ) : null}
        </CardHeader>
        <CardContent className="space-y-4 text-sm">
          <section aria-label="Candidates">
            <h3 className="mb-1 font-semibold text-slate-900">Candidates</h3>
            {route?.candidates && route.candidates.length > 0 ? (
              <ol className="space-y-1">
                {route.candidates.map((c, i) => (
                  <li key={`${c.target}-${i}`} className="flex flex-wrap items-baseline gap-x-3">
                    <span className="font-medium text-slate-900">
                      {i + 1}. {c.target}
                    </span>
                    {c.target === route.target ? <Badge tone="success">answered</Badge> : null}
                    <span className="tabular-nums text-slate-600">{estimate(c.estimatedCostUsd)}</span>
                    {c.notes.length > 0 ? <span className="text-xs text-slate-500">{c.notes.join("; ")}</span> : null}
                  </li>
                ))}
              </ol>
            ) : (
              <p className="text-slate-600">{route?.target === "cache" ? "Answered from the cache: no upstream was chosen." : "A concrete model: no routing decision."}</p>
            )}
          </section>
          {route?.rejected && route.rejected.length > 0 ? (
            <section aria-label="Rejected targets">
              <h3 className="mb-1 font-semibold text-slate-900">Rejected</h3>
              <ul className="space-y-1">
                {route.rejected.map((r) => (
                  <li key={r.target}>
                    <span className="font-medium text-slate-900">{r.target}</span>: <span className="text-slate-600">{r.reasons.join("; ")}</span>
                  </li>
                ))}
              </ul>
            </section>
          ) : null}
          <section aria-label="Attempts">
            <h3 className="mb-1 font-semibold text-slate-900">Attempts</h3>
            {attempts.length > 0 ? (
              <ol className="space-y-1">
                {attempts.map((a, i) => (
                  <li key={i} className="flex flex-wrap gap-x-3">
                    <span className="font-medium text-slate-900">
                      {a.provider}/{a.model}
                    </span>
                    <Badge tone={a.status === 200 ? "success" : "danger"}>{a.status}</Badge>
                    <span className="tabular-nums text-slate-600">{a.latencyMs} ms</span>
                    {a.reason ? <span className="text-xs text-slate-500">{a.reason}</span> : null}
                    {a.error ? <span className="text-xs text-red-700">{a.error}</span> : null}
                  </li>
                ))}
              </ol>
            ) : (
              <p className="text-slate-600">No upstream attempt.</p>
            )}
          </section>
          <details>
            <summary className="cursor-pointer text-xs font-medium text-slate-600">Route JSON as logged</summary>
            <JsonView value={route} label="Route JSON" className="mt-2" />
          </details>
        </CardContent>
      </Card>
    </>
  );
}
