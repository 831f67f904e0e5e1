/** What Switchyard puts in next-auth's session and token (see options.ts). */
import type { Role } from "@/lib/roles";

declare module "next-auth" {
  interface Session {
    user: { id: string; email: string; name: string | null; role: Role; orgId: string; teamId: string | null };
  }
}

declare module "next-auth/jwt" {
  interface JWT {
    role?: Role;
    orgId?: string;
    teamId?: string | null;
  }
}
