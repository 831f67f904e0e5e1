import type { ReactNode } from "react";
import { SideNav } from "@/components/ui/nav";

export default function DashboardLayout({ children }: { children: ReactNode }) {
  return (
    <div className="flex min-h-screen">
      <aside className="w-60 shrink-0 border-r border-slate-200 bg-white px-4 py-6">
        <div className="mb-8 flex items-center gap-2 px-3">
          <span aria-hidden className="inline-block h-6 w-6 rounded bg-brand-600" />
          <span className="text-lg font-semibold tracking-tight">Switchyard</span>
        </div>
        <SideNav current="/" />
      </aside>
      <main className="flex-1 px-8 py-6">{children}</main>
    </div>
  );
}
