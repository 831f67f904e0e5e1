"use client";
/** The signed-in user, handed down from the dashboard layout (a server component) to client components. */
import { createContext, useContext, type ReactNode } from "react";
import { allows, type AccessLevel, type Role } from "@/lib/roles";

export interface CurrentUser {
  id: string;
  email: string;
  name: string | null;
  role: Role;
  teamId: string | null;
}

const UserContext = createContext<CurrentUser | null>(null);

export function CurrentUserProvider({ user, children }: { user: CurrentUser; children: ReactNode }) {
  return <UserContext.Provider value={user}>{children}</UserContext.Provider>;
}

export function useCurrentUser(): CurrentUser {
  const user = useContext(UserContext);
  if (!user) throw new Error("useCurrentUser needs <CurrentUserProvider> (the dashboard layout provides it)");
  return user;
}

/** Whether the signed-in user passes an access level (to show or hide actions; the server checks regardless). */
export function useCan(level: AccessLevel): boolean {
  return allows(level, useCurrentUser().role);
}
