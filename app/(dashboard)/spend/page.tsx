import type { Metadata } from "next";
import { Suspense } from "react";
import { SpendPage } from "@/components/features/spend/spend-page";
import { Forbidden } from "@/components/ui/forbidden";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Spend" };

export default async function Page() {
  const { allowed } = await requirePageAccess("finance");
  return allowed ? (
    <Suspense>
      <SpendPage />
    </Suspense>
  ) : (
    <Forbidden what="Spend reports" />
  );
}
