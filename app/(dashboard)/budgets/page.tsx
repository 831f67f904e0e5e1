import type { Metadata } from "next";
import { BudgetsPage } from "@/components/features/budgets/budgets-page";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Budgets & alerts" };

export default async function Page() {
  await requirePageAccess("member");
  return <BudgetsPage />;
}
