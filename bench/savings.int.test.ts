import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { decimalToString, parseDecimal } from "../server/catalog/money";
import { renderChart, runSavingsReplay, WEIGHTS, type Segment } from "./savings";

const DATA = path.resolve(import.meta.dirname, "../../shared/data");
const present = existsSync(path.join(DATA, "qqp-dev.jsonl")) && existsSync(path.join(DATA, "routing/routellm-dev.jsonl"));

interface Sums {
  rows: number;
  baseline: bigint;
  actual: bigint;
  batchRows: number;
  hits: number;
  cachedInput: number;
  savingsBatch: bigint;
  /** How each row was routed: its route's policy and strategy. */
  strategies: string[];
}

describe.skipIf(!present)("bench/savings.ts (tiny sample)", () => {
  it("replays every segment through the gateway and reports figures summed from the call rows", { timeout: 600_000 }, async () => {
    const fromRows = {} as Record<Segment, Sums>;
    const report = await runSavingsReplay({
      requests: 40,
      train: 80,
      seed: 3,
      inspect: async ({ rt, apiKeyIds }) => {
        // Independently of the script's own sums: read the call log back and add it up here.
        for (const [segment, apiKeyId] of Object.entries(apiKeyIds) as Array<[Segment, string]>) {
          const rows = await rt.db.prisma.call.findMany({ where: { apiKeyId } });
          fromRows[segment] = {
            rows: rows.length,
            baseline: rows.reduce((n, r) => n + parseDecimal(r.baselineCostUsd.toString()), 0n),
            actual: rows.reduce((n, r) => n + parseDecimal(r.costUsd.toString()), 0n),
            batchRows: rows.filter((r) => r.batch).length,
            hits: rows.filter((r) => r.cacheOutcome === "hit" || r.cacheOutcome === "semantic-hit").length,
            cachedInput: rows.reduce((n, r) => n + r.cachedInputTokens, 0),
            savingsBatch: rows.reduce((n, r) => n + parseDecimal(r.savingsBatchUsd.toString()), 0n),
            strategies: rows.map((r) => {
              const route = r.route as { policy?: string; strategy?: string } | null;
              return `${route?.policy}/${route?.strategy}`;
            }),
          };
        }
      },
    });

    // The shape the README and the CLI promise.
    expect(typeof report.savings_pct).toBe("number");
    expect(report.quality_retained).toBeGreaterThan(0);
    expect(report.quality_retained).toBeLessThanOrEqual(1.2); // routing may beat the flagship on some prompts
    for (const lever of ["routing", "response_cache", "prompt_cache", "batch"]) expect(report.levers, lever).toHaveProperty(lever);
    expect(Object.keys(report.segments).sort()).toEqual(Object.keys(WEIGHTS).sort());
    expect(report.samples).toMatchObject({ support: 16, routed: 10, long_ctx: 8, batch: 6, total: 40, training_prompts: 80 });
    expect(report.classifier.feedback_labels).toBe(160);

    // Every figure comes from the call rows: one row per replayed request, and the same sums.
    const total = { baseline: 0n, actual: 0n };
    for (const segment of Object.keys(WEIGHTS) as Segment[]) {
      const sums = fromRows[segment];
      const reported = report.segments[segment] as { requests: number; baseline_usd: number; actual_usd: number; savings_pct: number };
      expect(sums.rows, segment).toBe(reported.requests);
      expect(Number(decimalToString(sums.baseline)), segment).toBe(reported.baseline_usd);
      expect(Number(decimalToString(sums.actual)), segment).toBe(reported.actual_usd);
      expect(sums.baseline, segment).toBeGreaterThan(0n);
      total.baseline += sums.baseline;
      total.actual += sums.actual;
    }
    expect(Number(decimalToString(total.baseline))).toBe(report.baseline_usd);
    expect(report.savings_pct).toBeCloseTo((1 - Number(total.actual) / Number(total.baseline)) * 100, 1);
    expect(report.ledger).toMatchObject({ call_rows: 40, rows_not_adding_up: 0, baseline_matches_recomputed: true });

    // Each lever did its part where the workload exercises it.
    expect(fromRows.batch.batchRows).toBe(6);
    // Background jobs go through the routed traffic's cascade (same policy, same trained classifier), at batch prices:
    // every line ran through a provider batch API at half of its tier's list price, so its batch saving is what it cost.
    expect(fromRows.batch.strategies).toEqual(Array(6).fill("assistant/cascade"));
    expect(fromRows.routed.strategies).toEqual(Array(10).fill("assistant/cascade"));
    expect((report.segments.batch as unknown as { provider_batch_lines: number }).provider_batch_lines).toBe(6);
    expect(fromRows.batch.savingsBatch).toBeGreaterThan(0n);
    expect(fromRows.batch.savingsBatch).toBe(fromRows.batch.actual);
    // Quality over the labelled prompts is reported on its own, and it is part of the pooled figure.
    expect(report.cascade_quality.flagship_right_answers).toBeGreaterThan(0);
    expect(report.cascade_quality.right_answers).toBeLessThanOrEqual(10 + 8 + 6);
    expect(fromRows.long_ctx.cachedInput).toBeGreaterThan(0);
    expect((report.segments.long_ctx as { levers: Record<string, { saved_usd: number }> }).levers.prompt_cache!.saved_usd).toBeGreaterThan(0);
    expect(fromRows.support.hits).toBeGreaterThan(0); // the stream repeats questions
    expect(report.levers.response_cache!.saved_usd).toBeGreaterThan(0);
    const levers = Object.values(report.levers).reduce((n, l) => n + l.saved_usd, 0);
    expect(levers).toBeCloseTo(report.saved_usd, 6);

    const svg = renderChart(report);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain(`${report.savings_pct}% saved`);
  });
});
