"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { KeyRound, Plus } from "lucide-react";
import { useState } from "react";
import { formatDate, formatRelative } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useCan, useCurrentUser } from "@/components/providers/current-user";
import { useTRPC } from "@/components/providers/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { actionsColumn, DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { Checkbox } from "@/components/ui/input";
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";
import { useToast } from "@/components/ui/toast";
import { CreateKeyForm } from "./create-key-form";
import { TeamSelect } from "@/components/features/teams/team-select";

type ApiKey = RouterOutputs["apiKeys"]["list"][number];

function status(key: ApiKey): { label: string; tone: "success" | "danger" | "neutral" } {
  if (key.revokedAt) return { label: "Revoked", tone: "danger" };
  if (key.disabledAt) return { label: "Disabled", tone: "neutral" };
  if (key.expiresAt && new Date(key.expiresAt).getTime() <= Date.now()) return { label: "Expired", tone: "neutral" };
  return { label: "Active", tone: "success" };
}

export function KeysPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const user = useCurrentUser();
  const canWrite = useCan("developer");
  const [teamId, setTeamId] = useState("");
  const [includeRevoked, setIncludeRevoked] = useState(false);
  const [creating, setCreating] = useState(false);
  const keys = useQuery(trpc.apiKeys.list.queryOptions({ ...(teamId ? { teamId } : {}), includeRevoked }));
  const revoke = useMutation(trpc.apiKeys.revoke.mutationOptions());
  const setDisabled = useMutation(trpc.apiKeys.setDisabled.mutationOptions());
  const toggle = async (key: ApiKey) => {
    const disabled = key.disabledAt === null;
    try {
      await setDisabled.mutateAsync({ id: key.id, disabled });
      await queryClient.invalidateQueries({ queryKey: trpc.apiKeys.list.queryKey() });
      toast.success(disabled ? `Disabled ${key.name}: its requests now get 401` : `Enabled ${key.name}`);
    } catch (error) {
      toast.error(error instanceof Error ? error.message : "Could not change the key");
    }
  };

  const columns: ColumnDef<ApiKey, unknown>[] = [
    {
      accessorKey: "name",
      header: "Name",
      cell: ({ row }) => (
        <span className="inline-flex items-center gap-2 font-medium text-slate-900">
          {row.original.name}
          {row.original.kind === "playground" ? <Badge tone="info">Playground</Badge> : null}
          {row.original.deferrable ? <Badge tone="info">Deferred</Badge> : null}
        </span>
      ),
    },
    {
      accessorKey: "prefix",
      header: "Key",
      enableSorting: false,
      // A playground key has no secret anyone could hold (it works only inside the Playground): no prefix to show.
      cell: ({ row }) => (row.original.kind === "playground" ? <span className="text-xs text-slate-500">internal</span> : <code className="font-mono text-xs">{row.original.prefix}…</code>),
    },
    { id: "team", header: "Team", accessorFn: (k) => k.team.name },
    { id: "owner", header: "Created by", accessorFn: (k) => k.owner?.email ?? "—", cell: ({ getValue }) => <span className="text-xs">{String(getValue())}</span> },
    {
      id: "models",
      header: "Models",
      enableSorting: false,
      cell: ({ row }) => (row.original.allowedModels.length === 0 ? <span className="text-xs text-slate-500">all</span> : <span className="font-mono text-xs">{row.original.allowedModels.join(", ")}</span>),
    },
    { accessorKey: "createdAt", header: "Created", cell: ({ row }) => formatDate(row.original.createdAt) },
    { accessorKey: "lastUsedAt", header: "Last used", cell: ({ row }) => formatRelative(row.original.lastUsedAt) },
    { accessorKey: "expiresAt", header: "Expires", cell: ({ row }) => (row.original.expiresAt ? formatDate(row.original.expiresAt) : "never") },
    {
      id: "status",
      header: "Status",
      accessorFn: (k) => status(k).label,
      cell: ({ row }) => {
        const s = status(row.original);
        return <Badge tone={s.tone}>{s.label}</Badge>;
      },
    },
    actionsColumn(({ row }) =>
      canWrite && !row.original.revokedAt ? (
        <span className="inline-flex gap-1">
          {row.original.kind === "playground" ? null : (
            <Button variant="ghost" size="sm" aria-label={`${row.original.disabledAt ? "Enable" : "Disable"} ${row.original.name}`} disabled={setDisabled.isPending} onClick={() => void toggle(row.original)}>
              {row.original.disabledAt ? "Enable" : "Disable"}
            </Button>
          )}
          <ConfirmDialog
            title={`Revoke ${row.original.name}?`}
            confirmLabel="Revoke key"
            trigger={
              <Button variant="ghost" size="sm" aria-label={`Revoke ${row.original.name}`}>
                Revoke
              </Button>
            }
            onConfirm={async () => {
              await revoke.mutateAsync({ id: row.original.id });
              await queryClient.invalidateQueries({ queryKey: trpc.apiKeys.list.queryKey() });
              toast.success(`Revoked ${row.original.name}`);
            }}
          >
            {row.original.kind === "playground" ? (
              <p>The Playground stops using this key; the owner&apos;s next send creates a new one.</p>
            ) : (
              <p>
                Requests with <code className="font-mono">{row.original.prefix}…</code> fail with 401 within a second. This cannot be undone.
              </p>
            )}
          </ConfirmDialog>
        </span>
      ) : null),
  ];

  const create = canWrite ? (
    <Button onClick={() => setCreating(true)}>
      <Plus aria-hidden /> Create API key
    </Button>
  ) : null;

  return (
    <div className="mx-auto max-w-7xl">
      <PageHeader
        title="API keys"
        description={
          user.role === "developer"
            ? "Keys of your team. Apps use them with the OpenAI or Anthropic SDK against this gateway."
            : "Virtual keys your apps use against the gateway; each belongs to a team."
        }
        actions={create}
      />
      <Card>
        <div className="flex flex-wrap items-end gap-4 border-b border-slate-100 px-5 py-3">
          {user.role === "developer" ? null : (
            <Field label="Team" className="w-56">
              <TeamSelect value={teamId} onChange={(e) => setTeamId(e.target.value)} emptyLabel="All teams" />
            </Field>
          )}
          <Checkbox className="pb-2" label="Show revoked keys" checked={includeRevoked} onChange={(e) => setIncludeRevoked(e.target.checked)} />
        </div>
        <QueryState query={keys} label="Loading API keys">
          {(rows) => (
            <DataTable
              label="API keys"
              columns={columns}
              data={rows}
              getRowId={(k) => k.id}
              rowClassName={(k) => (k.revokedAt ? "text-slate-400" : undefined)}
              empty={
                <EmptyState
                  icon={<KeyRound />}
                  title="No API keys"
                  action={canWrite ? <Button variant="secondary" onClick={() => setCreating(true)}>Create your first key</Button> : null}
                >
                  {canWrite ? "Create a key, then point your OpenAI SDK at this gateway with it." : "No team has created a key yet."}
                </EmptyState>
              }
            />
          )}
        </QueryState>
      </Card>
      {canWrite ? (
        <Dialog open={creating} onOpenChange={setCreating}>
          <DialogContent title="Create an API key" description="Apps send it as a Bearer token to /api/v1. It is shown once.">
            <CreateKeyForm onDone={() => setCreating(false)} />
          </DialogContent>
        </Dialog>
      ) : null}
    </div>
  );
}
