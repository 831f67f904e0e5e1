"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { providerCreateInput, PROVIDER_KINDS, type ProviderKindName } from "@/lib/contracts/providers";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogFooter } from "@/components/ui/dialog";
import { errorMessage, fieldErrorsOf } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Checkbox, Input, Select } from "@/components/ui/input";
import { useToast } from "@/components/ui/toast";

type Provider = RouterOutputs["providers"]["list"][number];

interface Values {
  name: string;
  kind: ProviderKindName;
  baseUrl: string;
  apiKey: string;
  clearKey: boolean;
  allowPrivate: boolean;
  enabled: boolean;
  region: string;
  protocol: "openai" | "anthropic" | "gemini";
  apiVersion: string;
  deployment: string;
}

function initialValues(provider?: Provider): Values {
  const config = (provider?.config ?? {}) as { protocol?: Values["protocol"]; apiVersion?: string; deployment?: string };
  return {
    name: provider?.name ?? "",
    kind: (provider?.kind as ProviderKindName | undefined) ?? "openai",
    baseUrl: provider?.baseUrl ?? "",
    apiKey: "",
    clearKey: false,
    allowPrivate: provider?.allowPrivate ?? false,
    enabled: provider?.enabled ?? true,
    region: provider?.region ?? "",
    protocol: config.protocol ?? "openai",
    apiVersion: config.apiVersion ?? "",
    deployment: config.deployment ?? "",
  };
}

/**
 * Add or edit a provider. The key field is write-only: on edit it is empty and the stored key is kept unless a new
 * one is typed; changing the base URL or the kind requires typing it again (the server refuses otherwise).
 */
