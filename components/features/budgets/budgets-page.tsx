"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Plus } from "lucide-react";
import { useState } from "react";
import { formatDateTime, formatUsd } from "@/lib/format";
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
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";
import { useToast } from "@/components/ui/toast";
import { BudgetForm, SCOPE_LABELS } from "./budget-form";

type Budget = RouterOutputs["budgets"]["list"][number];
type AlertRow = RouterOutputs["budgets"]["alerts"][number];

function subject(b: Budget): string {
  if (b.scope === "organization") return "Whole organization";
  if (b.scope === "team") return b.teamName ?? "(deleted team)";
  if (b.scope === "api_key") return b.keyLabel ?? "(deleted key)";
  return b.endUser ? `End user ${b.endUser}` : "Each end user";
}

/** A bar of spend against the limit; red once over 100%. */
function Usage({ budget }: { budget: Budget }) {
  if (budget.percent === null) return <span className="text-xs text-slate-500">per end user</span>;
  const pct = Math.min(100, budget.percent);
  return (
    <div className="min-w-40">
      <div className="text-xs tabular-nums text-slate-700">
        {formatUsd(budget.spentUsd)} of {formatUsd(budget.limitUsd)} ({budget.percent.toFixed(1)}%)
      </div>
      <div className="mt-1 h-1.5 rounded bg-slate-100" role="progressbar" aria-valuenow={Math.round(budget.percent)} aria-valuemin={0} aria-valuemax={100} aria-label="Spend against limit">
        <div className={`h-1.5 rounded ${budget.percent >= 100 ? "bg-red-500" : budget.percent >= 80 ? "bg-amber-500" : "bg-brand-500"}`} style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}

export function BudgetsPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const canWrite = useCan("finance");
  const [editing, setEditing] = useState<Budget | "new" | null>(null);
  const budgets = useQuery(trpc.budgets.list.queryOptions());
  const alerts = useQuery(trpc.budgets.alerts.queryOptions({ limit: 50 }));
  const remove = useMutation(trpc.budgets.delete.mutationOptions());

  const columns: ColumnDef<Budget, unknown>[] = [
    { id: "subject", header: "Budget", accessorFn: subject, cell: ({ row }) => <span className="font-medium text-slate-900">{subject(row.original)}</span> },
    { accessorKey: "scope", header: "Scope", cell: ({ row }) => SCOPE_LABELS[row.original.scope] },
    { accessorKey: "period", header: "Period" },
    { id: "usage", header: "Spend this period", enableSorting: false, cell: ({ row }) => <Usage budget={row.original} /> },
    { id: "mode", header: "When exhausted", cell: ({ row }) => (row.original.hard ? <Badge tone="danger">Block</Badge> : <Badge tone="warning">Alert only</Badge>) },
    { id: "thresholds", header: "Alerts at", enableSorting: false, cell: ({ row }) => row.original.alertThresholds.map((t) => `${t}%`).join(", ") },
    actionsColumn(({ row }) =>
      canWrite ? (
        <div className="flex gap-1">
          <Button variant="ghost" size="sm" onClick={() => setEditing(row.original)} aria-label={`Edit budget ${subject(row.original)}`}>
            Edit
          </Button>
          <ConfirmDialog
            title="Delete this budget?"
            confirmLabel="Delete budget"
            trigger={
              <Button variant="ghost" size="sm" aria-label={`Delete budget ${subject(row.original)}`}>
                Delete
              </Button>
            }
            onConfirm={async () => {
              await remove.mutateAsync({ id: row.original.id });
              await queryClient.invalidateQueries({ queryKey: trpc.budgets.list.queryKey() });
              toast.success("Budget deleted");
            }}
          >
            <p>Calls are no longer capped or alerted by it.</p>
          </ConfirmDialog>
        </div>
      ) : null),
  ];

  const alertColumns: ColumnDef<AlertRow, unknown>[] = [
    { accessorKey: "createdAt", header: "When", cell: ({ row }) => formatDateTime(row.original.createdAt) },
    { id: "budget", header: "Budget", accessorFn: (a) => `${SCOPE_LABELS[a.budget.scope]} · ${a.budget.period}${a.subject ? ` · ${a.subject}` : ""}` },
    { accessorKey: "threshold", header: "Threshold", cell: ({ row }) => `${row.original.threshold}%` },
    { id: "spend", header: "Spend / limit", cell: ({ row }) => `${formatUsd(row.original.spendUsd)} / ${formatUsd(row.original.limitUsd)}` },
    { accessorKey: "webhookStatus", header: "Webhook", cell: ({ row }) => <Badge tone={row.original.webhookStatus === "delivered" ? "success" : row.original.webhookStatus === "none" ? "neutral" : "warning"}>{row.original.webhookStatus}</Badge> },
  ];

  return (
    <div className="mx-auto max-w-7xl space-y-6">
      <PageHeader
        title="Budgets & alerts"
        description="Spend caps per organization, team, key or end user. Hard budgets answer 429 once exhausted; alerts fire at each threshold."
        actions={
          canWrite ? (
            <Button onClick={() => setEditing("new")}>
              <Plus aria-hidden /> Create budget
            </Button>
          ) : null
        }
      />
      <Card>
        <QueryState query={budgets} label="Loading budgets" isEmpty={(d) => d.length === 0} empty={<EmptyState title="No budgets yet">Create one to cap spend or get alerted.</EmptyState>}>
          {(rows) => <DataTable label="Budgets" columns={columns} data={rows} getRowId={(b) => b.id} empty="No budgets" />}
        </QueryState>
      </Card>
      <Card>
        <CardHeader>
          <CardTitle>Recent alerts</CardTitle>
        </CardHeader>
        <QueryState query={alerts} label="Loading alerts">
          {(rows) => <DataTable label="Budget alerts" columns={alertColumns} data={rows} getRowId={(a) => a.id} empty={<EmptyState title="No alerts yet" />} />}
        </QueryState>
      </Card>
      <Dialog open={editing !== null} onOpenChange={(open) => (open ? undefined : setEditing(null))}>
        <DialogContent title={editing === "new" ? "Create a budget" : "Edit budget"} className="max-w-2xl">
          {editing !== null ? <BudgetForm budget={editing === "new" ? undefined : editing} onDone={() => setEditing(null)} /> : null}
        </DialogContent>
      </Dialog>
    </div>
  );
}
