import Link from "next/link";

/** Dashboard pages that exist; each later page adds its entry here. */
export const NAV_ITEMS = [{ href: "/", label: "Overview" }] as const;

export function SideNav({ current }: { current: string }) {
  return (
    <nav aria-label="Main" className="flex flex-col gap-1">
      {NAV_ITEMS.map((item) => (
        <Link
          key={item.href}
          href={item.href}
          aria-current={current === item.href ? "page" : undefined}
          className="rounded-md px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-brand-50 aria-[current=page]:text-brand-700"
        >
          {item.label}
        </Link>
      ))}
    </nav>
  );
}
