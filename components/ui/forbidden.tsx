import { ShieldX } from "lucide-react";
import Link from "next/link";
import { EmptyState } from "./empty-state";

/** What a page shows to a signed-in user whose role may not open it. */
export function Forbidden({ what }: { what: string }) {
  return (
    <EmptyState
      className="mt-16"
      icon={<ShieldX />}
      title="You don't have access to this page"
      action={
        <Link href="/" className="text-sm font-medium text-brand-700 hover:underline">
          Back to the overview
        </Link>
      }
    >
      {what} is available to admins. Ask one if you need a change here.
    </EmptyState>
  );
}
