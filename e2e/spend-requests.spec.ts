/**
 * Requests, Spend, Savings, Budgets and the Overview numbers with real traffic: a few calls through the gateway with
 * the official openai client (the provider, the "e2e-bot" policy and the users come from control-plane.spec.ts,
 * which runs first), then the pages that report them, as the admin and as the finance user.
 */
import { expect, test } from "@playwright/test";
import OpenAI from "openai";
import { pageAs, screenshot } from "./fixtures";

test.describe.configure({ mode: "serial" });

const CALLS = 3;

test("calls through the gateway appear in Requests, with a detail of the route", async ({ page, baseURL }) => {
  const teams = (await (await page.request.get("/api/trpc/teams.list")).json()) as { result: { data: { json: Array<{ id: string; name: string }> } } };
  const team = teams.result.data.json.find((t) => t.name === "Default team")!;
  const created = await page.request.post("/api/trpc/apiKeys.create", {
    headers: { origin: baseURL!, "content-type": "application/json" },
    data: { json: { name: "e2e-reports", teamId: team.id } },
  });
  expect(created.status()).toBe(200);
  const { key, record } = ((await created.json()) as { result: { data: { json: { key: string; record: { prefix: string } } } } }).result.data.json;
  const client = new OpenAI({ baseURL: `${baseURL}/api/v1`, apiKey: key, maxRetries: 0 });
  for (let i = 0; i < CALLS; i++) {
    await client.chat.completions.create({ model: "e2e-bot", messages: [{ role: "user", content: `report me ${i}` }] });
  }

  await page.goto("/requests");
  await expect(page.getByRole("heading", { name: "Requests", exact: true })).toBeVisible();
  // Filter by the new key (kept in the URL); the call log lands within a second or two.
  await page.getByLabel("Key").selectOption({ label: `e2e-reports (${record.prefix}…)` });
  await expect(page).toHaveURL(/apiKeyId=/);
  const table = page.getByRole("table", { name: "Calls" });
  await expect(async () => {
    await page.reload();
    await expect(table.getByRole("row").filter({ hasText: `${record.prefix}…` })).toHaveCount(CALLS, { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  const row = table.getByRole("row").filter({ hasText: `${record.prefix}…` }).first();
  await expect(row.getByText("200")).toBeVisible();
  await expect(row.getByText("$0.").or(row.getByText(/\$\d/))).toBeVisible();
  await screenshot(page, "requests");

  await row.getByRole("button", { name: /Details of call/ }).click();
  const dialog = page.getByRole("dialog", { name: "Call detail" });
  const decision = dialog.getByRole("region", { name: "Route decision" });
  await expect(decision.getByRole("heading", { name: "Route decision" })).toBeVisible();
  await expect(decision).toContainText("policy e2e-bot");
  // The chosen target is marked among the candidates, and its attempt is listed with its status.
  await expect(decision.getByRole("region", { name: "Candidates" }).getByRole("listitem").filter({ hasText: "answered" })).toHaveCount(1);
  await expect(decision.getByRole("region", { name: "Attempts" }).getByRole("listitem").first()).toContainText("200");
  await expect(dialog.getByText("Input tokens by type")).toBeVisible();
  await screenshot(page, "request-detail");
});

test("finance sees Spend with the month's calls, the report and a CSV export", async ({ browser, baseURL }) => {
  const page = await pageAs(browser, baseURL, "finance@e2e.example");
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Spend" })).toBeVisible();
  await page.goto("/spend");
  await expect(page.getByRole("heading", { name: "Spend", exact: true })).toBeVisible();
  const table = page.getByRole("table", { name: /Spend by team/ });
  await expect(table.getByRole("row").filter({ hasText: "Default team" })).toBeVisible();
  await screenshot(page, "spend");

  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "Export CSV" }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^switchyard-spend-\d{4}-\d{2}\.csv$/);
  const text = await (await file.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString("utf8"));
  expect(text.split("\r\n")[0]).toContain("cost_usd");
  expect(text).toContain("Default team");

  await page.getByRole("tab", { name: "Month-end report" }).click();
  await expect(page.getByRole("table", { name: /By provider/ })).toBeVisible();
  await screenshot(page, "spend-report");

  await page.goto("/savings");
  await expect(page.getByRole("heading", { name: "Savings", exact: true })).toBeVisible();
  await expect(page.getByRole("img", { name: "Baseline and actual cost over time" })).toBeVisible();
  await screenshot(page, "savings");

  await page.goto("/budgets");
  await page.getByRole("button", { name: "Create budget" }).click();
  const dialog = page.getByRole("dialog", { name: "Create a budget" });
  await dialog.getByLabel("Applies to").selectOption({ label: "Organization" });
  await dialog.getByLabel("Limit (USD)").fill("100");
  await dialog.getByRole("button", { name: "Create budget" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("table", { name: "Budgets" }).getByText("Whole organization")).toBeVisible();
  await screenshot(page, "budgets");
  // Leave no cap behind for specs that run later.
  await page.getByRole("button", { name: "Delete budget Whole organization" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete budget" }).click();
  await expect(page.getByRole("table", { name: "Budgets" }).getByText("Whole organization")).toHaveCount(0);
  await page.context().close();
});

test("a developer cannot open Spend; the overview shows usage", async ({ page, browser, baseURL }) => {
  await page.goto("/");
  const usage = page.getByRole("region", { name: "Usage" });
  await expect(usage.getByRole("term").filter({ hasText: /^Requests$/ })).toBeVisible();
  await expect(usage.getByRole("term").filter({ hasText: /^Month to date$/ })).toBeVisible();
  await expect(page.getByRole("img", { name: /Spend and requests per/ })).toBeVisible();
  await screenshot(page, "overview-usage");

  const dev = await pageAs(browser, baseURL, "dev-a@e2e.example");
  await expect(dev.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Spend" })).toHaveCount(0);
  await dev.goto("/spend");
  await expect(dev.getByText("You don't have access to this page")).toBeVisible();
  await dev.goto("/requests");
  await expect(dev.getByRole("table", { name: "Calls" })).toBeVisible();
  await expect(dev.locator("body")).not.toContainText("e2e-reports");
  await dev.context().close();
});
