import type { Metadata } from "next";
import { CachePage } from "@/components/features/cache/cache-page";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Cache" };

export default async function Page() {
  await requirePageAccess("member");
  return <CachePage />;
}
