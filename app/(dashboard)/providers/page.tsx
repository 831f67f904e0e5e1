import type { Metadata } from "next";
import { ProvidersPage } from "@/components/features/providers/providers-page";
import { Forbidden } from "@/components/ui/forbidden";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Providers & models" };

export default async function Page() {
  const { allowed } = await requirePageAccess("admin");
  return allowed ? <ProvidersPage /> : <Forbidden what="Provider configuration" />;
}
