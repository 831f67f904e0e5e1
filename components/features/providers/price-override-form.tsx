"use client";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { overrideUpsertInput } from "@/lib/contracts/models";
import { formatUsd } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useTRPC } from "@/components/providers/trpc";
import { Alert } from "@/components/ui/alert";
import { Button } from "@/components/ui/button";
import { DialogFooter } from "@/components/ui/dialog";
import { errorMessage } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Checkbox, Input, Select } from "@/components/ui/input";
import { parseForm } from "@/components/ui/parse-form";
import { useToast } from "@/components/ui/toast";

type Model = RouterOutputs["models"]["list"]["items"][number];
type Provider = RouterOutputs["providers"]["list"][number];

const PRICES = [
  ["inputPrice", "Input", "input"],
  ["outputPrice", "Output", "output"],
  ["cacheReadPrice", "Cache read", "cacheRead"],
  ["cacheWritePrice", "Cache write", "cacheWrite"],
  ["batchInputPrice", "Batch input", "batchInput"],
  ["batchOutputPrice", "Batch output", "batchOutput"],
] as const;

/**
 * Negotiated prices, limits or a custom model. Empty fields keep the catalog's value (shown as the placeholder).
 * Scope: one provider account, or every provider serving the model id.
 */
export function PriceOverrideForm({ model, providers, defaultProviderId, onDone }: { model?: Model; providers: Provider[]; defaultProviderId: string | null; onDone: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [providerId, setProviderId] = useState<string>(defaultProviderId ?? "");
  const [modelId, setModelId] = useState(model?.id ?? "");
  const [displayName, setDisplayName] = useState("");
  const [prices, setPrices] = useState<Record<string, string>>({});
  const [contextWindow, setContextWindow] = useState("");
  const [maxOutput, setMaxOutput] = useState("");
  const [enabled, setEnabled] = useState(model?.enabled ?? true);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const save = useMutation(
    trpc.models.upsertOverride.mutationOptions({
      onSuccess: async (row) => {
        await queryClient.invalidateQueries({ queryKey: trpc.models.pathKey() });
        toast.success(`Saved the override of ${row.modelId}`);
        onDone();
      },
    }),
  );

  function submit(event: FormEvent) {
    event.preventDefault();
    const input = parseForm(overrideUpsertInput, {
      providerId: providerId || null,
      modelId,
      displayName,
      ...Object.fromEntries(PRICES.map(([field]) => [field, prices[field]?.trim() || null])),
      contextWindow: contextWindow ? Number(contextWindow) : null,
      maxOutput: maxOutput ? Number(maxOutput) : null,
      enabled,
    }, setErrors);
    if (!input) return;
    save.mutate(input);
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      {save.error ? <Alert tone="error">{errorMessage(save.error)}</Alert> : null}
      <div className="grid grid-cols-2 gap-4">
        <Field label="Applies to" hint="One provider account, or the model id under every provider." error={errors.providerId}>
          <Select value={providerId} onChange={(e) => setProviderId(e.target.value)}>
            <option value="">Every provider</option>
            {providers.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} ({p.label})
              </option>
            ))}
          </Select>
        </Field>
        <Field label="Model id" error={errors.modelId} required>
          <Input value={modelId} onChange={(e) => setModelId(e.target.value)} disabled={model !== undefined} className="font-mono" placeholder="my-finetuned-model" />
        </Field>
      </div>
      <Field label="Display name" error={errors.displayName}>
        <Input value={displayName} onChange={(e) => setDisplayName(e.target.value)} placeholder={model?.name} />
      </Field>
      <fieldset>
        <legend className="mb-2 text-sm font-medium text-slate-800">Prices, USD per 1M tokens</legend>
        <div className="grid grid-cols-3 gap-3">
          {PRICES.map(([field, label, key]) => (
            <Field key={field} label={label} error={errors[field]}>
              <Input inputMode="decimal" value={prices[field] ?? ""} onChange={(e) => setPrices((p) => ({ ...p, [field]: e.target.value }))} placeholder={model?.prices[key] !== undefined ? formatUsd(model.prices[key]) : ""} />
            </Field>
          ))}
        </div>
      </fieldset>
      <div className="grid grid-cols-2 gap-4">
        <Field label="Context window (tokens)" error={errors.contextWindow}>
          <Input inputMode="numeric" value={contextWindow} onChange={(e) => setContextWindow(e.target.value)} placeholder={model?.contextWindow?.toString() ?? ""} />
        </Field>
        <Field label="Max output (tokens)" error={errors.maxOutput}>
          <Input inputMode="numeric" value={maxOutput} onChange={(e) => setMaxOutput(e.target.value)} placeholder={model?.maxOutput?.toString() ?? ""} />
        </Field>
      </div>
      <Checkbox label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.target.checked)} />
      <DialogFooter>
        <Button type="submit" loading={save.isPending}>
          Save override
        </Button>
      </DialogFooter>
    </form>
  );
}
