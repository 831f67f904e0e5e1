import type { Metadata } from "next";
import { SavingsPage } from "@/components/features/savings/savings-page";
import { Forbidden } from "@/components/ui/forbidden";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Savings" };

export default async function Page() {
  const { allowed } = await requirePageAccess("finance");
  return allowed ? <SavingsPage /> : <Forbidden what="Savings reports" />;
}
