import type { Metadata } from "next";
import { KeysPage } from "@/components/features/keys/keys-page";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "API keys" };

export default async function Page() {
  await requirePageAccess("member");
  return <KeysPage />;
}
