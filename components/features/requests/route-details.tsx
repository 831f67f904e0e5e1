"use client";
import { formatTokens } from "@/lib/format";
import { Badge } from "@/components/ui/badge";
import { JsonView } from "@/components/ui/json-view";
import type { AttemptRecord } from "@/server/routing/execute";
import type { RouteRecord } from "@/server/routing/explain";

/** A tiny, not-yet-rounded USD estimate (floats from the planner) as text. */
function estimate(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `≈ $${value.toPrecision(3)}`;
}

/** "policy support-bot v3 · cascade · rule enterprise", or null for a call without a policy. */
export function policyLine(route: RouteRecord | null): string | null {
  if (!route?.policy) return null;
  return [`policy ${route.policy}${route.policyVersion ? ` v${route.policyVersion}` : ""}`, route.strategy, route.rule ? `rule ${route.rule}` : null].filter(Boolean).join(" · ");
}

/**
 * A call's route decision and attempts as logged (`Call.route`, `Call.attempts`), readable: the candidates in the
 * order they were tried with the planner's notes, the rejected targets with their reasons, the cascade's difficulty
 * verdict, compression and output cap, then every upstream attempt. The JSON as logged stays one click away.
 * Used by the call detail (Requests) and the Playground.
 */
export function RouteDetails({ route, attempts }: { route: RouteRecord | null; attempts: AttemptRecord[] }) {
  const difficulty = route?.difficulty;
  const compression = route?.compression;
  const cap = route?.cap;
  return (
    <div className="space-y-4 text-sm">
      {difficulty || compression?.tokensSaved || cap ? (
        <dl aria-label="Decision" className="grid grid-cols-1 gap-x-6 gap-y-1 sm:grid-cols-3">
          {difficulty ? (
            <div>
              <dt className="text-xs text-slate-500">Difficulty ({difficulty.classifier})</dt>
              <dd className="text-slate-900">
                score {difficulty.score.toFixed(2)} → tier {difficulty.startTier}
                {difficulty.detail ? <span className="block text-xs text-slate-500">{difficulty.detail}</span> : null}
              </dd>
            </div>
          ) : null}
          {compression?.tokensSaved ? (
            <div>
              <dt className="text-xs text-slate-500">Compression{compression.lossy ? " (lossy)" : ""}</dt>
              <dd className="text-slate-900">
                −{formatTokens(compression.tokensSaved)} tokens ({compression.steps.join(", ")})
              </dd>
            </div>
          ) : null}
          {cap ? (
            <div>
              <dt className="text-xs text-slate-500">Output cap</dt>
              <dd className="text-slate-900">
                {formatTokens(cap.cap)} tokens ({cap.from === "task" && cap.task ? `task ${cap.task}` : "policy"}), {cap.outcome}
              </dd>
            </div>
          ) : null}
        </dl>
      ) : null}
      <section aria-label="Candidates">
        <h3 className="mb-1 font-semibold text-slate-900">Candidates</h3>
        {route?.candidates && route.candidates.length > 0 ? (
          <ol className="space-y-1">
            {route.candidates.map((c, i) => (
              <li key={`${c.target}-${i}`} className="flex flex-wrap items-baseline gap-x-3">
                <span className="font-medium text-slate-900">
                  {i + 1}. {c.target}
                </span>
                {c.tier !== undefined ? <span className="text-xs text-slate-500">tier {c.tier}</span> : null}
                {c.target === route.target ? <Badge tone="success">answered</Badge> : null}
                {c.estimatedCostUsd !== null ? <span className="tabular-nums text-slate-600">{estimate(c.estimatedCostUsd)}</span> : null}
                {c.notes.length > 0 ? <span className="text-xs text-slate-500">{c.notes.join("; ")}</span> : null}
                {c.demoted && c.demoted.length > 0 ? <span className="text-xs text-amber-700">demoted: {c.demoted.join("; ")}</span> : null}
              </li>
            ))}
          </ol>
        ) : (
          <p className="text-slate-600">
            {route?.target === "cache" ? "Answered from the cache: no upstream was chosen." : route ? "A concrete model: no routing decision." : "No route was recorded."}
          </p>
        )}
        {route?.maxCostUsd != null ? (
          <p className="mt-1 text-xs text-slate-500">
            Max cost per query ${route.maxCostUsd} (estimated {estimate(route.estimatedCostUsd)}){route.overBudget ? " — the actual cost came out above it" : ""}
          </p>
        ) : null}
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
      {route?.skipped && route.skipped.length > 0 ? (
        <section aria-label="Skipped targets">
          <h3 className="mb-1 font-semibold text-slate-900">Skipped while running</h3>
          <ul className="space-y-1">
            {route.skipped.map((s, i) => (
              <li key={`${s.target}-${i}`}>
                <span className="font-medium text-slate-900">{s.target}</span>: <span className="text-slate-600">{s.reason}</span>
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
                <Badge tone={a.status === 200 ? "success" : "danger"}>{a.status === 0 ? "no response" : a.status}</Badge>
                <span className="tabular-nums text-slate-600">{a.latencyMs} ms</span>
                {a.reason ? <span className="text-xs text-slate-500">{a.reason}</span> : null}
                {a.waitedMs ? <span className="text-xs text-slate-500">after {a.waitedMs} ms backoff</span> : null}
                {a.error ? <span className="text-xs text-red-700">{a.error}</span> : null}
              </li>
            ))}
          </ol>
        ) : (
          <p className="text-slate-600">No upstream attempt.</p>
        )}
      </section>
      <details>
        <summary className="cursor-pointer text-xs font-medium text-slate-600">Route and attempts JSON as logged</summary>
        <JsonView value={{ route, attempts }} label="Route JSON" className="mt-2" />
      </details>
    </div>
  );
}
