/**
 * The Playground and the Cache page in a real browser, against the real server and the provider simulator (the
 * "e2e-sim" provider, the "e2e-bot" policy and the users come from control-plane.spec.ts, which runs first): a
 * prompt through a policy shows its answer, route, cost and cache outcome; an identical send at temperature 0 is a
 * cache hit; a developer sends as their own team only; the Cache page shows hit rates, a shadow rule's results,
 * and purges. Screenshots go to e2e/artifacts/.
 */
import { expect, test, type Page } from "@playwright/test";
import { pageAs, screenshot } from "./fixtures";

test.describe.configure({ mode: "serial" });

const PROMPT = "What does the playground show?";
const SHADOW_PROMPT = "Which answers would the shadow rule have served?";

async function send(page: Page, prompt: string, options: { team?: string; temperature?: string } = {}) {
  await page.getByLabel("Policy or model").selectOption("e2e-bot");
  if (options.team) await page.getByLabel("Team").selectOption({ label: options.team });
  await page.getByLabel("System prompt").fill("Answer in one sentence.");
  await page.getByLabel("User prompt").fill(prompt);
  await page.getByLabel("Temperature").fill(options.temperature ?? "0");
  await page.getByLabel("Max tokens").fill("64");
  const done = page.waitForResponse((r) => r.url().includes("/api/trpc/playground.send") && r.request().method() === "POST");
  await page.getByRole("button", { name: "Send", exact: true }).click();
  expect((await done).status()).toBe(200);
}

test("Playground: a prompt through a policy shows route and cost; the identical send is a cache hit", async ({ page }) => {
  await page.goto("/");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Playground" }).click();
  await expect(page.getByRole("heading", { name: "Playground", exact: true })).toBeVisible();
  await expect(page.getByText("Nothing sent yet")).toBeVisible();

  await send(page, PROMPT, { team: "Default team" });
  await expect(page.getByRole("region", { name: "Answer" })).toContainText("Simulated reply");
  const outcome = page.getByLabel("Outcome", { exact: true });
  await expect(outcome).toContainText("e2e-sim/sim-small");
  await expect(outcome).toContainText(/Cost\s*\$0\.0*[1-9]/);
  await expect(page.getByLabel("Cache outcome: miss")).toBeVisible();
  await expect(page.getByRole("region", { name: "Candidates" })).toContainText("e2e-sim/sim-small");
  await expect(page.getByRole("region", { name: "Candidates" })).toContainText("e2e-sim/sim-large");
  await expect(page.getByRole("region", { name: "Attempts" })).toContainText("e2e-sim/sim-small");
  await screenshot(page, "playground");

  // The same prompt again: answered by the response cache (the built-in rule caches temperature 0), free.
  await send(page, PROMPT);
  await expect(page.getByLabel("Cache outcome: hit")).toBeVisible();
  await expect(outcome).toContainText(/Cost\s*\$0\.00(?!\d)/);
  await expect(outcome).toContainText(/Saved\s*\$0\.0*[1-9]/);
  await expect(page.getByRole("region", { name: "Candidates" })).toContainText("Answered from the cache");
  await expect(page.getByRole("list", { name: "Earlier sends" }).getByRole("listitem")).toHaveCount(1);
  await screenshot(page, "playground-cache-hit");

  // Both calls are in the call log, tagged as playground calls.
  await page.goto("/requests");
  await expect(page.getByRole("table", { name: "Calls" }).getByText("Playground").first()).toBeVisible();
});

