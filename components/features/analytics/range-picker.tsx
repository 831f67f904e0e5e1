"use client";
import { RANGES, type Range } from "@/lib/contracts/analytics";
import { cn } from "@/components/ui/cn";

const LABELS: Record<Range, string> = { "24h": "24 hours", "7d": "7 days", "30d": "30 days", "90d": "90 days" };

/** A segmented control for the time range of a chart (radio semantics: arrow keys move, one is checked). */
export function RangePicker({ value, onChange }: { value: Range; onChange: (range: Range) => void }) {
  return (
    <div role="radiogroup" aria-label="Time range" className="inline-flex rounded-md border border-slate-200 bg-white p-0.5">
      {RANGES.map((range) => (
        <button
          key={range}
          type="button"
          role="radio"
          aria-checked={value === range}
          onClick={() => onChange(range)}
          className={cn(
            "rounded px-2.5 py-1 text-xs font-medium text-slate-600 focus-visible:outline-2 focus-visible:outline-brand-500",
            value === range && "bg-brand-50 text-brand-700",
          )}
        >
          {LABELS[range]}
        </button>
      ))}
    </div>
  );
}

/** Axis label of a bucket start: hours for hourly series, dates for daily ones (UTC, like the rollups). */
export function bucketLabel(t: number, bucket: "hour" | "day"): string {
  const d = new Date(t);
  return bucket === "hour"
    ? d.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", timeZone: "UTC" })
    : d.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}
