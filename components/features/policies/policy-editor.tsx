"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ArrowDown, ArrowUp, Plus, Trash2 } from "lucide-react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { policyCreateInput, policyName } from "@/lib/contracts/policies";
import { STRATEGIES } from "@/lib/policy";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useCan } from "@/components/providers/current-user";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardFooter, CardHeader, CardTitle } from "@/components/ui/card";
import { errorMessage } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Checkbox, Input, Select, Textarea } from "@/components/ui/input";
import { PageHeader } from "@/components/ui/page-header";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { useToast } from "@/components/ui/toast";
import { PolicySimulate } from "./policy-simulate";
import { PolicyVersions } from "./policy-versions";
import { TeamSelect } from "@/components/features/teams/team-select";

type Policy = RouterOutputs["policies"]["get"];
interface Target {
  provider: string;
  model: string;
}
/** The document as edited: possibly invalid while someone types (the server's validate says what is wrong). */
interface Draft {
  strategy?: unknown;
  targets?: Target[];
  reference?: Target;
  dropParams?: string[];
  [extra: string]: unknown;
}

const EMPTY: Draft = { strategy: "ordered", targets: [{ provider: "", model: "" }], dropParams: [] };

const STRATEGY_HINTS: Record<string, string> = {
  ordered: "Targets in the order below; a retryable failure falls back to the next.",
  cheapest: "The lowest estimated cost for each request first (prompt tokens × catalog prices).",
  fastest: "The best live latency first; targets without recent statistics are explored now and then.",
  weighted: "An A/B split by weight, sticky per end user or key; the others are fallbacks.",
  conditional: "The first rule whose condition holds picks the chain; otherwise the targets below in order.",
  cascade: "Tiers from cheapest to strongest; a difficulty classifier picks the starting tier.",
};

/** Strategy fields the form does not edit (the JSON view does). */
const JSON_ONLY: Record<string, string> = {
  weighted: "Set one weight per target (\"weights\") and stickiness in the JSON view.",
  conditional: "Write the rules (\"rules\": conditions and their chains) in the JSON view.",
  cascade: "Tune the classifier and escalation rules in the JSON view; targets run from cheapest to strongest.",
};

/** The form's view of `compression`: absent (off), lossless steps only, or with lossy history trimming. */
function compressionMode(compression: unknown): "off" | "lossless" | "lossy" {
  if (typeof compression !== "object" || compression === null) return "off";
  return (compression as { trimHistory?: unknown }).trimHistory ? "lossy" : "lossless";
}

