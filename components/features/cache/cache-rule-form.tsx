"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { CACHE_ENDPOINTS, cacheRuleCreateInput } from "@/lib/contracts/cache-rules";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogFooter } from "@/components/ui/dialog";
import { errorMessage } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Checkbox, Input, Select } from "@/components/ui/input";
import { parseForm } from "@/components/ui/parse-form";
import { TeamSelect } from "@/components/features/teams/team-select";

type Rule = RouterOutputs["cacheRules"]["list"][number];

/** Create or edit a cache rule; validated in the browser with the server's schema. */
export function CacheRuleForm({ rule, onDone }: { rule?: Rule; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const policies = useQuery(trpc.policies.list.queryOptions());
  const [name, setName] = useState(rule?.name ?? "");
  const [teamId, setTeamId] = useState(rule?.teamId ?? "");
  const [policyId, setPolicyId] = useState(rule?.policyId ?? "");
  const [exact, setExact] = useState(rule?.exact ?? true);
  const [semantic, setSemantic] = useState(rule?.semantic ?? false);
  const [ttl, setTtl] = useState(String(rule?.ttlSeconds ?? 3600));
  const [threshold, setThreshold] = useState(String(rule?.threshold ?? 0.92));
  const [endpoints, setEndpoints] = useState<string[]>(rule?.endpoints ?? ["chat.completions"]);
  const [scope, setScope] = useState(rule?.scope ?? "team");
  const [anyTemperature, setAnyTemperature] = useState(rule?.allowNonZeroTemperature ?? false);
  const [shadow, setShadow] = useState(rule?.shadow ?? false);
  const [embedder, setEmbedder] = useState(rule?.embedder ?? "local");
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const onSuccess = async () => {
    await queryClient.invalidateQueries({ queryKey: trpc.cacheRules.list.queryKey() });
    onDone();
  };
  const create = useMutation(trpc.cacheRules.create.mutationOptions({ onSuccess }));
  const update = useMutation(trpc.cacheRules.update.mutationOptions({ onSuccess }));
  const error = create.error ?? update.error;

  function submit(event: FormEvent) {
    event.preventDefault();
    const input = parseForm(cacheRuleCreateInput, {
      name, teamId: teamId || null, policyId: policyId || null, exact, semantic, ttlSeconds: Number(ttl), threshold: Number(threshold),
      endpoints, scope, allowNonZeroTemperature: anyTemperature, shadow, embedder, enabled,
    }, setErrors);
    if (!input) return;
    if (rule) update.mutate({ id: rule.id, ...input });
    else create.mutate(input);
  }

  return (
    <form onSubmit={submit} className="space-y-4" noValidate>
      {error ? <Alert tone="error">{errorMessage(error)}</Alert> : null}
      <div className="grid grid-cols-2 gap-4">
        <Field label="Name" error={errors.name} required>
          <Input value={name} onChange={(e) => setName(e.target.value)} />
        </Field>
        <Field label="Time to live (seconds)" error={errors.ttlSeconds}>
          <Input inputMode="numeric" value={ttl} onChange={(e) => setTtl(e.target.value)} />
        </Field>
        <Field label="Team" hint="Empty: every team" error={errors.teamId}>
          <TeamSelect value={teamId} onChange={(e) => setTeamId(e.target.value)} emptyLabel="Every team" />
        </Field>
        <Field label="Policy" hint="Empty: every policy" error={errors.policyId}>
          <Select value={policyId} onChange={(e) => setPolicyId(e.target.value)}>
            <option value="">Every policy</option>
            {(policies.data ?? []).map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Shared by" error={errors.scope}>
          <Select value={scope} onChange={(e) => setScope(e.target.value)}>
            <option value="team">The whole team</option>
            <option value="key">Each API key alone</option>
          </Select>
        </Field>
        <Field label="Semantic threshold" hint="Cosine similarity, 0.5–1" error={errors.threshold}>
          <Input inputMode="decimal" value={threshold} onChange={(e) => setThreshold(e.target.value)} disabled={!semantic} />
        </Field>
        <Field label="Embedder" hint='"local" or "<provider>/<model>"' error={errors.embedder}>
          <Input value={embedder} onChange={(e) => setEmbedder(e.target.value)} disabled={!semantic} />
        </Field>
      </div>
      <fieldset className="space-y-1">
        <legend className="text-sm font-medium text-slate-800">Endpoints</legend>
        <div className="flex flex-wrap gap-4">
          {CACHE_ENDPOINTS.map((e) => (
            <Checkbox key={e} label={e} checked={endpoints.includes(e)} onChange={(ev) => setEndpoints(ev.target.checked ? [...endpoints, e] : endpoints.filter((x) => x !== e))} />
          ))}
        </div>
        {errors.endpoints ? <p className="text-xs font-medium text-red-700">{errors.endpoints}</p> : null}
      </fieldset>
      <div className="grid grid-cols-2 gap-2">
        <Checkbox label="Exact matches" checked={exact} onChange={(e) => setExact(e.target.checked)} />
        <Checkbox label="Semantic matches" checked={semantic} onChange={(e) => setSemantic(e.target.checked)} />
        <Checkbox label="Also cache sampled requests (temperature > 0)" checked={anyTemperature} onChange={(e) => setAnyTemperature(e.target.checked)} />
        <Checkbox label="Shadow mode (report, never serve)" checked={shadow} onChange={(e) => setShadow(e.target.checked)} />
        <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
      </div>
      <DialogFooter>
        <Button type="submit" loading={create.isPending || update.isPending}>
          {rule ? "Save rule" : "Create rule"}
        </Button>
      </DialogFooter>
    </form>
  );
}
