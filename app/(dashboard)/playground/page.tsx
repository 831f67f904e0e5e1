import type { Metadata } from "next";
import { PlaygroundPage } from "@/components/features/playground/playground-page";
import { Forbidden } from "@/components/ui/forbidden";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Playground" };

export default async function Page() {
  const { allowed } = await requirePageAccess("developer");
  return allowed ? <PlaygroundPage /> : <Forbidden what="The Playground" />;
}
