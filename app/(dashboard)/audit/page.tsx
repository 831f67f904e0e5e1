import type { Metadata } from "next";
import { AuditPage } from "@/components/features/audit/audit-page";
import { Forbidden } from "@/components/ui/forbidden";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Audit log" };

export default async function Page() {
  const { allowed } = await requirePageAccess("admin");
  return allowed ? <AuditPage /> : <Forbidden what="The audit log" />;
}
