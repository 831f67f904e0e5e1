"use client";
import { useQuery } from "@tanstack/react-query";
import { parseDecimal, decimalToString } from "@/server/catalog/money";
import { formatInteger, formatUsd } from "@/lib/format";
import { useTRPC } from "@/components/providers/trpc";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { DataTable } from "@/components/ui/data-table";
import { QueryState } from "@/components/ui/query-state";
import { Stat } from "../analytics/stat";
import { breakdownColumns } from "./columns";

/** Change against the previous month, as "+$1.20 (+12.0%)". */
function change(current: string, previous: string): string {
  const delta = parseDecimal(current) - parseDecimal(previous);
  const sign = delta >= 0n ? "+" : "";
  const pct = parseDecimal(previous) === 0n ? "" : ` (${sign}${((Number(delta) / Number(parseDecimal(previous))) * 100).toFixed(1)}%)`;
  return `${sign}${formatUsd(decimalToString(delta))}${pct}`;
}

/** The month-end report: totals, the change since last month, and spend by team, provider and model. */
export function MonthReport({ month }: { month: string }) {
  const trpc = useTRPC();
  const report = useQuery(trpc.analytics.report.queryOptions({ month }));
  return (
    <QueryState query={report} label="Loading report">
      {(r) => (
        <div className="space-y-4" aria-label={`Report for ${month}`}>
          <dl className="grid grid-cols-2 gap-3 md:grid-cols-4">
            <Stat label={`Spend ${r.month}`} value={formatUsd(r.current.costUsd)} hint={`${change(r.current.costUsd, r.previous.costUsd)} vs ${r.previousMonth}`} />
            <Stat label="Without Switchyard" value={formatUsd(r.current.baselineCostUsd)} hint="Baseline cost" />
            <Stat label="Saved" value={formatUsd(r.current.savingsTotalUsd)} />
            <Stat label="Requests" value={formatInteger(r.current.calls)} hint={`${formatInteger(r.current.errors)} errors`} />
          </dl>
          {(
            [
              ["By team", "Team", r.teams],
              ["By provider", "Provider", r.providers],
              ["By model", "Model", r.models],
            ] as const
          ).map(([title, column, rows]) => (
            <Card key={title}>
              <CardHeader>
                <CardTitle>{title}</CardTitle>
              </CardHeader>
              <CardContent className="p-0">
                <DataTable label={`${title} in ${r.month}`} columns={breakdownColumns(column)} data={[...rows]} empty="No spend" />
              </CardContent>
            </Card>
          ))}
        </div>
      )}
    </QueryState>
  );
}
