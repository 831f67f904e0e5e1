import type { ReactNode } from "react";
import { cn } from "./cn";

export function EmptyState({ title, children, action, icon, className }: { title: ReactNode; children?: ReactNode; action?: ReactNode; icon?: ReactNode; className?: string }) {
  return (
    <div className={cn("mx-auto flex max-w-md flex-col items-center gap-2 px-4 py-8 text-center", className)}>
      {icon ? <div aria-hidden className="text-slate-400 [&_svg]:size-8">{icon}</div> : null}
      <p className="text-sm font-semibold text-slate-900">{title}</p>
      {children ? <div className="text-sm text-slate-600">{children}</div> : null}
      {action ? <div className="mt-2">{action}</div> : null}
    </div>
  );
}
