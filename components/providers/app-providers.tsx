"use client";
import type { ReactNode } from "react";
import { Toaster } from "../ui/toast";
import { CurrentUserProvider, type CurrentUser } from "./current-user";
import { TRPCProvider } from "./trpc";

/** Everything a dashboard page's client components need: tRPC + React Query, toasts, and (signed in) the user. */
export function AppProviders({ user, children }: { user?: CurrentUser; children: ReactNode }) {
  const inner = user ? <CurrentUserProvider user={user}>{children}</CurrentUserProvider> : children;
  return (
    <TRPCProvider>
      <Toaster>{inner}</Toaster>
    </TRPCProvider>
  );
}
