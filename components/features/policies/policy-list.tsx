"use client";
import { useQuery } from "@tanstack/react-query";
import { Plus, ShieldCheck } from "lucide-react";
import Link from "next/link";
import { formatRelative } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useCan } from "@/components/providers/current-user";
import { useTRPC } from "@/components/providers/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { EmptyState } from "@/components/ui/empty-state";
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";

type Policy = RouterOutputs["policies"]["list"][number];

const columns: ColumnDef<Policy, unknown>[] = [
  {
    accessorKey: "name",
    header: "Policy",
    cell: ({ row }) => (
      <div>
        <Link href={`/policies/${row.original.id}`} className="font-mono font-medium text-brand-700 hover:underline">
          {row.original.name}
        </Link>
        {row.original.description ? <div className="max-w-md truncate text-xs text-slate-500">{row.original.description}</div> : null}
      </div>
    ),
  },
  {
    id: "targets",
    header: "Targets, in order",
    enableSorting: false,
    cell: ({ row }) => (
      <ol className="flex flex-wrap items-center gap-1 text-xs">
        {row.original.document.targets.map((t, i) => (
          <li key={i} className="flex items-center gap-1">
            {i > 0 ? <span aria-hidden className="text-slate-400">→</span> : null}
            <span className="rounded bg-slate-100 px-1.5 py-0.5 font-mono">
              {t.provider}/{t.model}
            </span>
          </li>
        ))}
      </ol>
    ),
  },
  { id: "team", header: "Team", accessorFn: (p) => p.team?.name ?? "All teams" },
  { accessorKey: "version", header: "Version", cell: ({ row }) => `v${row.original.version}` },
  { accessorKey: "updatedAt", header: "Updated", cell: ({ row }) => formatRelative(row.original.updatedAt) },
  { accessorKey: "enabled", header: "Status", cell: ({ row }) => (row.original.enabled ? <Badge tone="success">Enabled</Badge> : <Badge>Disabled</Badge>) },
];

export function PolicyList() {
  const trpc = useTRPC();
  const canEdit = useCan("admin");
  const policies = useQuery(trpc.policies.list.queryOptions());
  const create = canEdit ? (
    <Button asChild>
      <Link href="/policies/new">
        <Plus aria-hidden /> New policy
      </Link>
    </Button>
  ) : null;
  return (
    <div className="mx-auto max-w-7xl">
      <PageHeader
        title="Policies"
        description="A policy is a model name your apps send (model: &quot;support-bot&quot;); Switchyard routes it to an ordered list of provider models, falling back on failures."
        actions={create}
      />
      <Card>
        <QueryState query={policies} label="Loading policies">
          {(rows) => (
            <DataTable
              label="Policies"
              columns={columns}
              data={rows}
              getRowId={(p) => p.id}
              empty={
                <EmptyState
                  icon={<ShieldCheck />}
                  title="No policies yet"
                  action={
                    canEdit ? (
                      <Button asChild variant="secondary">
                        <Link href="/policies/new">Create the first policy</Link>
                      </Button>
                    ) : null
                  }
                >
                  {canEdit ? "Create one to give your apps a stable model name with fallbacks." : "An admin has not created any policy you can use yet."}
                </EmptyState>
              }
            />
          )}
        </QueryState>
      </Card>
    </div>
  );
}
