"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Area, AreaChart, YAxis } from "recharts";
import type { Range } from "@/lib/contracts/analytics";
import { formatInteger, formatUsd } from "@/lib/format";
import { useTRPC } from "@/components/providers/trpc";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { QueryState } from "@/components/ui/query-state";
import { ChartBox, timeSeriesFrame } from "../analytics/chart";
import { LEVERS } from "../analytics/levers";
import { RangePicker } from "../analytics/range-picker";
import { formatPercent, Stat } from "../analytics/stat";

/** Overview numbers and the spend / traffic chart, for the selected range. */
export function OverviewDashboard() {
  const trpc = useTRPC();
  const [range, setRange] = useState<Range>("7d");
  const overview = useQuery(trpc.analytics.overview.queryOptions({ range }));
  const series = useQuery(trpc.analytics.series.queryOptions({ range }));
  return (
    <section aria-label="Usage" className="mt-6 space-y-4">
      <div className="flex items-center justify-between">
        <h2 className="text-lg font-semibold text-slate-900">Usage</h2>
        <RangePicker value={range} onChange={setRange} />
      </div>
      <QueryState query={overview} label="Loading usage">
        {(o) => (
          <dl className="grid grid-cols-2 gap-3 md:grid-cols-4">
            <Stat label="Spend today" value={formatUsd(o.todayUsd)} />
            <Stat label="Month to date" value={formatUsd(o.monthToDateUsd)} hint={`Forecast ${formatUsd(o.forecastMonthEndUsd)} by month end`} />
            <Stat
              label="Saved this month"
              value={formatUsd(o.monthSavingsTotalUsd)}
              hint={LEVERS.filter(([k]) => o.monthSavings[k] !== "0").map(([k, label]) => `${label} ${formatUsd(o.monthSavings[k])}`).join(" · ") || "No savings yet"}
            />
            <Stat label="Requests" value={formatInteger(o.range.requests)} hint={`Spend ${formatUsd(o.range.costUsd)}`} />
            <Stat label="Cache hit rate" value={formatPercent(o.range.cacheHitRate)} />
            <Stat label="p50 latency" value={o.range.p50LatencyMs === null ? "—" : `${o.range.p50LatencyMs} ms`} />
            <Stat label="p95 latency" value={o.range.p95LatencyMs === null ? "—" : `${o.range.p95LatencyMs} ms`} />
            <Stat label="Error rate" value={formatPercent(o.range.errorRate)} />
          </dl>
        )}
      </QueryState>
      <Card>
        <CardHeader>
          <CardTitle>Spend and requests</CardTitle>
        </CardHeader>
        <CardContent>
          <QueryState query={series} label="Loading chart">
            {(s) => (
              <ChartBox label={`Spend and requests per ${s.bucket}`}>
                <AreaChart data={s.points} margin={{ left: 8, right: 8 }}>
                  {timeSeriesFrame(s.bucket, { usdAxisId: "usd", secondAxis: <YAxis key="calls" yAxisId="calls" orientation="right" fontSize={11} /> })}
                  <Area yAxisId="usd" type="monotone" dataKey="cost" name="Spend (USD)" stroke="#4f46e5" fill="#c7d2fe" />
                  <Area yAxisId="calls" type="monotone" dataKey="calls" name="Requests" stroke="#0f766e" fill="#99f6e4" fillOpacity={0.3} />
                </AreaChart>
              </ChartBox>
            )}
          </QueryState>
        </CardContent>
      </Card>
    </section>
  );
}
