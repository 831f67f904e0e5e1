import type { Metadata } from "next";
import { TeamsPage } from "@/components/features/teams/teams-page";
import { Forbidden } from "@/components/ui/forbidden";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Teams & users" };

export default async function Page() {
  const { allowed } = await requirePageAccess("admin");
  return allowed ? <TeamsPage /> : <Forbidden what="Managing teams and users" />;
}
