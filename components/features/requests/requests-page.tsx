"use client";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useMemo, useState } from "react";
import { CACHE_OUTCOMES, STATUS_CLASSES, type CallFilters } from "@/lib/contracts/calls";
import { formatDateTime, formatTokens, formatUsd } from "@/lib/format";
import type { RouterOutputs } from "@/components/providers/api-types";
import { useCurrentUser } from "@/components/providers/current-user";
import { useTRPC } from "@/components/providers/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Card } from "@/components/ui/card";
import { DataTable, type ColumnDef } from "@/components/ui/data-table";
import { EmptyState } from "@/components/ui/empty-state";
import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";
import { CallDetail } from "./call-detail";

type CallRow = RouterOutputs["calls"]["list"]["items"][number];

/** Time windows of the filter; the URL keeps the name, the query gets an instant. */
const WINDOWS = { "1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 } as const;
type WindowName = keyof typeof WINDOWS;
const FILTER_KEYS = ["range", "teamId", "apiKeyId", "policy", "model", "providerKind", "statusClass", "cache"] as const;

function statusTone(status: number): "success" | "warning" | "danger" {
  return status < 400 ? "success" : status < 500 ? "warning" : "danger";
}

/** URL search params → typed filters (unknown values are ignored, not sent). */
function filtersFrom(params: URLSearchParams, now: number): CallFilters {
  const get = (k: string) => params.get(k) || undefined;
  const range = get("range") as WindowName | undefined;
  const statusClass = get("statusClass");
  const cache = get("cache");
  return {
    ...(range && range in WINDOWS ? { from: new Date(now - WINDOWS[range]) } : {}),
    teamId: get("teamId"),
    apiKeyId: get("apiKeyId"),
    policy: get("policy"),
    model: get("model"),
    providerKind: get("providerKind"),
    statusClass: STATUS_CLASSES.find((s) => s === statusClass),
    cache: CACHE_OUTCOMES.find((c) => c === cache),
  };
}

export function RequestsPage() {
  const trpc = useTRPC();
  const user = useCurrentUser();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const [openId, setOpenId] = useState<string | null>(null);
  const paramString = params.toString();
  // The window's start is fixed when the filters change, so the query key is stable between renders.
  const filters = useMemo(() => filtersFrom(new URLSearchParams(paramString), Date.now()), [paramString]);
  const facets = useQuery(trpc.calls.facets.queryOptions());
  const teams = useQuery(trpc.teams.list.queryOptions());
  const keys = useQuery(trpc.apiKeys.list.queryOptions({ includeRevoked: true }));
  const calls = useInfiniteQuery(trpc.calls.list.infiniteQueryOptions({ ...filters, limit: 50 }, { getNextPageParam: (last) => last.nextCursor }));

  function setFilter(key: (typeof FILTER_KEYS)[number], value: string) {
    const next = new URLSearchParams(paramString);
    if (value) next.set(key, value);
    else next.delete(key);
    router.replace(`${pathname}${next.size ? `?${next}` : ""}`, { scroll: false });
  }

  const select = (key: (typeof FILTER_KEYS)[number], label: string, options: Array<{ value: string; label: string }>) => (
    <Field label={label} className="min-w-36">
      <Select value={params.get(key) ?? ""} onChange={(e) => setFilter(key, e.target.value)}>
        <option value="">All</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </Select>
    </Field>
  );
  const plain = (values: readonly string[] | undefined) => (values ?? []).map((v) => ({ value: v, label: v }));

  const columns: ColumnDef<CallRow, unknown>[] = [
    {
      accessorKey: "createdAt",
      header: "Time",
      // The time opens the detail: one focusable control per row keeps the table narrow enough for a laptop.
      cell: ({ row }) => (
        <button
          type="button"
          onClick={() => setOpenId(row.original.id)}
          aria-label={`Details of call ${row.original.id}`}
          className="text-left text-xs text-brand-700 underline-offset-2 hover:underline focus-visible:outline-2 focus-visible:outline-brand-500"
        >
          {formatDateTime(row.original.createdAt)}
        </button>
      ),
    },
    {
      id: "key",
      header: "Key",
      cell: ({ row }) =>
        row.original.playground ? (
          <Badge tone="info" title={row.original.keyName ?? undefined}>
            Playground
          </Badge>
        ) : row.original.keyPrefix ? (
          <code className="whitespace-nowrap font-mono text-xs">{row.original.keyPrefix}…</code>
        ) : (
          "—"
        ),
    },
    { id: "team", header: "Team", cell: ({ row }) => <span className="text-xs">{row.original.teamName ?? "—"}</span> },
    { accessorKey: "policy", header: "Policy", cell: ({ row }) => <span className="whitespace-nowrap text-xs">{row.original.policy ?? "—"}</span> },
    {
      id: "target",
      header: "Target",
      cell: ({ row }) => <span className="break-all font-mono text-xs">{row.original.model ? `${row.original.providerKind ?? "?"}/${row.original.model}` : (row.original.requestedModel ?? "—")}</span>,
    },
    { accessorKey: "status", header: "Status", cell: ({ row }) => <Badge tone={statusTone(row.original.status)}>{row.original.status}</Badge> },
    { id: "tokens", header: "Tokens", meta: { className: "text-right tabular-nums" }, cell: ({ row }) => `${formatTokens(row.original.inputTokens)} / ${formatTokens(row.original.outputTokens)}` },
    { id: "cost", header: "Cost", meta: { className: "text-right tabular-nums" }, cell: ({ row }) => formatUsd(row.original.costUsd) },
    { id: "latency", header: "Latency", meta: { className: "text-right tabular-nums" }, cell: ({ row }) => (row.original.latencyMs === null ? "—" : `${row.original.latencyMs} ms`) },
    { id: "cache", header: "Cache", cell: ({ row }) => <span className="text-xs">{row.original.cacheOutcome ?? "—"}</span> },
  ];

  const rows = calls.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="mx-auto max-w-7xl">
      <PageHeader
        title="Requests"
        description={user.role === "developer" ? "Calls made with your team's keys, newest first." : "Every call through the gateway, newest first."}
      />
      <Card>
        <div className="flex flex-wrap items-end gap-3 border-b border-slate-100 px-5 py-3" role="group" aria-label="Filters">
          {select("range", "Time", [
            { value: "1h", label: "Last hour" },
            { value: "24h", label: "Last 24 hours" },
            { value: "7d", label: "Last 7 days" },
            { value: "30d", label: "Last 30 days" },
          ])}
          {user.role !== "developer" ? select("teamId", "Team", (teams.data ?? []).map((t) => ({ value: t.id, label: t.name }))) : null}
          {select("apiKeyId", "Key", (keys.data ?? []).map((k) => ({ value: k.id, label: `${k.name} (${k.prefix}…)` })))}
          {select("policy", "Policy", plain(facets.data?.policies))}
          {select("providerKind", "Provider", plain(facets.data?.providerKinds))}
          {select("model", "Model", plain(facets.data?.models))}
          {select("statusClass", "Status", STATUS_CLASSES.map((s) => ({ value: s, label: s })))}
          {select("cache", "Cache", CACHE_OUTCOMES.map((c) => ({ value: c, label: c === "none" ? "not cacheable" : c })))}
          {paramString ? (
            <Button variant="secondary" size="sm" onClick={() => router.replace(pathname, { scroll: false })}>
              Clear filters
            </Button>
          ) : null}
        </div>
        <QueryState query={calls} label="Loading calls">
          {() => (
            <>
              <DataTable
                label="Calls"
                columns={columns}
                data={rows}
                manualSorting
                getRowId={(r) => r.id}
                empty={<EmptyState title="No calls match">Calls appear here a second after they finish.</EmptyState>}
              />
              {calls.hasNextPage ? (
                <div className="flex justify-center border-t border-slate-100 p-3">
                  <Button variant="secondary" loading={calls.isFetchingNextPage} onClick={() => void calls.fetchNextPage()}>
                    Load more
                  </Button>
                </div>
              ) : null}
            </>
          )}
        </QueryState>
      </Card>
      <CallDetail id={openId} onClose={() => setOpenId(null)} />
    </div>
  );
}
