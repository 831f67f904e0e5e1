"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Area, AreaChart, Bar, BarChart, Line, LineChart } from "recharts";
import type { Range } from "@/lib/contracts/analytics";
import { formatUsd } from "@/lib/format";
import { useTRPC } from "@/components/providers/trpc";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";
import { ChartBox, timeSeriesFrame } from "../analytics/chart";
import { LEVERS } from "../analytics/levers";
import { RangePicker } from "../analytics/range-picker";
import { Stat } from "../analytics/stat";

/** What the traffic would have cost without Switchyard (baseline) against what it cost, and which lever saved what. */
export function SavingsPage() {
  const trpc = useTRPC();
  const [range, setRange] = useState<Range>("30d");
  const overview = useQuery(trpc.analytics.overview.queryOptions({ range }));
  const series = useQuery(trpc.analytics.series.queryOptions({ range }));
  return (
    <div className="mx-auto max-w-7xl space-y-6">
      <PageHeader title="Savings" description="Baseline cost (the requested model, no cache, no batch) against actual cost." actions={<RangePicker value={range} onChange={setRange} />} />
      <QueryState query={overview} label="Loading savings">
        {(o) => (
          <dl className="grid grid-cols-2 gap-3 md:grid-cols-3 lg:grid-cols-6">
            <Stat label="Saved" value={formatUsd(o.range.savingsTotalUsd)} hint={`Baseline ${formatUsd(o.range.baselineCostUsd)}`} />
            {LEVERS.map(([key, label]) => (
              <Stat key={key} label={label} value={formatUsd(o.range.savings[key])} />
            ))}
          </dl>
        )}
      </QueryState>
      <QueryState query={series} label="Loading charts">
        {(s) => (
          <>
            <Card>
              <CardHeader>
                <CardTitle>Baseline vs actual</CardTitle>
              </CardHeader>
              <CardContent>
                <ChartBox label="Baseline and actual cost over time">
                  <LineChart data={s.points}>
                    {timeSeriesFrame(s.bucket)}
                    <Line type="monotone" dataKey="baseline" name="Baseline (USD)" stroke="#94a3b8" dot={false} />
                    <Line type="monotone" dataKey="cost" name="Actual (USD)" stroke="#4f46e5" dot={false} />
                  </LineChart>
                </ChartBox>
              </CardContent>
            </Card>
            <Card>
              <CardHeader>
                <CardTitle>Savings by lever</CardTitle>
              </CardHeader>
              <CardContent>
                <ChartBox label="Savings by lever over time">
                  {s.bucket === "day" ? (
                    <BarChart data={s.points}>
                      {timeSeriesFrame(s.bucket)}
                      {LEVERS.map(([key, label, color]) => (
                        <Bar key={key} dataKey={key} name={label} stackId="levers" fill={color} />
                      ))}
                    </BarChart>
                  ) : (
                    <AreaChart data={s.points}>
                      {timeSeriesFrame(s.bucket)}
                      {LEVERS.map(([key, label, color]) => (
                        <Area key={key} type="monotone" dataKey={key} name={label} stackId="levers" stroke={color} fill={color} fillOpacity={0.4} />
                      ))}
                    </AreaChart>
                  )}
                </ChartBox>
              </CardContent>
            </Card>
          </>
        )}
      </QueryState>
    </div>
  );
}
