import { OverviewStatus } from "@/components/features/overview/overview-status";
import { loadOverviewStatus } from "@/server/overview";

export const dynamic = "force-dynamic";

export default async function OverviewPage() {
  const status = await loadOverviewStatus();
  return (
    <div className="mx-auto max-w-5xl">
      <h1 className="text-2xl font-semibold tracking-tight">Overview</h1>
      <p className="mt-1 text-sm text-slate-600">
        Point an OpenAI or Anthropic SDK at the gateway URL below with a Switchyard API key.
      </p>
      <OverviewStatus status={status} />
    </div>
  );
}
