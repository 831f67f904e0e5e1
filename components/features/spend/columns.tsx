"use client";
import type { Breakdown } from "@/lib/contracts/analytics";
import { formatInteger, formatTokens, formatUsd } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import type { ColumnDef } from "@/components/ui/data-table";

type Row = RouterOutputs["analytics"]["breakdown"][number];

export const BREAKDOWN_LABELS: Record<Breakdown, string> = { team: "Team", apiKey: "API key", policy: "Policy", providerKind: "Provider", model: "Model" };

/** Columns of a spend breakdown table; `by` names the first column. */
export const breakdownColumns = (by: string): ColumnDef<Row, unknown>[] => [
  { accessorKey: "label", header: by, cell: ({ row }) => <span className="font-medium text-slate-900">{row.original.label}</span> },
  { accessorKey: "calls", header: "Requests", meta: { className: "text-right tabular-nums" }, cell: ({ row }) => formatInteger(row.original.calls) },
  { id: "tokens", header: "Tokens in / out", enableSorting: false, meta: { className: "text-right tabular-nums" }, cell: ({ row }) => `${formatTokens(row.original.inputTokens)} / ${formatTokens(row.original.outputTokens)}` },
  { id: "cost", header: "Spend", accessorFn: (r) => Number(r.costUsd), meta: { className: "text-right tabular-nums" }, cell: ({ row }) => formatUsd(row.original.costUsd) },
  { id: "saved", header: "Saved", accessorFn: (r) => Number(r.savingsTotalUsd), meta: { className: "text-right tabular-nums" }, cell: ({ row }) => formatUsd(row.original.savingsTotalUsd) },
];

