"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Download } from "lucide-react";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { useState } from "react";
import { Bar, BarChart, CartesianGrid, Legend, Tooltip, XAxis, YAxis } from "recharts";
import { BREAKDOWNS, type Breakdown } from "@/lib/contracts/analytics";
import { monthKey } from "@/lib/analytics/series";
import { useTRPC } from "@/components/providers/trpc";
import { Button } from "@/components/ui/button";
import { Card, CardContent, CardHeader, CardTitle } from "@/components/ui/card";
import { DataTable } from "@/components/ui/data-table";
import { EmptyState } from "@/components/ui/empty-state";
import { errorMessage } from "@/components/ui/errors";
import { Field } from "@/components/ui/field";
import { Select } from "@/components/ui/input";
import { PageHeader } from "@/components/ui/page-header";
import { QueryState } from "@/components/ui/query-state";
import { Tabs, TabsContent, TabsList, TabsTrigger } from "@/components/ui/tabs";
import { useToast } from "@/components/ui/toast";
import { ChartBox } from "../analytics/chart";
import { breakdownColumns, BREAKDOWN_LABELS } from "./columns";
import { MonthReport } from "./month-report";

/** Browser download of text the server prepared (the CSV export). */
function download(filename: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.click();
  URL.revokeObjectURL(url);
}

export function SpendPage() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const toast = useToast();
  const router = useRouter();
  const pathname = usePathname();
  const params = useSearchParams();
  const month = params.get("month") && /^\d{4}-\d{2}$/.test(params.get("month")!) ? params.get("month")! : monthKey(new Date());
  const by = (BREAKDOWNS as readonly string[]).includes(params.get("by") ?? "") ? (params.get("by") as Breakdown) : "team";
  const [exporting, setExporting] = useState(false);
  const months = useQuery(trpc.analytics.months.queryOptions({ months: 12 }));
  const breakdown = useQuery(trpc.analytics.breakdown.queryOptions({ month, by }));

  function setParam(key: string, value: string) {
    const next = new URLSearchParams(params.toString());
    next.set(key, value);
    router.replace(`${pathname}?${next}`, { scroll: false });
  }

  async function exportCsv() {
    setExporting(true);
    try {
      const { filename, csv } = await queryClient.fetchQuery(trpc.analytics.exportCsv.queryOptions({ month }));
      download(filename, csv);
    } catch (error) {
      toast.error(errorMessage(error));
    } finally {
      setExporting(false);
    }
  }

  const monthOptions = months.data?.map((m) => m.month) ?? [month];
  return (
    <div className="mx-auto max-w-7xl space-y-6">
      <PageHeader
        title="Spend"
        description="What the gateway's traffic cost, month by month (UTC), and where it went."
        actions={
          <>
            <Field label="Month">
              <Select value={month} onChange={(e) => setParam("month", e.target.value)}>
                {(monthOptions.includes(month) ? monthOptions : [month, ...monthOptions]).map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </Select>
            </Field>
            <Button variant="secondary" loading={exporting} onClick={() => void exportCsv()} className="self-end">
              <Download aria-hidden /> Export CSV
            </Button>
          </>
        }
      />
      <Card>
        <CardHeader>
          <CardTitle>Month by month</CardTitle>
        </CardHeader>
        <CardContent>
          <QueryState query={months} label="Loading months">
            {(data) => (
              <ChartBox label="Spend per month" className="h-56">
                <BarChart data={[...data].reverse().map((m) => ({ month: m.month, spend: Number(m.costUsd), saved: Number(m.savingsTotalUsd) }))}>
                  <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
                  <XAxis dataKey="month" fontSize={11} />
                  <YAxis tickFormatter={(v: number) => `$${v}`} fontSize={11} />
                  <Tooltip />
                  <Legend />
                  <Bar dataKey="spend" name="Spend (USD)" fill="#4f46e5" onClick={(d: { payload?: { month?: string } }) => d.payload?.month && setParam("month", d.payload.month)} />
                  <Bar dataKey="saved" name="Saved (USD)" fill="#10b981" />
                </BarChart>
              </ChartBox>
            )}
          </QueryState>
        </CardContent>
      </Card>
      <Tabs defaultValue="breakdown">
        <TabsList>
          <TabsTrigger value="breakdown">Breakdown</TabsTrigger>
          <TabsTrigger value="report">Month-end report</TabsTrigger>
        </TabsList>
        <TabsContent value="breakdown">
          <Card>
            <div className="flex flex-wrap items-end gap-3 border-b border-slate-100 px-5 py-3">
              <Field label="Break down by">
                <Select value={by} onChange={(e) => setParam("by", e.target.value)}>
                  {BREAKDOWNS.map((b) => (
                    <option key={b} value={b}>
                      {BREAKDOWN_LABELS[b]}
                    </option>
                  ))}
                </Select>
              </Field>
            </div>
            <QueryState query={breakdown} label="Loading breakdown">
              {(rows) => (
                <DataTable
                  label={`Spend by ${BREAKDOWN_LABELS[by].toLowerCase()} in ${month}`}
                  columns={breakdownColumns(BREAKDOWN_LABELS[by])}
                  data={rows}
                  getRowId={(r) => r.key || "(none)"}
                  empty={<EmptyState title={`No spend in ${month}`}>Calls through the gateway show up here.</EmptyState>}
                />
              )}
            </QueryState>
          </Card>
        </TabsContent>
        <TabsContent value="report">
          <MonthReport month={month} />
        </TabsContent>
      </Tabs>
    </div>
  );
}
