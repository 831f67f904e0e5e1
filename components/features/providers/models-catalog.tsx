"use client";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Boxes, Plus, Trash2 } from "lucide-react";
import { useEffect, useState } from "react";
import { CAPABILITY_NAMES } from "@/lib/contracts/models";
import { PROVIDER_KINDS } from "@/lib/contracts/providers";
import { formatTokens, formatUsd } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useTRPC } from "@/components/providers/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { actionsColumn, DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { errorMessage } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Checkbox, Input, Select } from "@/components/ui/input";
import { QueryState } from "@/components/ui/query-state";
import { useToast } from "@/components/ui/toast";
import { PriceOverrideForm } from "./price-override-form";

type Model = RouterOutputs["models"]["list"]["items"][number];
type Override = RouterOutputs["models"]["overrides"][number];
const PAGE = 50;

/** The catalog as the gateway prices it: filter, enable or disable models, override prices. */
export function ModelsCatalog() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const [providerId, setProviderId] = useState("");
  const [kind, setKind] = useState("");
  const [search, setSearch] = useState("");
  const [query, setQuery] = useState("");
  const [capability, setCapability] = useState("");
  const [includeDisabled, setIncludeDisabled] = useState(true);
  const [offset, setOffset] = useState(0);
  const [overriding, setOverriding] = useState<{ model?: Model } | null>(null);

  // Search as you type, without a request per keystroke.
  useEffect(() => {
    const timer = setTimeout(() => (setQuery(search.trim()), setOffset(0)), 250);
    return () => clearTimeout(timer);
  }, [search]);

  const providers = useQuery(trpc.providers.list.queryOptions());
  const input = {
    ...(providerId ? { providerId } : kind ? { kind: kind as (typeof PROVIDER_KINDS)[number] } : {}),
    ...(query ? { query } : {}),
    ...(capability ? { capability: capability as (typeof CAPABILITY_NAMES)[number] } : {}),
    includeDisabled,
    limit: PAGE,
    offset,
  };
  const models = useQuery({ ...trpc.models.list.queryOptions(input), placeholderData: keepPreviousData });
  const overrides = useQuery(trpc.models.overrides.queryOptions());
  const setEnabled = useMutation(trpc.models.setEnabled.mutationOptions());
  const removeOverride = useMutation(trpc.models.deleteOverride.mutationOptions());
  const providerName = (id: string | null) => (id ? (providers.data?.find((p) => p.id === id)?.name ?? "deleted provider") : "every provider");

  const toggle = (model: Model) =>
    setEnabled.mutate(
      { providerId: providerId || model.providerId || null, modelId: model.id, enabled: !model.enabled },
      {
        onSuccess: async () => {
          await queryClient.invalidateQueries({ queryKey: trpc.models.pathKey() });
          toast.success(`${model.id} ${model.enabled ? "disabled" : "enabled"}`);
        },
        onError: (error) => toast.error(errorMessage(error)),
      },
    );

  const columns: ColumnDef<Model, unknown>[] = [
    {
      accessorKey: "id",
      header: "Model",
      meta: { className: "min-w-56" },
      cell: ({ row }) => (
        <div className="min-w-0">
          <div className="font-medium text-slate-900">{row.original.name}</div>
          <div className="text-xs text-slate-500">
            {row.original.kind} · <span className="font-mono">{row.original.id}</span>
          </div>
        </div>
      ),
    },
    { id: "input", header: "Input / 1M", accessorFn: (m) => Number(m.prices.input), cell: ({ row }) => formatUsd(row.original.prices.input), meta: { className: "text-right tabular-nums" } },
    { id: "output", header: "Output / 1M", accessorFn: (m) => Number(m.prices.output), cell: ({ row }) => formatUsd(row.original.prices.output), meta: { className: "text-right tabular-nums" } },
    { accessorKey: "contextWindow", header: "Context", cell: ({ row }) => formatTokens(row.original.contextWindow), meta: { className: "text-right tabular-nums" } },
    {
      id: "capabilities",
      header: "Capabilities",
      enableSorting: false,
      cell: ({ row }) => (
        <div className="flex min-w-40 max-w-60 flex-wrap gap-1">
          {CAPABILITY_NAMES.filter((c) => row.original.capabilities[c]).map((c) => (
            <Badge key={c}>{c}</Badge>
          ))}
          {row.original.overridden ? <Badge tone="info">overridden</Badge> : null}
        </div>
      ),
    },
    {
      accessorKey: "enabled",
      header: "Enabled",
      cell: ({ row }) => (
        <Checkbox
          label={<span className="sr-only">Enabled: {row.original.id}</span>}
          checked={row.original.enabled}
          onChange={() => toggle(row.original)}
          disabled={setEnabled.isPending}
        />
      ),
    },
    actionsColumn(({ row }) => (
      <Button variant="ghost" size="sm" onClick={() => setOverriding({ model: row.original })} aria-label={`Override prices of ${row.original.id}`}>
        Override
      </Button>
    )),
  ];

  return (
    <div className="space-y-6">
      <Card>
        <div className="grid grid-cols-[repeat(4,minmax(0,1fr))_auto] items-end gap-3 border-b border-slate-100 px-5 py-4">
          <Field label="Provider">
            <Select value={providerId} onChange={(e) => (setProviderId(e.target.value), setOffset(0))}>
              <option value="">All kinds</option>
              {(providers.data ?? []).map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Kind">
            <Select value={kind} onChange={(e) => (setKind(e.target.value), setOffset(0))} disabled={providerId !== ""}>
              <option value="">Any</option>
              {PROVIDER_KINDS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </Select>
          </Field>
          <Field label="Search">
            <Input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="gpt-4o, claude, …" />
          </Field>
          <Field label="Capability">
            <Select value={capability} onChange={(e) => (setCapability(e.target.value), setOffset(0))}>
              <option value="">Any</option>
              {CAPABILITY_NAMES.map((c) => (
                <option key={c} value={c}>
                  {c}
                </option>
              ))}
            </Select>
          </Field>
          <div className="flex flex-col items-end gap-2 pb-1">
            <Checkbox label="Show disabled" checked={includeDisabled} onChange={(e) => (setIncludeDisabled(e.target.checked), setOffset(0))} />
          </div>
        </div>
        <QueryState query={models} label="Loading models">
          {(page) => (
            <>
              <DataTable
                label="Models"
                columns={columns}
                data={page.items}
                getRowId={(m) => `${m.kind}/${m.id}/${m.providerId ?? ""}`}
                rowClassName={(m) => (m.enabled ? undefined : "text-slate-400")}
                empty={<EmptyState icon={<Boxes />} title="No models match these filters" />}
              />
              <div className="flex items-center justify-between border-t border-slate-100 px-5 py-3 text-sm text-slate-600">
                <span aria-live="polite">
                  {page.total === 0 ? "0 models" : `${offset + 1}–${Math.min(offset + PAGE, page.total)} of ${page.total} models`}
                </span>
                <div className="flex gap-2">
                  <Button variant="secondary" size="sm" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
                    Previous
                  </Button>
                  <Button variant="secondary" size="sm" disabled={offset + PAGE >= page.total} onClick={() => setOffset(offset + PAGE)}>
                    Next
                  </Button>
                </div>
              </div>
            </>
          )}
        </QueryState>
      </Card>

      <Card>
        <CardHeader>
          <div>
            <CardTitle>Overrides</CardTitle>
            <CardDescription>Negotiated prices, corrected limits, disabled and custom models. They apply to new calls within a second.</CardDescription>
          </div>
          <Button variant="secondary" onClick={() => setOverriding({})}>
            <Plus aria-hidden /> Add custom model
          </Button>
        </CardHeader>
        <CardContent className="p-0">
          <QueryState query={overrides} label="Loading overrides">
            {(rows) => (
              <DataTable
                label="Overrides"
                data={rows}
                getRowId={(r) => r.id}
                empty={<EmptyState title="No overrides">Every model is priced as the catalog says.</EmptyState>}
                columns={[
                  { accessorKey: "modelId", header: "Model", cell: ({ row }) => <span className="font-mono text-xs">{row.original.modelId}</span> },
                  { id: "scope", header: "Applies to", accessorFn: (r) => providerName(r.providerId) },
                  { id: "prices", header: "Input / output per 1M", enableSorting: false, cell: ({ row }) => `${formatUsd(row.original.inputPrice)} / ${formatUsd(row.original.outputPrice)}` },
                  { accessorKey: "enabled", header: "Status", cell: ({ row }) => (row.original.enabled ? <Badge tone="success">Enabled</Badge> : <Badge>Disabled</Badge>) },
                  { accessorKey: "custom", header: "Custom", cell: ({ row }) => (row.original.custom ? "yes" : "") },
                  actionsColumn<Override>(({ row }) => (
                    <Button
                      variant="ghost"
                      size="sm"
                      aria-label={`Remove the override of ${row.original.modelId}`}
                      onClick={() =>
                        removeOverride.mutate(
                          { id: row.original.id },
                          {
                            onSuccess: async () => (await queryClient.invalidateQueries({ queryKey: trpc.models.pathKey() }), toast.success("Override removed")),
                            onError: (e) => toast.error(errorMessage(e)),
                          },
                        )
                      }
                    >
                      <Trash2 aria-hidden />
                    </Button>
                  )),
                ]}
              />
            )}
          </QueryState>
        </CardContent>
      </Card>

      <Dialog open={overriding !== null} onOpenChange={(open) => !open && setOverriding(null)}>
        {overriding ? (
          <DialogContent wide title={overriding.model ? `Override ${overriding.model.id}` : "Add a custom model"} description="Empty fields keep the catalog's values.">
            <PriceOverrideForm
              model={overriding.model}
              providers={providers.data ?? []}
              defaultProviderId={providerId || overriding.model?.providerId || null}
              onDone={() => setOverriding(null)}
            />
          </DialogContent>
        ) : null}
      </Dialog>
    </div>
  );
}
