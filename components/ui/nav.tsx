"use client";
import { Database, FlaskConical, Gauge, KeyRound, List, PiggyBank, ReceiptText, ScrollText, Server, Settings, ShieldCheck, Users, Wallet, type LucideIcon } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { allows, type AccessLevel, type Role } from "@/lib/roles";

export interface NavItem {
  href: string;
  label: string;
  /** Who sees the entry; the page checks the same level (and tRPC checks every call). */
  access: Exclude<AccessLevel, "public">;
  icon: LucideIcon;
}

/** Dashboard pages, in menu order; each new page adds its entry here with the access level its page requires. */
export const NAV_ITEMS: readonly NavItem[] = [
  { href: "/", label: "Overview", access: "member", icon: Gauge },
  { href: "/requests", label: "Requests", access: "member", icon: List },
  { href: "/spend", label: "Spend", access: "finance", icon: ReceiptText },
  { href: "/savings", label: "Savings", access: "finance", icon: PiggyBank },
  { href: "/budgets", label: "Budgets & alerts", access: "member", icon: Wallet },
  { href: "/cache", label: "Cache", access: "member", icon: Database },
  { href: "/providers", label: "Providers & models", access: "admin", icon: Server },
  { href: "/policies", label: "Policies", access: "member", icon: ShieldCheck },
  { href: "/keys", label: "API keys", access: "member", icon: KeyRound },
  { href: "/playground", label: "Playground", access: "developer", icon: FlaskConical },
  { href: "/teams", label: "Teams & users", access: "admin", icon: Users },
  { href: "/audit", label: "Audit log", access: "admin", icon: ScrollText },
  { href: "/settings", label: "Settings", access: "member", icon: Settings },
];

export function navItemsFor(role: Role): NavItem[] {
  return NAV_ITEMS.filter((item) => allows(item.access, role));
}

/** The current entry: exact for "/", by prefix for the rest (/policies/abc is under Policies). */
function isCurrent(href: string, pathname: string): boolean {
  return href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);
}

export function SideNav({ role }: { role: Role }) {
  const pathname = usePathname() ?? "/";
  return (
    <nav aria-label="Main" className="flex flex-col gap-0.5">
      {navItemsFor(role).map(({ href, label, icon: Icon }) => (
        <Link
          key={href}
          href={href}
          aria-current={isCurrent(href, pathname) ? "page" : undefined}
          className="flex items-center gap-2.5 rounded-md px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 focus-visible:outline-2 focus-visible:outline-brand-500 aria-[current=page]:bg-brand-50 aria-[current=page]:text-brand-700"
        >
          <Icon aria-hidden className="size-4 shrink-0" />
          {label}
        </Link>
      ))}
    </nav>
  );
}
