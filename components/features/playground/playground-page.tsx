"use client";
import { useMutation, useQuery } from "@tanstack/react-query";
import { Send } from "lucide-react";
import { useState, type FormEvent } from "react";
import { playgroundSendInput } from "@/lib/contracts/playground";
import { formatDateTime, formatTokens, formatUsd } from "@/lib/format";
import { useCurrentUser } from "@/components/providers/current-user";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { EmptyState } from "@/components/ui/empty-state";
import { errorMessage, fieldErrorsOf } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Checkbox, Input, Select, Textarea } from "@/components/ui/input";
import { parseForm } from "@/components/ui/parse-form";
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";
import { PlaygroundResult, type SendResult } from "./playground-result";

/** The model picker's value for "type a concrete model instead of a policy". */
const OTHER = "__other__";

interface Sent {
  at: Date;
  model: string;
  result: SendResult;
}

export function PlaygroundPage() {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const options = useQuery(trpc.playground.options.queryOptions());
  const [choice, setChoice] = useState("");
  const [customModel, setCustomModel] = useState("");
  const [teamId, setTeamId] = useState("");
  const [system, setSystem] = useState("");
  const [prompt, setPrompt] = useState("");
  const [temperature, setTemperature] = useState("");
  const [maxTokens, setMaxTokens] = useState("");
  const [skipCache, setSkipCache] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [history, setHistory] = useState<Sent[]>([]);
  const send = useMutation(trpc.playground.send.mutationOptions());

  const policies = options.data?.policies ?? [];
  const model = choice === OTHER ? customModel : choice || policies[0]?.name || "";

  function submit(event: FormEvent) {
    event.preventDefault();
    const input = parseForm(playgroundSendInput, {
      model,
      teamId: teamId || undefined,
      system,
      prompt,
      temperature: temperature.trim() === "" ? undefined : Number(temperature),
      maxTokens: maxTokens.trim() === "" ? undefined : Number(maxTokens),
      skipCache,
    }, setErrors);
    if (!input) return;
    send.mutate(input, { onSuccess: (result) => setHistory((h) => [{ at: new Date(), model: input.model, result }, ...h].slice(0, 10)) });
  }

  const serverErrors = send.error ? fieldErrorsOf(send.error) : {};
  const err = (k: string) => errors[k] ?? serverErrors[k];
  const latest = history[0];

  return (
    <div className="mx-auto max-w-7xl space-y-6">
      <PageHeader
        title="Playground"
        description="Send a prompt through a policy or a model, the way an application would: the gateway routes it, applies your team's budgets, rate limits and cache rules, and logs the call (with your playground key) like any other."
      />
      <div className="grid gap-6 lg:grid-cols-[minmax(0,5fr)_minmax(0,7fr)]">
        <Card>
          <CardHeader>
            <CardTitle>Request</CardTitle>
          </CardHeader>
          <CardContent>
            <QueryState query={options} label="Loading policies">
              {(data) => (
                <form onSubmit={submit} className="space-y-4" noValidate aria-label="Playground request">
                  {send.error && Object.keys(serverErrors).length === 0 ? <Alert tone="error">{errorMessage(send.error)}</Alert> : null}
                  <Field label="Policy or model" error={choice === OTHER ? undefined : err("model")} hint="A policy routes the call; a concrete model skips routing.">
                    <Select value={choice || data.policies[0]?.name || OTHER} onChange={(e) => setChoice(e.target.value)}>
                      {data.policies.length > 0 ? (
                        <optgroup label="Policies">
                          {data.policies.map((p) => (
                            <option key={p.id} value={p.name}>
                              {p.name}
                              {p.team ? ` (${p.team.name} only)` : ""}
                            </option>
                          ))}
                        </optgroup>
                      ) : null}
                      <option value={OTHER}>Another model…</option>
                    </Select>
                  </Field>
                  {choice === OTHER || data.policies.length === 0 ? (
                    <Field label="Model" error={err("model")} hint='"provider/model" (e.g. openai/gpt-4o-mini), or a model id one of your providers serves.' required>
                      <Input value={customModel} onChange={(e) => setCustomModel(e.target.value)} placeholder="provider/model" autoComplete="off" />
                    </Field>
                  ) : null}
                  <Field
                    label="Team"
                    error={err("teamId")}
                    hint={user.role === "developer" ? "Calls are billed to your team." : "Whose budgets, limits and cache the call uses."}
                  >
                    <Select value={teamId || data.defaultTeamId || ""} onChange={(e) => setTeamId(e.target.value)} disabled={user.role === "developer"}>
                      {user.role !== "developer" && !data.defaultTeamId ? <option value="">Automatic (the policy&apos;s team, else the first)</option> : null}
                      {data.teams.map((t) => (
                        <option key={t.id} value={t.id}>
                          {t.name}
                        </option>
                      ))}
                    </Select>
                  </Field>
                  <Field label="System prompt" error={err("system")}>
                    <Textarea rows={3} value={system} onChange={(e) => setSystem(e.target.value)} placeholder="Optional" />
                  </Field>
                  <Field label="User prompt" error={err("prompt")} required>
                    <Textarea rows={6} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
                  </Field>
                  <div className="grid grid-cols-2 gap-4">
                    <Field label="Temperature" error={err("temperature")} hint="Empty: the provider's default. 0 makes the answer cacheable by default.">
                      <Input type="number" inputMode="decimal" min={0} max={2} step={0.1} value={temperature} onChange={(e) => setTemperature(e.target.value)} />
                    </Field>
                    <Field label="Max tokens" error={err("maxTokens")} hint="Empty: no cap beyond the policy's.">
                      <Input type="number" inputMode="numeric" min={1} step={1} value={maxTokens} onChange={(e) => setMaxTokens(e.target.value)} />
                    </Field>
                  </div>
                  <Checkbox label="Skip the cache lookup (the fresh answer is still stored)" checked={skipCache} onChange={(e) => setSkipCache(e.target.checked)} />
                  <div className="flex justify-end">
                    <Button type="submit" loading={send.isPending}>
                      <Send aria-hidden /> Send
                    </Button>
                  </div>
                </form>
              )}
            </QueryState>
          </CardContent>
        </Card>
        <div className="space-y-6">
          {latest ? (
            <PlaygroundResult result={latest.result} />
          ) : (
            <Card>
              <EmptyState title="Nothing sent yet">The answer, its route, cost, savings and cache outcome appear here.</EmptyState>
            </Card>
          )}
          {history.length > 1 ? (
            <Card>
              <CardHeader>
                <CardTitle>Earlier sends</CardTitle>
              </CardHeader>
              <ol aria-label="Earlier sends" className="divide-y divide-slate-100 text-sm">
                {history.slice(1).map((h) => (
                  <li key={h.result.requestId} className="flex flex-wrap items-center gap-x-4 gap-y-1 px-5 py-2">
                    <span className="text-slate-500">{formatDateTime(h.at)}</span>
                    <span className="font-medium text-slate-900">{h.model}</span>
                    <span>{h.result.status}</span>
                    <span>{h.result.call?.route ? String((h.result.call.route as { target?: string }).target ?? "—") : "—"}</span>
                    <span>cache: {h.result.headers["x-switchyard-cache"] ?? "—"}</span>
                    <span>{formatUsd(h.result.call?.costUsd)}</span>
                    <span className="text-slate-500">{formatTokens(h.result.call?.outputTokens)} tokens out</span>
                  </li>
                ))}
              </ol>
            </Card>
          ) : null}
        </div>
      </div>
    </div>
  );
}
