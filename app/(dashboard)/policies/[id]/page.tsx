import type { Metadata } from "next";
import { PolicyPage } from "@/components/features/policies/policy-page";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Policy" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  await requirePageAccess("member");
  const { id } = await params;
  return <PolicyPage id={id} />;
}
