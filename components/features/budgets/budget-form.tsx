"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { BUDGET_PERIODS, BUDGET_SCOPES, budgetCreateInput } from "@/lib/contracts/budgets";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogFooter } from "@/components/ui/dialog";
import { errorMessage, fieldErrorsOf } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Checkbox, Input, Select } from "@/components/ui/input";
import { parseForm } from "@/components/ui/parse-form";
import { TeamSelect } from "@/components/features/teams/team-select";

type Budget = RouterOutputs["budgets"]["list"][number];

export const SCOPE_LABELS: Record<(typeof BUDGET_SCOPES)[number], string> = { organization: "Organization", team: "Team", api_key: "API key", end_user: "End user" };

/** Create or edit a budget; validated in the browser with the server's schema. */
export function BudgetForm({ budget, onDone }: { budget?: Budget; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const keys = useQuery(trpc.apiKeys.list.queryOptions({}));
  const [scope, setScope] = useState<(typeof BUDGET_SCOPES)[number]>(budget?.scope ?? "team");
  const [teamId, setTeamId] = useState(budget?.teamId ?? "");
  const [apiKeyId, setApiKeyId] = useState(budget?.apiKeyId ?? "");
  const [endUser, setEndUser] = useState(budget?.endUser ?? "");
  const [period, setPeriod] = useState<(typeof BUDGET_PERIODS)[number]>(budget?.period ?? "monthly");
  const [limitUsd, setLimitUsd] = useState(budget?.limitUsd ?? "");
  const [hard, setHard] = useState(budget?.hard ?? true);
  const [thresholds, setThresholds] = useState((budget?.alertThresholds ?? [50, 80, 100]).join(", "));
  const [timezone, setTimezone] = useState(budget?.timezone ?? "UTC");
  const [webhookUrl, setWebhookUrl] = useState(budget?.webhookUrl ?? "");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const onSuccess = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.budgets.list.queryKey() });
    onDone();
  };
  const create = useMutation(trpc.budgets.create.mutationOptions({ onSuccess }));
  const update = useMutation(trpc.budgets.update.mutationOptions({ onSuccess }));
  const pending = create.isPending || update.isPending;
  const error = create.error ?? update.error;

  function submit(event: FormEvent) {
    event.preventDefault();
    const input = parseForm(budgetCreateInput, {
      scope,
      teamId: teamId || null,
      apiKeyId: apiKeyId || null,
      endUser,
      period,
      limitUsd,
      hard,
      alertThresholds: thresholds.split(",").map((t) => t.trim()).filter(Boolean).map(Number),
      timezone,
      webhookUrl,
    }, setErrors);
    if (!input) return;
    if (budget) update.mutate({ id: budget.id, ...input });
    else create.mutate(input);
  }

  const serverErrors = error ? fieldErrorsOf(error) : {};
  const err = (k: string) => errors[k] ?? serverErrors[k];
  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      {error && Object.keys(serverErrors).length === 0 ? <Alert tone="error">{errorMessage(error)}</Alert> : null}
      <div className="grid grid-cols-2 gap-4">
        <Field label="Applies to" error={err("scope")}>
          <Select value={scope} onChange={(e) => setScope(e.target.value as typeof scope)}>
            {BUDGET_SCOPES.map((s) => (
              <option key={s} value={s}>
                {SCOPE_LABELS[s]}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Period" error={err("period")}>
          <Select value={period} onChange={(e) => setPeriod(e.target.value as typeof period)}>
            {BUDGET_PERIODS.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </Select>
        </Field>
        {scope === "team" || scope === "end_user" ? (
          <Field label="Team" error={err("teamId")} required={scope === "team"}>
            <TeamSelect value={teamId} onChange={(e) => setTeamId(e.target.value)} emptyLabel={scope === "team" ? "Choose a team" : "Any team"} />
          </Field>
        ) : null}
        {scope === "api_key" || scope === "end_user" ? (
          <Field label="API key" error={err("apiKeyId")} required={scope === "api_key"}>
            <Select value={apiKeyId} onChange={(e) => setApiKeyId(e.target.value)}>
              <option value="">{scope === "api_key" ? "Choose a key" : "Any key"}</option>
              {(keys.data ?? []).map((k) => (
                <option key={k.id} value={k.id}>
                  {k.name} ({k.prefix}…)
                </option>
              ))}
            </Select>
          </Field>
        ) : null}
        {scope === "end_user" ? (
          <Field label="End user" hint="Empty: each end user gets this budget on their own" error={err("endUser")}>
            <Input value={endUser} onChange={(e) => setEndUser(e.target.value)} />
          </Field>
        ) : null}
        <Field label="Limit (USD)" error={err("limitUsd")} required>
          <Input inputMode="decimal" value={limitUsd} onChange={(e) => setLimitUsd(e.target.value)} placeholder="100" />
        </Field>
        <Field label="Alert at (% of limit)" error={err("alertThresholds")}>
          <Input value={thresholds} onChange={(e) => setThresholds(e.target.value)} placeholder="50, 80, 100" />
        </Field>
        <Field label="Time zone" hint="Where the period starts, e.g. Europe/Paris" error={err("timezone")}>
          <Input value={timezone} onChange={(e) => setTimezone(e.target.value)} />
        </Field>
        <Field label="Alert webhook URL" error={err("webhookUrl")}>
          <Input type="url" value={webhookUrl} onChange={(e) => setWebhookUrl(e.target.value)} placeholder="https://…" />
        </Field>
      </div>
      <Checkbox label="Block calls when the budget is exhausted (otherwise alert only)" checked={hard} onChange={(e) => setHard(e.target.checked)} />
      <DialogFooter>
        <Button type="submit" loading={pending}>
          {budget ? "Save budget" : "Create budget"}
        </Button>
      </DialogFooter>
    </form>
  );
}