export function ProviderForm({ provider, onDone }: { provider?: Provider; onDone: (saved: Provider) => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const kinds = useQuery(trpc.providers.kinds.queryOptions());
  const [values, setValues] = useState<Values>(() => initialValues(provider));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const onSaved = async (saved: Provider) => {
    await queryClient.invalidateQueries({ queryKey: trpc.providers.list.queryKey() });
    await queryClient.invalidateQueries({ queryKey: trpc.models.pathKey() });
    toast.success(provider ? `Saved ${saved.name}` : `Added ${saved.name}`);
    onDone(saved);
  };
  const create = useMutation(trpc.providers.create.mutationOptions({ onSuccess: onSaved }));
  const update = useMutation(trpc.providers.update.mutationOptions({ onSuccess: onSaved }));
  const mutation = provider ? update : create;

  const definition = kinds.data?.find((k) => k.kind === values.kind);
  const destinationChanged = provider !== undefined && (values.baseUrl.trim() !== provider.baseUrl || values.kind !== provider.kind);
  const keyRequired = provider ? destinationChanged && provider.hasKey && !values.clearKey : (definition?.requiresKey ?? true);
  const set = <K extends keyof Values>(field: K, value: Values[K]) => setValues((v) => ({ ...v, [field]: value }));

  function settings() {
    return {
      ...(values.kind === "simulator" ? { protocol: values.protocol } : {}),
      ...(values.kind === "azure-openai" ? { apiVersion: values.apiVersion || undefined, deployment: values.deployment || undefined } : {}),
    };
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (keyRequired && !values.apiKey.trim()) found.apiKey = provider ? "enter the key again: the base URL or kind changed" : "required for this kind";
    if (!provider) {
      const parsed = providerCreateInput.safeParse({
        name: values.name,
        kind: values.kind,
        baseUrl: values.baseUrl.trim() || undefined,
        apiKey: values.apiKey.trim() || undefined,
        allowPrivate: values.allowPrivate,
        enabled: values.enabled,
        region: values.region,
        config: settings(),
      });
      if (!parsed.success) for (const issue of parsed.error.issues) found[String(issue.path[0])] ??= issue.message;
      setErrors(found);
      if (Object.keys(found).length > 0 || !parsed.success) return;
      create.mutate(parsed.data, { onError: (error) => setErrors(fieldErrorsOf(error)) });
      return;
    }
    setErrors(found);
    if (Object.keys(found).length > 0) return;
    update.mutate(
      {
        id: provider.id,
        kind: values.kind,
        baseUrl: values.baseUrl.trim(),
        ...(values.apiKey.trim() ? { apiKey: values.apiKey.trim() } : {}),
        ...(values.clearKey ? { clearKey: true } : {}),
        allowPrivate: values.allowPrivate,
        enabled: values.enabled,
        region: values.region.trim() || null,
        config: settings(),
      },
      { onError: (error) => setErrors(fieldErrorsOf(error)) },
    );
  }

  const generalError = mutation.error && Object.keys(fieldErrorsOf(mutation.error)).length === 0 ? errorMessage(mutation.error) : null;
  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      {generalError ? <Alert tone="error">{generalError}</Alert> : null}
      <div className="grid grid-cols-2 gap-4">
        <Field label="Kind" error={errors.kind} required>
          <Select value={values.kind} onChange={(e) => set("kind", e.target.value as ProviderKindName)}>
            {(kinds.data ?? PROVIDER_KINDS.map((kind) => ({ kind, label: kind }))).map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Name" hint={provider ? "Policies refer to it; it cannot change." : "Used in policies: letters, digits, . _ -"} error={errors.name} required>
          <Input value={values.name} onChange={(e) => set("name", e.target.value)} disabled={provider !== undefined} placeholder="openai-prod" autoComplete="off" />
        </Field>
      </div>
      <Field
        label="Base URL"
        hint={definition?.defaultBaseUrl ? `Leave empty for ${definition.defaultBaseUrl}` : "Required for this kind (e.g. http://10.0.0.5:8000/v1)"}
        error={errors.baseUrl}
        required={!definition?.defaultBaseUrl}
      >
        <Input value={values.baseUrl} onChange={(e) => set("baseUrl", e.target.value)} placeholder={definition?.defaultBaseUrl ?? "https://"} className="font-mono" autoComplete="off" spellCheck={false} />
      </Field>
      <Field
        label="API key"
        hint={
          provider?.hasKey
            ? destinationChanged
              ? "The destination changed: enter the key again."
              : `Stored key ends in ${provider.keyLast4}. Leave empty to keep it.`
            : "Stored encrypted; only its last 4 characters are ever shown."
        }
        error={errors.apiKey}
        required={keyRequired}
      >
        <Input type="password" value={values.apiKey} onChange={(e) => set("apiKey", e.target.value)} autoComplete="new-password" spellCheck={false} className="font-mono" placeholder={provider?.hasKey ? `•••• ${provider.keyLast4}` : ""} />
      </Field>
      {provider?.hasKey && !definition?.requiresKey ? (
        <Checkbox label="Remove the stored key" checked={values.clearKey} onChange={(e) => set("clearKey", e.target.checked)} />
      ) : null}
      {values.kind === "simulator" ? (
        <Field label="Protocol" hint="Which API the simulator speaks for this provider.">
          <Select value={values.protocol} onChange={(e) => set("protocol", e.target.value as Values["protocol"])}>
            <option value="openai">OpenAI</option>
            <option value="anthropic">Anthropic</option>
            <option value="gemini">Gemini</option>
          </Select>
        </Field>
      ) : null}
      {values.kind === "azure-openai" ? (
        <div className="grid grid-cols-2 gap-4">
          <Field label="API version" hint="Default 2024-10-21">
            <Input value={values.apiVersion} onChange={(e) => set("apiVersion", e.target.value)} />
          </Field>
          <Field label="Deployment" hint="Default: the model id">
            <Input value={values.deployment} onChange={(e) => set("deployment", e.target.value)} />
          </Field>
        </div>
      ) : null}
      <Field label="Region" hint="Optional label, e.g. eu-west.">
        <Input value={values.region} onChange={(e) => set("region", e.target.value)} />
      </Field>
      <div className="space-y-2">
        <Checkbox label="Allow private addresses (self-hosted endpoint on this network)" checked={values.allowPrivate} onChange={(e) => set("allowPrivate", e.target.checked)} />
        <Checkbox label="Enabled (the gateway routes to it)" checked={values.enabled} onChange={(e) => set("enabled", e.target.checked)} />
      </div>
      <DialogFooter>
        <Button type="submit" loading={mutation.isPending}>
          {provider ? "Save provider" : "Add provider"}
        </Button>
      </DialogFooter>
    </form>
  );
}
