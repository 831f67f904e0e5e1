"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { apiKeyCreateInput } from "@/lib/contracts/api-keys";
import { useCurrentUser } from "@/components/providers/current-user";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { CopyButton } from "@/components/ui/copy-button";
import { DialogFooter } from "@/components/ui/dialog";
import { errorMessage } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Checkbox, Input } from "@/components/ui/input";
import { parseForm } from "@/components/ui/parse-form";
import { TeamSelect } from "@/components/features/teams/team-select";

/** The key, once: copy it now. Nothing else keeps it (the server stores a hash). */
function KeyOnce({ keyValue, name, onDone }: { keyValue: string; name: string; onDone: () => void }) {
  const origin = typeof window === "undefined" ? "" : window.location.origin;
  const snippet = `import OpenAI from "openai";\n\nconst client = new OpenAI({\n  baseURL: "${origin}/api/v1",\n  apiKey: process.env.SWITCHYARD_API_KEY,\n});`;
  return (
    <div className="space-y-4">
      <Alert tone="warning" title="Copy this key now">
        This is the only time it is shown. Switchyard keeps a hash of it, so it cannot show it again; if it is lost, revoke it and create another.
      </Alert>
      <Field label={`API key "${name}"`}>
        <Input readOnly value={keyValue} className="font-mono" onFocus={(e) => e.currentTarget.select()} data-testid="new-api-key" />
      </Field>
      <div className="flex gap-2">
        <CopyButton value={keyValue} label="Copy key" />
      </div>
      <div>
        <p className="mb-1 text-sm font-medium text-slate-800">Use it with the OpenAI SDK</p>
        <pre className="overflow-x-auto rounded-md border border-slate-200 bg-slate-50 p-3 font-mono text-xs">{snippet}</pre>
      </div>
      <DialogFooter>
        <Button onClick={onDone}>
          I have copied the key
        </Button>
      </DialogFooter>
    </div>
  );
}

export function CreateKeyForm({ onDone }: { onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const teams = useQuery(trpc.teams.list.queryOptions());
  const [name, setName] = useState("");
  const [teamId, setTeamId] = useState(user.teamId ?? "");
  const [models, setModels] = useState("");
  const [expires, setExpires] = useState("");
  const [rpm, setRpm] = useState("");
  const [tpm, setTpm] = useState("");
  const [allowStore, setAllowStore] = useState(false);
  const [deferrable, setDeferrable] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const create = useMutation(
    trpc.apiKeys.create.mutationOptions({ onSuccess: () => queryClient.invalidateQueries({ queryKey: trpc.apiKeys.list.queryKey() }) }),
  );

  if (create.data) return <KeyOnce keyValue={create.data.key} name={create.data.record.name} onDone={onDone} />;

  const chosenTeam = teamId || (teams.data?.length === 1 ? teams.data[0]!.id : "");
  function submit(event: FormEvent) {
    event.preventDefault();
    const input = parseForm(apiKeyCreateInput, {
      name,
      teamId: chosenTeam,
      allowedModels: models.split(",").map((m) => m.trim()).filter(Boolean),
      allowStore,
      deferrable,
      // End of the chosen day, UTC: "expires on the 31st" includes the 31st.
      expiresAt: expires ? new Date(`${expires}T23:59:59.999Z`) : null,
      rpmLimit: rpm ? Number(rpm) : null,
      tpmLimit: tpm ? Number(tpm) : null,
    }, setErrors);
    if (!input) return;
    create.mutate(input);
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      {create.error ? <Alert tone="error">{errorMessage(create.error)}</Alert> : null}
      <Field label="Name" hint="Where it is used, e.g. support-bot-prod." error={errors.name} required>
        <Input value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" autoFocus />
      </Field>
      <Field label="Team" hint={user.role === "developer" ? "Developers create keys for their own team." : "Spend and budgets are counted per team."} error={errors.teamId} required>
        <TeamSelect value={chosenTeam} onChange={(e) => setTeamId(e.target.value)} disabled={user.role === "developer"} emptyLabel="Choose a team…" />
      </Field>
      <Field label="Allowed models and policies" hint="Comma-separated; empty allows every model and policy of the team." error={errors.allowedModels}>
        <Input value={models} onChange={(e) => setModels(e.target.value)} placeholder="support-bot, gpt-4o-mini" className="font-mono" />
      </Field>
      <div className="grid grid-cols-3 gap-3">
        <Field label="Expires on" hint="Optional (UTC)" error={errors.expiresAt}>
          <Input type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </Field>
        <Field label="Requests / min" hint="Optional" error={errors.rpmLimit}>
          <Input inputMode="numeric" value={rpm} onChange={(e) => setRpm(e.target.value)} />
        </Field>
        <Field label="Tokens / min" hint="Optional" error={errors.tpmLimit}>
          <Input inputMode="numeric" value={tpm} onChange={(e) => setTpm(e.target.value)} />
        </Field>
      </div>
      <Checkbox label="Allow storing responses (Responses API previous_response_id)" checked={allowStore} onChange={(e) => setAllowStore(e.target.checked)} />
      <Checkbox
        label="Defer to the batch tier: every non-streaming chat request is answered later (202 with a batch id, within a day) at batch prices, ~50% cheaper"
        checked={deferrable}
        onChange={(e) => setDeferrable(e.target.checked)}
      />
      <DialogFooter>
        <Button type="submit" loading={create.isPending}>
          Create key
        </Button>
      </DialogFooter>
    </form>
  );
}