test("Playground for a developer: their own team only", async ({ browser, baseURL }) => {
  const dev = await pageAs(browser, baseURL, "dev-a@e2e.example");
  await expect(dev.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Playground" })).toBeVisible();
  await dev.goto("/playground");
  const team = dev.getByLabel("Team");
  await expect(team).toBeDisabled();
  await expect(team.locator("option:checked")).toHaveText("Team A");
  await send(dev, "Hello from team A", { temperature: "0.7" });
  await expect(dev.getByRole("region", { name: "Answer" })).toContainText("Simulated reply");
  await expect(dev.getByText(/^Team Team A · request /)).toBeVisible();
  await screenshot(dev, "playground-developer");
  await dev.context().close();
});

test("Cache page: hit rates, a shadow rule's results, and a purge", async ({ page }) => {
  await page.goto("/cache");
  await expect(page.getByRole("heading", { name: "Cache", exact: true })).toBeVisible();
  // The playground's hit above counts.
  await expect(page.locator("dl > div").filter({ hasText: "Exact hits" })).toContainText(/Exact hits\s*[1-9]/);
  await expect(page.locator("dl > div").filter({ hasText: "Hit rate (7 days)" })).toContainText(/\d+\.\d%/);

  // A shadow rule for the policy: it stores and reports what it would have served, but always answers fresh.
  await page.getByRole("button", { name: "New rule" }).click();
  const dialog = page.getByRole("dialog", { name: "New cache rule" });
  await dialog.getByLabel("Name").fill("e2e-shadow");
  await dialog.getByLabel("Policy").selectOption({ label: "e2e-bot" });
  await dialog.getByLabel("Shadow mode (report, never serve)").check();
  await dialog.getByRole("button", { name: "Create rule" }).click();
  await expect(dialog).toBeHidden();
  const rules = page.getByRole("table", { name: "Cache rules" });
  await expect(rules.getByRole("row").filter({ hasText: "e2e-shadow" }).getByText("Shadow", { exact: true })).toBeVisible();

  await page.goto("/playground");
  await send(page, SHADOW_PROMPT, { team: "Default team" });
  await expect(page.getByLabel("Cache outcome: miss")).toBeVisible();
  await send(page, SHADOW_PROMPT);
  await expect(page.getByLabel("Cache outcome: shadow")).toBeVisible();
  await expect(page.getByText("(shadow: would have been a hit)")).toBeVisible();
  await expect(page.getByLabel("Outcome", { exact: true })).toContainText(/Cost\s*\$0\.0*[1-9]/);

  await page.goto("/cache");
  await expect(page.locator("dl > div").filter({ hasText: "Shadow results" })).toContainText(/Shadow results\s*[1-9]/);
  await screenshot(page, "cache");

  // Purge every team's entries: the shadow rule's stored answer is gone, so the next send finds nothing.
  await page.getByRole("button", { name: "Purge cache" }).click();
  await page.getByRole("dialog", { name: "Purge the cache?" }).getByRole("button", { name: "Purge" }).click();
  await expect(page.getByText("Cache purged")).toBeVisible();
  await page.goto("/playground");
  await send(page, SHADOW_PROMPT, { team: "Default team" });
  await expect(page.getByLabel("Cache outcome: miss")).toBeVisible();

  // Leave no rule behind for specs that run later.
  await page.goto("/cache");
  await page.getByRole("button", { name: "Delete rule e2e-shadow" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete rule" }).click();
  await expect(rules.getByText("e2e-shadow")).toHaveCount(0);
});

test("a team budget exhausted from the Playground: the 429 in place, then the alert", async ({ page: admin, browser, baseURL }) => {
  await admin.goto("/budgets");
  await admin.getByRole("button", { name: "Create budget" }).click();
  const dialog = admin.getByRole("dialog", { name: "Create a budget" });
  await dialog.getByLabel("Applies to").selectOption({ label: "Team" });
  await dialog.getByLabel("Team").selectOption({ label: "Team A" });
  await dialog.getByLabel("Limit (USD)").fill("0.00002");
  await dialog.getByRole("button", { name: "Create budget" }).click();
  await expect(dialog).toBeHidden();
  await expect(admin.getByRole("table", { name: "Budgets" }).getByText("Team A")).toBeVisible();

  // A call costs about $0.000013 here: the first one fits, the next is capped to what is left, then 429.
  const dev = await pageAs(browser, baseURL, "dev-a@e2e.example");
  await dev.goto("/playground");
  const answer = dev.getByRole("region", { name: "Answer" });
  let refused = false;
  for (let i = 0; i < 6 && !refused; i++) {
    await send(dev, `Spend some of team A's budget, call ${i}`, { temperature: "0.7" });
    await expect(answer).toBeVisible();
    refused = ((await answer.textContent()) ?? "").includes("budget_exceeded");
  }
  expect(refused).toBe(true);
  await expect(dev.getByText("HTTP 429")).toBeVisible();
  await expect(answer).toContainText(/daily|monthly/);
  await screenshot(dev, "playground-budget-exceeded");
  await dev.context().close();

  // The thresholds it crossed on the way are alerts on the Budgets page.
  const alerts = admin.getByRole("table", { name: "Budget alerts" });
  await expect(async () => {
    await admin.reload();
    await expect(alerts.getByRole("row").filter({ hasText: "Team · monthly" }).first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await screenshot(admin, "budget-alerts");
  // Leave no cap behind for specs that run later.
  await admin.getByRole("button", { name: "Delete budget Team A" }).click();
  await admin.getByRole("dialog").getByRole("button", { name: "Delete budget" }).click();
  await expect(admin.getByRole("table", { name: "Budgets" }).getByText("Team A")).toHaveCount(0);
});
