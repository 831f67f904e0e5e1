import type { Metadata } from "next";
import { Suspense } from "react";
import { RequestsPage } from "@/components/features/requests/requests-page";
import { requirePageAccess } from "@/server/auth/page";

export const metadata: Metadata = { title: "Requests" };

export default async function Page() {
  await requirePageAccess("member");
  return (
    <Suspense>
      <RequestsPage />
    </Suspense>
  );
}
