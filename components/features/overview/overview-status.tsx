import type { OverviewStatus as Status } from "@/server/overview";

export function OverviewStatus({ status }: { status: Status }) {
  const cards = [
    { label: "Status", value: status.ready ? "Ready" : "Not ready", tone: status.ready ? "text-emerald-700" : "text-amber-700" },
    { label: "Database", value: status.database, tone: "text-slate-900" },
    { label: "Shared state", value: status.state, tone: "text-slate-900" },
    { label: "Providers & policies", value: String(status.models), tone: "text-slate-900" },
  ];
  return (
    <section aria-label="System status" className="mt-6">
      <dl className="grid grid-cols-1 gap-4 sm:grid-cols-2 lg:grid-cols-4">
        {cards.map((card) => (
          <div key={card.label} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
            <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{card.label}</dt>
            <dd className={`mt-2 text-xl font-semibold ${card.tone}`}>{card.value}</dd>
          </div>
        ))}
      </dl>
      <div className="mt-6 rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
        <h2 className="text-sm font-semibold">Readiness checks</h2>
        <ul className="mt-2 space-y-1 text-sm">
          {Object.entries(status.checks).map(([name, value]) => (
            <li key={name} className="flex justify-between border-b border-slate-100 py-1 last:border-0">
              <span className="text-slate-600">{name}</span>
              <span className={value === "ok" ? "text-emerald-700" : "text-amber-700"}>{value}</span>
            </li>
          ))}
        </ul>
        <p className="mt-3 text-xs text-slate-500">{status.migrations} database migration(s) known to this version.</p>
      </div>
    </section>
  );
}
