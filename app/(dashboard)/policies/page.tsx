import type { Metadata } from "next";
import { PolicyList } from "@/components/features/policies/policy-list";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Policies" };

export default async function Page() {
  await requirePageAccess("member");
  return <PolicyList />;
}