/** Waits until `value` has been stable for `ms` (live validation without a request per keystroke). */
function useDebounced<T>(value: T, ms: number): T {
  const [stable, setStable] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setStable(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return stable;
}

function TargetRow({
  index,
  target,
  providers,
  count,
  readOnly,
  onChange,
  onMove,
  onRemove,
}: {
  index: number;
  target: Target;
  providers: Array<{ id: string; name: string }>;
  count: number;
  readOnly: boolean;
  onChange: (target: Target) => void;
  onMove: (delta: -1 | 1) => void;
  onRemove: () => void;
}) {
  const trpc = useTRPC();
  const providerId = providers.find((p) => p.name === target.provider)?.id;
  // Suggestions for the model field: what the chosen provider serves.
  const models = useQuery({ ...trpc.models.list.queryOptions({ providerId: providerId ?? "", limit: 500, includeDisabled: false }), enabled: !readOnly && providerId !== undefined });
  const listId = `models-${index}`;
  return (
    <li className="grid grid-cols-[2rem_minmax(0,1fr)_minmax(0,1.4fr)_auto] items-end gap-3">
      <span className="pb-2 text-sm font-medium text-slate-500">{index + 1}.</span>
      <Field label={`Provider of target ${index + 1}`}>
        {!readOnly ? (
          <Select value={target.provider} onChange={(e) => onChange({ ...target, provider: e.target.value })}>
            <option value="">{providers.length > 0 ? "Choose…" : "No providers yet"}</option>
            {providers.map((p) => (
              <option key={p.id} value={p.name}>
                {p.name}
              </option>
            ))}
            {target.provider && !providers.some((p) => p.name === target.provider) ? <option value={target.provider}>{target.provider} (unknown)</option> : null}
          </Select>
        ) : (
          <Input value={target.provider} onChange={(e) => onChange({ ...target, provider: e.target.value })} readOnly={readOnly} />
        )}
      </Field>
      <Field label={`Model of target ${index + 1}`}>
        <Input value={target.model} onChange={(e) => onChange({ ...target, model: e.target.value })} list={listId} readOnly={readOnly} className="font-mono" spellCheck={false} />
      </Field>
      {readOnly ? (
        <span />
      ) : (
        <div className="flex gap-1 pb-0.5">
          <Button variant="ghost" size="icon" aria-label={`Move target ${index + 1} up`} disabled={index === 0} onClick={() => onMove(-1)}>
            <ArrowUp aria-hidden />
          </Button>
          <Button variant="ghost" size="icon" aria-label={`Move target ${index + 1} down`} disabled={index === count - 1} onClick={() => onMove(1)}>
            <ArrowDown aria-hidden />
          </Button>
          <Button variant="ghost" size="icon" aria-label={`Remove target ${index + 1}`} disabled={count === 1} onClick={onRemove}>
            <Trash2 aria-hidden />
          </Button>
        </div>
      )}
      <datalist id={listId}>
        {(models.data?.items ?? []).map((m) => (
          <option key={`${m.id}/${m.providerId ?? ""}`} value={m.id} />
        ))}
      </datalist>
    </li>
  );
}

/**
 * Create or edit a policy: a form and a JSON view of the same document, validated live by the server (schema,
 * then references to providers and models). Admins edit; everyone else reads. Saving a changed document makes a
 * new version; the history below restores an older one.
 */
export function PolicyEditor({ policy }: { policy?: Policy }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const toast = useToast();
  const canEdit = useCan("admin");
  const readOnly = !canEdit;
  const [name, setName] = useState(policy?.name ?? "");
  const [description, setDescription] = useState(policy?.description ?? "");
  const [teamId, setTeamId] = useState(policy?.teamId ?? "");
  const [enabled, setEnabled] = useState(policy?.enabled ?? true);
  const [draft, setDraft] = useState<Draft>(() => (policy ? (policy.document as Draft) : EMPTY));
  const [jsonText, setJsonText] = useState(() => JSON.stringify(policy ? policy.document : EMPTY, null, 2));
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [tab, setTab] = useState("form");
  const [nameError, setNameError] = useState<string | null>(null);

  // Re-seed when the server's version changes (after a save or a rollback).
  useEffect(() => {
    if (!policy) return;
    setDraft(policy.document as Draft);
    setJsonText(JSON.stringify(policy.document, null, 2));
    setJsonError(null);
  }, [policy?.version]); // eslint-disable-line react-hooks/exhaustive-deps

  const providers = useQuery({ ...trpc.providers.list.queryOptions(), enabled: canEdit });
  const checked = useDebounced(draft, 300);
  const validation = useQuery({ ...trpc.policies.validate.queryOptions({ document: checked }), enabled: jsonError === null });

  const targets = Array.isArray(draft.targets) ? draft.targets : [];
  const strategy = typeof draft.strategy === "string" ? draft.strategy : "ordered";
  const update = (next: Draft) => {
    setDraft(next);
    setJsonText(JSON.stringify(next, null, 2));
    setJsonError(null);
  };
  const setTargets = (next: Target[]) => update({ ...draft, targets: next });
  const providerOptions = useMemo(() => (providers.data ?? []).map((p) => ({ id: p.id, name: p.name })), [providers.data]);

  const onSaved = async (saved: Policy) => {
    await queryClient.invalidateQueries({ queryKey: trpc.policies.pathKey() });
    toast.success(`Saved ${saved.name} (version ${saved.version})`);
    if (!policy) router.push(`/policies/${saved.id}`);
  };
  const create = useMutation(trpc.policies.create.mutationOptions({ onSuccess: onSaved }));
  const save = useMutation(trpc.policies.update.mutationOptions({ onSuccess: onSaved }));
  const mutation = policy ? save : create;

  function onJsonChange(text: string) {
    setJsonText(text);
    try {
      const parsed: unknown = JSON.parse(text);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the document must be a JSON object");
      setDraft(parsed as Draft);
      setJsonError(null);
    } catch (error) {
      setJsonError(error instanceof Error ? error.message : "not valid JSON");
    }
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    if (readOnly || jsonError || !validation.data?.ok || !validation.data.document) return;
    const document = validation.data.document;
    if (policy) {
      save.mutate({ id: policy.id, description: description || null, teamId: teamId || null, enabled, document });
      return;
    }
    const parsedName = policyName.safeParse(name);
    setNameError(parsedName.success ? null : parsedName.error.issues[0]!.message);
    const input = policyCreateInput.safeParse({ name, description, teamId: teamId || null, enabled, document });
    if (!parsedName.success || !input.success) return;
    create.mutate(input.data);
  }

  const reference = draft.reference;
  const referenceValue = reference ? `${reference.provider}/${reference.model}` : "";
  const stale = checked !== draft || validation.isFetching;
  const canSave = !readOnly && !jsonError && validation.data?.ok === true && !stale;

  return (
    <div className="mx-auto max-w-6xl">
      <PageHeader
        title={policy ? policy.name : "New policy"}
        description={
          <>
            Apps use it as <code className="rounded bg-slate-100 px-1 font-mono">model: &quot;{policy?.name ?? (name || "name")}&quot;</code>. Its strategy ranks the targets for each request; a retryable failure falls back to the next.{" "}
            <Link href="/policies" className="text-brand-700 hover:underline">
              All policies
            </Link>
          </>
        }
      />
      {readOnly ? <Alert className="mb-4">You can read this policy; only admins change policies.</Alert> : null}
      <form onSubmit={submit} noValidate className="grid grid-cols-[minmax(0,1fr)_20rem] gap-6">
        <Card>
          <Tabs value={tab} onValueChange={setTab}>
            <CardHeader className="items-center">
              <CardTitle>Document</CardTitle>
              <TabsList aria-label="Editor view">
                <TabsTrigger value="form">Form</TabsTrigger>
                <TabsTrigger value="json">JSON</TabsTrigger>
              </TabsList>
            </CardHeader>
            <CardContent>
              <TabsContent value="form" className="mt-0 space-y-5">
                <Field label="Strategy" hint={STRATEGY_HINTS[strategy] ?? "Choose how targets are ranked for each request."}>
                  <Select value={strategy} disabled={readOnly} onChange={(e) => update({ ...draft, strategy: e.target.value })}>
                    {STRATEGIES.map((name) => (
                      <option key={name} value={name}>
                        {name}
                      </option>
                    ))}
                  </Select>
                </Field>
                {JSON_ONLY[strategy] ? <Alert>{JSON_ONLY[strategy]}</Alert> : null}
                <fieldset>
                  <legend className="mb-2 text-sm font-medium text-slate-800">Targets, in order of preference</legend>
                  <ol className="space-y-3">
                    {targets.map((target, index) => (
                      <TargetRow
                        key={index}
                        index={index}
                        target={target}
                        count={targets.length}
                        providers={providerOptions}
                        readOnly={readOnly}
                        onChange={(next) => setTargets(targets.map((t, i) => (i === index ? next : t)))}
                        onMove={(delta) => {
                          const next = [...targets];
                          const [moved] = next.splice(index, 1);
                          next.splice(index + delta, 0, moved!);
                          setTargets(next);
                        }}
                        onRemove={() => setTargets(targets.filter((_, i) => i !== index))}
                      />
                    ))}
                  </ol>
                  {readOnly ? null : (
                    <Button variant="secondary" size="sm" className="mt-3" onClick={() => setTargets([...targets, { provider: "", model: "" }])} disabled={targets.length >= 32}>
                      <Plus aria-hidden /> Add fallback target
                    </Button>
                  )}
                </fieldset>
                <Field label="Savings baseline" hint="What savings are measured against: the model your app would have used. Default: the first target.">
                  <Select
                    value={referenceValue}
                    disabled={readOnly}
                    onChange={(e) => {
                      const chosen = targets.find((t) => `${t.provider}/${t.model}` === e.target.value);
                      const { reference: _drop, ...rest } = draft;
                      update(chosen ? { ...rest, reference: { ...chosen } } : rest);
                    }}
                  >
                    <option value="">First target</option>
                    {targets
                      .filter((t) => t.provider && t.model)
                      .map((t, i) => (
                        <option key={i} value={`${t.provider}/${t.model}`}>
                          {t.provider}/{t.model}
                        </option>
                      ))}
                    {reference && !targets.some((t) => `${t.provider}/${t.model}` === referenceValue) ? <option value={referenceValue}>{referenceValue}</option> : null}
                  </Select>
                </Field>
                <Field
                  label="Prompt compression"
                  hint="Lossless: collapse whitespace and drop duplicate context before sending (code is never touched). History trimming is lossy and set in the JSON view (compression.trimHistory); per-task max_tokens caps too (parameters.maxTokensByTask)."
                >
                  <Select
                    value={compressionMode(draft.compression)}
                    disabled={readOnly}
                    onChange={(e) => {
                      const { compression, ...rest } = draft;
                      const { trimHistory: _lossy, ...lossless } = typeof compression === "object" && compression !== null ? (compression as Record<string, unknown>) : {};
                      update(e.target.value === "off" ? rest : e.target.value === "lossless" ? { ...rest, compression: lossless } : draft);
                    }}
                  >
                    <option value="off">Off</option>
                    <option value="lossless">Lossless (whitespace, duplicates)</option>
                    {compressionMode(draft.compression) === "lossy" ? <option value="lossy">Lossless + history trimming (lossy)</option> : null}
                  </Select>
                </Field>
                <Field label="Parameters to drop" hint="Comma-separated request parameters to remove (instead of failing) when a fallback target cannot honour them, e.g. logit_bias, seed.">
                  <Input
                    value={(Array.isArray(draft.dropParams) ? draft.dropParams : []).join(", ")}
                    readOnly={readOnly}
                    onChange={(e) => update({ ...draft, dropParams: e.target.value.split(",").map((s) => s.trim()).filter(Boolean) })}
                    className="font-mono"
                  />
                </Field>
              </TabsContent>
              <TabsContent value="json" className="mt-0">
                <Field label="Policy document (JSON)" error={jsonError ? `Not valid JSON: ${jsonError}` : null}>
                  <Textarea value={jsonText} onChange={(e) => onJsonChange(e.target.value)} readOnly={readOnly} rows={18} spellCheck={false} className="font-mono text-xs" />
                </Field>
              </TabsContent>
              <section aria-label="Validation" aria-live="polite" className="mt-5 space-y-2">
                {jsonError ? null : validation.isError ? (
                  <Alert tone="error">{errorMessage(validation.error)}</Alert>
                ) : validation.data ? (
                  validation.data.errors.length > 0 ? (
                    <Alert tone="error" title="Fix these before saving">
                      <ul className="list-disc pl-4">
                        {validation.data.errors.map((e, i) => (
                          <li key={i}>
                            <code className="font-mono">{e.path}</code>: {e.message}
                          </li>
                        ))}
                      </ul>
                    </Alert>
                  ) : (
                    <Alert tone={validation.data.warnings.length > 0 ? "warning" : "success"} title={validation.data.warnings.length > 0 ? "Valid, with warnings" : "Valid policy document"}>
                      {validation.data.warnings.length > 0 ? (
                        <ul className="list-disc pl-4">
                          {validation.data.warnings.map((w, i) => (
                            <li key={i}>
                              <code className="font-mono">{w.path}</code>: {w.message}
                            </li>
                          ))}
                        </ul>
                      ) : null}
                    </Alert>
                  )
                ) : null}
              </section>
            </CardContent>
          </Tabs>
        </Card>

        <div className="space-y-6">
          <Card>
            <CardHeader>
              <CardTitle>Settings</CardTitle>
            </CardHeader>
            <CardContent className="space-y-4">
              <Field label="Name" hint={policy ? "Apps refer to it; it cannot change." : "Letters, digits, . _ : -"} error={nameError} required>
                <Input value={name} onChange={(e) => setName(e.target.value)} disabled={policy !== undefined || readOnly} className="font-mono" autoComplete="off" spellCheck={false} />
              </Field>
              <Field label="Description">
                <Textarea value={description} onChange={(e) => setDescription(e.target.value)} readOnly={readOnly} rows={2} />
              </Field>
              <Field label="Available to">
                <TeamSelect value={teamId} onChange={(e) => setTeamId(e.target.value)} disabled={readOnly} emptyLabel="All teams" />
              </Field>
              <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} disabled={readOnly} />
              {mutation.error ? <Alert tone="error">{errorMessage(mutation.error)}</Alert> : null}
            </CardContent>
            {readOnly ? null : (
              <CardFooter>
                <Button type="submit" loading={mutation.isPending} disabled={!canSave}>
                  {policy ? "Save policy" : "Create policy"}
                </Button>
              </CardFooter>
            )}
          </Card>
          {policy ? <PolicyVersions policy={policy} /> : null}
        </div>
      </form>
      {policy ? (
        // Outside the editor's form (forms do not nest); it simulates the saved version, not the draft.
        <div className="mt-6 grid grid-cols-[minmax(0,1fr)_20rem] gap-6">
          <PolicySimulate policy={policy} />
        </div>
      ) : null}
    </div>
  );
}
