import { AlertTriangle, CheckCircle2, Info, XCircle } from "lucide-react";
import type { ReactNode } from "react";
import { cn } from "./cn";

const TONES = {
  info: { icon: Info, className: "border-brand-500/20 bg-brand-50 text-brand-700" },
  success: { icon: CheckCircle2, className: "border-emerald-200 bg-emerald-50 text-emerald-900" },
  warning: { icon: AlertTriangle, className: "border-amber-200 bg-amber-50 text-amber-900" },
  error: { icon: XCircle, className: "border-red-200 bg-red-50 text-red-900" },
} as const;

/** A message in place: errors are announced (role=alert), the rest politely (role=status). */
export function Alert({ tone = "info", title, children, className, action }: { tone?: keyof typeof TONES; title?: ReactNode; children?: ReactNode; className?: string; action?: ReactNode }) {
  const { icon: Icon, className: toneClass } = TONES[tone];
  return (
    <div role={tone === "error" ? "alert" : "status"} className={cn("flex gap-3 rounded-md border px-3.5 py-3 text-sm", toneClass, className)}>
      <Icon aria-hidden className="mt-0.5 size-4 shrink-0" />
      <div className="min-w-0 flex-1 space-y-1">
        {title ? <p className="font-medium">{title}</p> : null}
        {children ? <div className="break-words">{children}</div> : null}
      </div>
      {action ? <div className="shrink-0">{action}</div> : null}
    </div>
  );
}
