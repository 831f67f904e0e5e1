import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SignInForm } from "@/components/features/auth/sign-in-form";
import { authRuntime, ssoProviders } from "@/server/auth/config";
import { getPageUser } from "@/server/auth/page";
import { needsSetup } from "@/server/auth/setup";
import { getRuntime } from "@/server/runtime";

export const metadata: Metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ error?: string; callbackUrl?: string }> }) {
  const rt = await getRuntime();
  const auth = await authRuntime(rt);
  if (await needsSetup(rt.db.prisma)) redirect("/setup");
  if (await getPageUser()) redirect("/");
  const { error, callbackUrl } = await searchParams;
  // Only paths on this site: never send someone to another origin after signing in.
  const next = callbackUrl?.startsWith("/") && !callbackUrl.startsWith("//") ? callbackUrl : "/";
  return <SignInForm sso={ssoProviders(auth)} error={error ?? null} callbackUrl={next} />;
}
