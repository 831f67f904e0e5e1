import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { SetupForm } from "@/components/features/auth/setup-form";
import { authRuntime } from "@/server/auth/config";
import { needsSetup } from "@/server/auth/setup";
import { getRuntime } from "@/server/runtime";

export const metadata: Metadata = { title: "Set up" };

/** First run only: once any user exists the page is gone (404). */
export default async function SetupPage() {
  const rt = await getRuntime();
  await authRuntime(rt);
  if (!(await needsSetup(rt.db.prisma))) notFound();
  return <SetupForm />;
}
