import type { Metadata } from "next";
import { PolicyEditor } from "@/components/features/policies/policy-editor";
import { Forbidden } from "@/components/ui/forbidden";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "New policy" };

export default async function Page() {
  const { allowed } = await requirePageAccess("admin");
  return allowed ? <PolicyEditor /> : <Forbidden what="Creating policies" />;
}
