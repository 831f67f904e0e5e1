"use client";
import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { policyDryRunInput, type PolicyDryRunInput } from "@/lib/contracts/policies";
import { formatTokens } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { errorMessage } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Input, Textarea } from "@/components/ui/input";

type Policy = RouterOutputs["policies"]["get"];

function usd(value: number | null | undefined): string {
  return value === null || value === undefined ? "—" : `≈ $${value.toPrecision(3)}`;
}

/**
 * "Where would this request go?" for the saved policy: the planner's decision (chosen target, candidates with
 * estimated costs, rejections) without calling any provider. A form (not a live preview): the estimate runs the
 * tokenizer over the prompt, so it runs when asked.
 */
export function PolicySimulate({ policy }: { policy: Policy }) {
  const trpc = useTRPC();
  const [prompt, setPrompt] = useState("");
  const [maxTokens, setMaxTokens] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [asked, setAsked] = useState<PolicyDryRunInput | null>(null);
  const result = useQuery({ ...trpc.policies.dryRun.queryOptions(asked ?? { id: policy.id, prompt: "-" }), enabled: asked !== null });

  function submit(event: FormEvent) {
    event.preventDefault();
    const parsed = policyDryRunInput.safeParse({ id: policy.id, prompt, maxTokens: maxTokens.trim() === "" ? undefined : Number(maxTokens) });
    if (!parsed.success) {
      setError(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join("; "));
      return;
    }
    setError(null);
    setAsked(parsed.data);
  }

  const data = result.data;
  return (
    <Card>
      <CardHeader>
        <div>
          <CardTitle>Simulate a request</CardTitle>
          <CardDescription>Where the saved version would send it and what it would cost. Nothing is sent to a provider.</CardDescription>
        </div>
      </CardHeader>
      <CardContent className="space-y-4">
        <form onSubmit={submit} className="space-y-3" noValidate aria-label="Simulate a request">
          <Field label="Prompt to simulate" error={error}>
            <Textarea rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
          </Field>
          <Field label="Max output tokens" hint="Empty: the policy's cap, else the model's limit.">
            <Input type="number" inputMode="numeric" min={1} value={maxTokens} onChange={(e) => setMaxTokens(e.target.value)} />
          </Field>
          <div className="flex justify-end">
            <Button type="submit" variant="secondary" loading={result.isFetching}>
              Simulate
            </Button>
          </div>
        </form>
        {result.isError ? <Alert tone="error">{errorMessage(result.error)}</Alert> : null}
        {data ? (
          <section aria-label="Simulation result" className="space-y-3 text-sm">
            {data.error ? (
              <Alert tone="error" title={`The call would fail: ${data.error.code}`}>
                {data.error.message}
              </Alert>
            ) : (
              <p>
                Goes to <span className="font-semibold text-slate-900">{data.chosen?.target}</span> · {usd(data.estimatedCostUsd)} · {formatTokens(data.promptTokens)} prompt tokens
                {data.difficulty ? ` · difficulty ${JSON.stringify(data.difficulty)}` : ""}
              </p>
            )}
            {data.candidates.length > 0 ? (
              <ol className="space-y-1" aria-label="Simulated candidates">
                {data.candidates.map((c, i) => (
                  <li key={`${c.target}-${i}`} className="flex flex-wrap items-baseline gap-x-2">
                    <span className="font-medium text-slate-900">
                      {i + 1}. {c.target}
                    </span>
                    {i === 0 ? <Badge tone="success">chosen</Badge> : null}
                    <span className="tabular-nums text-slate-600">{usd(c.estimatedCostUsd)}</span>
                    {c.notes.length > 0 ? <span className="text-xs text-slate-500">{c.notes.join("; ")}</span> : null}
                  </li>
                ))}
              </ol>
            ) : null}
            {data.rejected.length > 0 ? (
              <ul className="space-y-1" aria-label="Simulated rejections">
                {data.rejected.map((r) => (
                  <li key={r.target}>
                    <span className="font-medium text-slate-900">{r.target}</span>: <span className="text-slate-600">{r.reasons.join("; ")}</span>
                  </li>
                ))}
              </ul>
            ) : null}
          </section>
        ) : null}
      </CardContent>
    </Card>
  );
}
