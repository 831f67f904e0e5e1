import type { ReactNode } from "react";
import { UserMenu } from "@/components/features/auth/user-menu";
import { AppProviders } from "@/components/providers/app-providers";
import { SideNav } from "@/components/ui/nav";
import { requirePageUser } from "@/server/auth/page";

export const dynamic = "force-dynamic";

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const user = await requirePageUser();
  const current = { id: user.id, email: user.email, name: user.name, role: user.role, teamId: user.teamId };
  return (
    <AppProviders user={current}>
      <div className="flex min-h-screen">
        <div className="w-60 shrink-0 border-r border-slate-200 bg-white">
          <aside className="sticky top-0 flex h-screen flex-col px-3 py-5">
            <div className="mb-6 flex items-center gap-2 px-3">
              <span aria-hidden className="inline-block h-6 w-6 rounded bg-brand-600" />
              <span className="text-lg font-semibold tracking-tight">Switchyard</span>
            </div>
            <SideNav role={user.role} />
          </aside>
        </div>
        <div className="flex min-w-0 flex-1 flex-col">
          <header className="flex h-14 items-center justify-end border-b border-slate-200 bg-white px-6">
            <UserMenu />
          </header>
          <main className="flex-1 px-8 py-6">{children}</main>
        </div>
      </div>
    </AppProviders>
  );
}
