"use client";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { Range } from "@/lib/contracts/analytics";
import { formatUsd } from "@/lib/format";
import { useTRPC } from "@/components/providers/trpc";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";
import { bucketLabel, RangePicker } from "../analytics/range-picker";
import { Stat } from "../analytics/stat";

const LEVERS = [
  ["routing", "Routing", "#4f46e5"],
  ["cache", "Response cache", "#0f766e"],
  ["promptCache", "Prompt cache", "#0891b2"],
  ["batch", "Batch", "#d97706"],
  ["caps", "Caps", "#be123c"],
  ["compression", "Compression", "#65a30d"],
] as const;

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
                <div className="h-64" role="img" aria-label="Baseline and actual cost over time">
                  <ResponsiveContainer width="100%" height="100%">
                    <LineChart data={s.points}>
                      <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                      <XAxis dataKey="t" tickFormatter={(t: number) => bucketLabel(t, s.bucket)} minTickGap={32} fontSize={11} />
                      <YAxis tickFormatter={(v: number) => `$${v}`} fontSize={11} />
                      <Tooltip labelFormatter={(t) => bucketLabel(Number(t), s.bucket)} />
                      <Legend />
                      <Line type="monotone" dataKey="baseline" name="Baseline (USD)" stroke="#94a3b8" dot={false} />
                      <Line type="monotone" dataKey="cost" name="Actual (USD)" stroke="#4f46e5" dot={false} />
                    </LineChart>
                  </ResponsiveContainer>
                </div>
              </CardContent>
            </Card>
            <Card>
              <CardHeader>
                <CardTitle>Savings by lever</CardTitle>
              </CardHeader>
              <CardContent>
                <div className="h-64" role="img" aria-label="Savings by lever over time">
                  <ResponsiveContainer width="100%" height="100%">
                    {s.bucket === "day" ? (
                      <BarChart data={s.points}>
                        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                        <XAxis dataKey="t" tickFormatter={(t: number) => bucketLabel(t, s.bucket)} minTickGap={32} fontSize={11} />
                        <YAxis tickFormatter={(v: number) => `$${v}`} fontSize={11} />
                        <Tooltip labelFormatter={(t) => bucketLabel(Number(t), s.bucket)} />
                        <Legend />
                        {LEVERS.map(([key, label, color]) => (
                          <Bar key={key} dataKey={key} name={label} stackId="levers" fill={color} />
                        ))}
                      </BarChart>
                    ) : (
                      <AreaChart data={s.points}>
                        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                        <XAxis dataKey="t" tickFormatter={(t: number) => bucketLabel(t, s.bucket)} minTickGap={32} fontSize={11} />
                        <YAxis tickFormatter={(v: number) => `$${v}`} fontSize={11} />
                        <Tooltip labelFormatter={(t) => bucketLabel(Number(t), s.bucket)} />
                        <Legend />
                        {LEVERS.map(([key, label, color]) => (
                          <Area key={key} type="monotone" dataKey={key} name={label} stackId="levers" stroke={color} fill={color} fillOpacity={0.4} />
                        ))}
                      </AreaChart>
                    )}
                  </ResponsiveContainer>
                </div>
              </CardContent>
            </Card>
          </>
        )}
      </QueryState>
    </div>
  );
}
