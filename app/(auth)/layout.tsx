import type { ReactNode } from "react";
import { AppProviders } from "@/components/providers/app-providers";

export const dynamic = "force-dynamic";

export default function AuthLayout({ children }: { children: ReactNode }) {
  return (
    <AppProviders>
      <main className="flex min-h-screen flex-col items-center justify-center px-4 py-12">
        <div className="mb-6 flex items-center gap-2">
          <span aria-hidden className="inline-block h-7 w-7 rounded bg-brand-600" />
          <span className="text-xl font-semibold tracking-tight">Switchyard</span>
        </div>
        <div className="w-full max-w-sm">{children}</div>
      </main>
    </AppProviders>
  );
}
