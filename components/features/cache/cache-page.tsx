"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Plus } from "lucide-react";
import { useState } from "react";
import { formatInteger } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useCan } from "@/components/providers/current-user";
import { useTRPC } from "@/components/providers/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card, CardHeader, CardTitle } from "@/components/ui/card";
import { ConfirmDialog } from "@/components/ui/confirm-dialog";
import { actionsColumn, DataTable, type ColumnDef } from "@/components/ui/data-table";
import { Dialog, DialogContent } from "@/components/ui/dialog";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";
import { useToast } from "@/components/ui/toast";
import { formatPercent, Stat } from "../analytics/stat";
import { CacheRuleForm } from "./cache-rule-form";
import { TeamSelect } from "@/components/features/teams/team-select";

type Rule = RouterOutputs["cacheRules"]["list"][number];

function modes(r: Rule): string {
  const m = [r.exact && "exact", r.semantic && `semantic ≥ ${r.threshold}`].filter(Boolean);
  return m.length ? m.join(" + ") : "off";
}

export function CachePage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const isAdmin = useCan("admin");
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const [purgeTeam, setPurgeTeam] = useState("");
  const rules = useQuery(trpc.cacheRules.list.queryOptions());
  const stats = useQuery(trpc.cacheRules.stats.queryOptions({ days: 7 }));
  const remove = useMutation(trpc.cacheRules.delete.mutationOptions());
  const bump = useMutation(trpc.cacheRules.bumpNamespace.mutationOptions());
  const purge = useMutation(trpc.cacheRules.purge.mutationOptions());

  const columns: ColumnDef<Rule, unknown>[] = [
    { accessorKey: "name", header: "Rule", cell: ({ row }) => <span className="font-medium text-slate-900">{row.original.name}</span> },
    { id: "applies", header: "Applies to", cell: ({ row }) => `${row.original.team?.name ?? "Every team"} · ${row.original.policy?.name ?? "every policy"}` },
    { id: "modes", header: "Matching", accessorFn: modes },
    { accessorKey: "ttlSeconds", header: "TTL", cell: ({ row }) => `${row.original.ttlSeconds} s` },
    { id: "endpoints", header: "Endpoints", enableSorting: false, cell: ({ row }) => <span className="text-xs">{row.original.endpoints.join(", ")}</span> },
    {
      id: "state",
      header: "State",
      cell: ({ row }) => (!row.original.enabled ? <Badge>Disabled</Badge> : row.original.shadow ? <Badge tone="info">Shadow</Badge> : <Badge tone="success">Serving</Badge>),
    },
    actionsColumn(({ row }) =>
      isAdmin ? (
        <div className="flex gap-1">
          <Button variant="ghost" size="sm" onClick={() => setEditing(row.original)} aria-label={`Edit rule ${row.original.name}`}>
            Edit
          </Button>
          <ConfirmDialog
            title={`Invalidate every entry of ${row.original.name}?`}
            confirmLabel="Invalidate"
            trigger={<Button variant="ghost" size="sm" aria-label={`Invalidate rule ${row.original.name}`}>Invalidate</Button>}
            onConfirm={async () => {
              await bump.mutateAsync({ id: row.original.id });
              toast.success(`Entries of ${row.original.name} invalidated`);
            }}
          >
            <p>Stored answers of this rule are never served again; new ones are stored as calls come in.</p>
          </ConfirmDialog>
          <ConfirmDialog
            title={`Delete ${row.original.name}?`}
            confirmLabel="Delete rule"
            trigger={<Button variant="ghost" size="sm" aria-label={`Delete rule ${row.original.name}`}>Delete</Button>}
            onConfirm={async () => {
              await remove.mutateAsync({ id: row.original.id });
              await queryClient.invalidateQueries({ queryKey: trpc.cacheRules.list.queryKey() });
              toast.success(`Deleted ${row.original.name}`);
            }}
          >
            <p>Calls it matched fall back to a less specific rule or the built-in default.</p>
          </ConfirmDialog>
        </div>
      ) : null),
  ];

  return (
    <div className="mx-auto max-w-7xl space-y-6">
      <PageHeader
        title="Cache"
        description="Which calls the response cache may answer. Without a rule, only requests with temperature 0 are cached, exactly, per team, for an hour."
        actions={
          isAdmin ? (
            <Button onClick={() => setEditing("new")}>
              <Plus aria-hidden /> New rule
            </Button>
          ) : null
        }
      />
      <QueryState query={stats} label="Loading cache statistics">
        {(s) => (
          <dl className="grid grid-cols-2 gap-3 md:grid-cols-5">
            <Stat label="Hit rate (7 days)" value={formatPercent(s.hitRate)} hint={`${formatInteger(s.lookups)} lookups`} />
            <Stat label="Exact hits" value={formatInteger(s.counts["hit"] ?? 0)} />
            <Stat label="Semantic hits" value={formatInteger(s.counts["semantic-hit"] ?? 0)} />
            <Stat label="Shadow results" value={formatInteger(s.counts["shadow"] ?? 0)} hint="Would have been served" />
            <Stat label="Bypassed" value={formatInteger(s.counts["bypass"] ?? 0)} />
          </dl>
        )}
      </QueryState>
      <Card>
        <QueryState query={rules} label="Loading rules" isEmpty={(d) => d.length === 0} empty={<EmptyState title="No cache rules">The built-in default applies.</EmptyState>}>
          {(rows) => <DataTable label="Cache rules" columns={columns} data={rows} getRowId={(r) => r.id} empty="No rules" />}
        </QueryState>
      </Card>
      {isAdmin ? (
        <Card>
          <CardHeader>
            <CardTitle>Purge</CardTitle>
          </CardHeader>
          <div className="flex flex-wrap items-end gap-3 px-5 py-4">
            <Field label="Entries of">
              <TeamSelect value={purgeTeam} onChange={(e) => setPurgeTeam(e.target.value)} emptyLabel="Every team" />
            </Field>
            <ConfirmDialog
              title="Purge the cache?"
              confirmLabel="Purge"
              trigger={<Button variant="secondary">Purge cache</Button>}
              onConfirm={async () => {
                await purge.mutateAsync(purgeTeam ? { teamId: purgeTeam } : {});
                toast.success("Cache purged");
              }}
            >
              <p>Every stored answer {purgeTeam ? "of this team " : ""}is dropped on every instance within a second.</p>
            </ConfirmDialog>
          </div>
        </Card>
      ) : null}
      <Dialog open={editing !== null} onOpenChange={(open) => (open ? undefined : setEditing(null))}>
        <DialogContent title={editing === "new" ? "New cache rule" : "Edit cache rule"} className="max-w-2xl">
          {editing !== null ? <CacheRuleForm rule={editing === "new" ? undefined : editing} onDone={() => setEditing(null)} /> : null}
        </DialogContent>
      </Dialog>
    </div>
  );
}
