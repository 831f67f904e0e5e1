/**
 * Roles and what each may do, in one place for the tRPC middleware, the page guards and the navigation.
 * - admin: everything.
 * - developer: their own team's API keys (and, later, calls and playground); reads policies and the catalog.
 * - finance: spend, savings, budgets and exports; read-only elsewhere (never provider configuration).
 */
import { ROLES } from "./config-file";

export { ROLES };
export type Role = (typeof ROLES)[number];

/** Access levels a procedure or page declares; each names the roles it admits. */
export const ACCESS = {
  /** Anyone, signed in or not (first-run setup). */
  public: null,
  /** Any signed-in user. */
  member: ["admin", "developer", "finance"],
  admin: ["admin"],
  /** Spend, savings, budgets, exports. */
  finance: ["admin", "finance"],
  /** Keys and traffic of the user's own team (admins: every team). */
  developer: ["admin", "developer"],
} as const satisfies Record<string, readonly Role[] | null>;

export type AccessLevel = keyof typeof ACCESS;

/** Whether a role (null = signed out) passes an access level. */
export function allows(level: AccessLevel, role: Role | null): boolean {
  const roles = ACCESS[level];
  if (roles === null) return true;
  return role !== null && (roles as readonly Role[]).includes(role);
}

export const ROLE_LABELS: Record<Role, string> = { admin: "Admin", developer: "Developer", finance: "Finance" };

export const ROLE_DESCRIPTIONS: Record<Role, string> = {
  admin: "Configures everything: providers, policies, keys, teams and users.",
  developer: "Creates and revokes their own team's API keys; reads policies and models.",
  finance: "Reads spend, savings and budgets; read-only elsewhere.",
};
