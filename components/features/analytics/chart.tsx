"use client";
import type { ReactElement } from "react";
import { CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { bucketLabel } from "./range-picker";

/**
 * A chart's box: fixed height, full width, and exposed to assistive technology as one image named by `label`
 * (the numbers are in the stats and tables next to it).
 */
export function ChartBox({ label, className = "h-64", children }: { label: string; className?: string; children: ReactElement }) {
  return (
    <div className={className} role="img" aria-label={label}>
      <ResponsiveContainer width="100%" height="100%">
        {children}
      </ResponsiveContainer>
    </div>
  );
}

/**
 * The frame of a USD time series over hourly or daily buckets: grid, bucket-labelled time axis, dollar axis,
 * tooltip and legend. Returned as elements (not a component) so Recharts sees them as the chart's direct children.
 * `usdAxisId` names the dollar axis when the chart has a second one; `secondAxis` is placed right after it.
 */
export function timeSeriesFrame(bucket: "hour" | "day", options: { usdAxisId?: string; secondAxis?: ReactElement } = {}): ReactElement[] {
  return [
    <CartesianGrid key="grid" strokeDasharray="3 3" stroke="#e2e8f0" />,
    <XAxis key="time" dataKey="t" tickFormatter={(t: number) => bucketLabel(t, bucket)} minTickGap={32} fontSize={11} />,
    <YAxis key="usd" {...(options.usdAxisId ? { yAxisId: options.usdAxisId } : {})} tickFormatter={(v: number) => `$${v}`} fontSize={11} />,
    ...(options.secondAxis ? [options.secondAxis] : []),
    <Tooltip key="tooltip" labelFormatter={(t) => bucketLabel(Number(t), bucket)} />,
    <Legend key="legend" />,
  ];
}
