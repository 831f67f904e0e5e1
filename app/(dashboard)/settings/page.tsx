import type { Metadata } from "next";
import { SettingsPage } from "@/components/features/settings/settings-page";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Settings" };

export default async function Page() {
  await requirePageAccess("member");
  return <SettingsPage />;
}
