import { headers } from "next/headers";
import { OverviewDashboard } from "@/components/features/overview/overview-dashboard";
import { OverviewStatus } from "@/components/features/overview/overview-status";
import { loadOverviewStatus } from "@/server/overview";

export const dynamic = "force-dynamic";

export default async function OverviewPage() {
  const status = await loadOverviewStatus();
  const host = (await headers()).get("host") ?? "localhost";
  return (
    <div className="mx-auto max-w-5xl">
      <h1 className="text-2xl font-semibold tracking-tight">Overview</h1>
      <p className="mt-1 text-sm text-slate-600">
        Point an OpenAI or Anthropic SDK at the gateway with a Switchyard API key:
      </p>
      <p className="mt-2 inline-block rounded-md border border-slate-200 bg-white px-3 py-1.5 font-mono text-sm" aria-label="Gateway URL">
        http://{host}/api/v1
      </p>
      <OverviewDashboard />
      <OverviewStatus status={status} />
    </div>
  );
}
