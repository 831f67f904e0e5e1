/** Facts for the dashboard's overview page, read from the process runtime. */
import { getRuntime, readiness } from "./runtime";

export interface OverviewStatus {
  database: string;
  state: string;
  ready: boolean;
  checks: Record<string, string>;
  /** Providers and policies configured. */
  models: number;
  migrations: number;
}

export async function loadOverviewStatus(): Promise<OverviewStatus> {
  const rt = await getRuntime();
  const report = await readiness(rt);
  return {
    database: rt.db.kind === "postgres" ? "PostgreSQL" : "Embedded PGlite",
    state: rt.state.kind === "redis" ? "Redis" : "In memory",
    ready: report.ok,
    checks: report.checks,
    models: [...rt.snapshot.current().orgs.values()].reduce((n, org) => n + org.policies.size + org.providers.size, 0),
    migrations: rt.migrations.length,
  };
}
