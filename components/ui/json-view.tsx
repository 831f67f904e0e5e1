import { cn } from "./cn";

/** Pretty-printed JSON in a scrollable block. */
export function JsonView({ value, className, label }: { value: unknown; className?: string; label?: string }) {
  return (
    <pre aria-label={label} className={cn("max-h-80 overflow-auto rounded-md border border-slate-200 bg-slate-50 p-3 font-mono text-xs leading-relaxed text-slate-800", className)}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}
