"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { CheckCircle2, Pencil, Plug, Plus, Server, Trash2, XCircle } from "lucide-react";
import { useState } from "react";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useTRPC } from "@/components/providers/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { actionsColumn, DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Dialog, DialogContent, DialogTrigger } from "@/components/ui/dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { errorMessage } from "@/components/ui/errors";
import { QueryState } from "@/components/ui/query-state";
import { useToast } from "@/components/ui/toast";
import { ProviderForm } from "./provider-form";

type Provider = RouterOutputs["providers"]["list"][number];
type TestResult = RouterOutputs["providers"]["testConnection"];

function ConnectionCell({ provider, result, onTest, testing }: { provider: Provider; result?: TestResult | { error: string }; onTest: () => void; testing: boolean }) {
  return (
    <div className="flex items-center gap-3">
      <Button variant="secondary" size="sm" onClick={onTest} loading={testing} aria-label={`Test connection to ${provider.name}`}>
        <Plug aria-hidden /> Test
      </Button>
      <span aria-live="polite" className="min-w-0 text-xs">
        {result === undefined ? null : "error" in result ? (
          <span className="text-red-700">{result.error}</span>
        ) : result.ok ? (
          <span className="inline-flex items-center gap-1 text-emerald-700">
            <CheckCircle2 aria-hidden className="size-3.5" /> {result.message}
          </span>
        ) : (
          <span className="inline-flex items-start gap-1 text-red-700">
            <XCircle aria-hidden className="mt-0.5 size-3.5 shrink-0" /> {result.message}
          </span>
        )}
      </span>
    </div>
  );
}

export function ProviderList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const providers = useQuery(trpc.providers.list.queryOptions());
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<Provider | null>(null);
  const [results, setResults] = useState<Record<string, TestResult | { error: string }>>({});
  const test = useMutation(trpc.providers.testConnection.mutationOptions());
  const update = useMutation(trpc.providers.update.mutationOptions());
  const remove = useMutation(trpc.providers.delete.mutationOptions());
  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.providers.list.queryKey() });

  const runTest = (provider: Provider) =>
    test.mutate(
      { id: provider.id },
      {
        onSuccess: (result) => setResults((r) => ({ ...r, [provider.id]: result })),
        onError: (error) => setResults((r) => ({ ...r, [provider.id]: { error: errorMessage(error) } })),
      },
    );

  const columns: ColumnDef<Provider, unknown>[] = [
    {
      accessorKey: "name",
      header: "Provider",
      cell: ({ row }) => (
        <div>
          <div className="font-medium text-slate-900">{row.original.name}</div>
          <div className="text-xs text-slate-500">{row.original.label}</div>
        </div>
      ),
    },
    {
      accessorKey: "baseUrl",
      header: "Base URL",
      enableSorting: false,
      cell: ({ row }) => <span className="block max-w-64 truncate font-mono text-xs text-slate-700" title={row.original.baseUrl}>{row.original.builtin ? "built-in simulator" : row.original.baseUrl}</span>,
    },
    {
      id: "key",
      header: "Key",
      enableSorting: false,
      cell: ({ row }) =>
        row.original.hasKey ? (
          <span className="whitespace-nowrap font-mono text-xs" aria-label={`Key ending in ${row.original.keyLast4}`}>•••• {row.original.keyLast4}</span>
        ) : (
          <span className="text-xs text-slate-500">{row.original.requiresKey ? "missing" : "none"}</span>
        ),
    },
    {
      accessorKey: "enabled",
      header: "Status",
      cell: ({ row }) => (
        <div className="flex flex-wrap gap-1">
          {row.original.enabled ? <Badge tone="success">Enabled</Badge> : <Badge>Disabled</Badge>}
          {row.original.allowPrivate ? <Badge tone="warning">Private network</Badge> : null}
          {row.original.requiresKey && !row.original.hasKey ? <Badge tone="danger">No key</Badge> : null}
        </div>
      ),
    },
    {
      id: "connection",
      header: "Connection",
      enableSorting: false,
      meta: { className: "min-w-72" },
      cell: ({ row }) => (
        <ConnectionCell provider={row.original} result={results[row.original.id]} onTest={() => runTest(row.original)} testing={test.isPending && test.variables?.id === row.original.id} />
      ),
    },
    actionsColumn(({ row }) => {
      const p = row.original;
      return (
        <div className="flex justify-end gap-1">
          <Button variant="ghost" size="sm" onClick={() => setEditing(p)} aria-label={`Edit ${p.name}`}>
            <Pencil aria-hidden /> Edit
          </Button>
          <Button
            variant="ghost"
            size="sm"
            onClick={() =>
              update.mutate(
                { id: p.id, enabled: !p.enabled },
                { onSuccess: () => (toast.success(`${p.name} ${p.enabled ? "disabled" : "enabled"}`), void refresh()), onError: (e) => toast.error(errorMessage(e)) },
              )
            }
          >
            {p.enabled ? "Disable" : "Enable"}
          </Button>
          <ConfirmDialog
            title={`Delete ${p.name}?`}
            confirmLabel="Delete provider"
            trigger={
              <Button variant="ghost" size="sm" aria-label={`Delete ${p.name}`}>
                <Trash2 aria-hidden />
              </Button>
            }
            onConfirm={async () => {
              await remove.mutateAsync({ id: p.id });
              toast.success(`Deleted ${p.name}`);
              await refresh();
            }}
          >
            <p>Its encrypted key and price overrides are deleted too. Policies that route to it must be changed first.</p>
          </ConfirmDialog>
        </div>
      );
    }, "text-right"),
  ];

  return (
    <Card>
      <div className="flex items-center justify-between border-b border-slate-100 px-5 py-3">
        <p className="text-sm text-slate-600">Upstream accounts the gateway sends requests to. Keys are encrypted and shown by their last 4 characters.</p>
        <Dialog open={adding} onOpenChange={setAdding}>
          <DialogTrigger asChild>
            <Button>
              <Plus aria-hidden /> Add provider
            </Button>
          </DialogTrigger>
          <DialogContent title="Add provider" description="The base URL is checked against private and metadata addresses when you save.">
            <ProviderForm onDone={() => setAdding(false)} />
          </DialogContent>
        </Dialog>
      </div>
      <QueryState query={providers} label="Loading providers">
        {(rows) => (
          <DataTable
            label="Providers"
            columns={columns}
            data={rows}
            getRowId={(p) => p.id}
            empty={
              <EmptyState icon={<Server />} title="No providers yet" action={<Button onClick={() => setAdding(true)}>Add your first provider</Button>}>
                Add an OpenAI, Anthropic, Gemini or OpenAI-compatible account to start routing requests.
              </EmptyState>
            }
          />
        )}
      </QueryState>
      <Dialog open={editing !== null} onOpenChange={(open) => !open && setEditing(null)}>
        {editing ? (
          <DialogContent title={`Edit ${editing.name}`} description="Changing the base URL or kind requires entering the key again.">
            <ProviderForm provider={editing} onDone={() => setEditing(null)} />
          </DialogContent>
        ) : null}
      </Dialog>
    </Card>
  );
}
