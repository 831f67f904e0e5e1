/**
 * The control plane in a real browser against the real server and the provider simulator: providers, policies,
 * API keys used by the official `openai` client, teams and users, roles (finance cannot open Providers) and team
 * isolation (a developer of team A cannot see team B's keys). One server for every test; tests run in order and
 * build on each other. Screenshots of each page go to e2e/artifacts/.
 */
import { expect, test, type Page } from "@playwright/test";
import OpenAI from "openai";
import { pageAs, PASSWORD, screenshot, signIn, ADMIN, SIMULATOR_URL } from "./fixtures";

test.describe.configure({ mode: "serial" });

const PROVIDER_KEY = "sk-e2e-provider-secret-000000001234";
let apiKey = "";

async function addUser(page: Page, email: string, role: "Developer" | "Finance", team?: string) {
  await page.getByRole("button", { name: "Add user" }).click();
  const dialog = page.getByRole("dialog", { name: "Add user" });
  await dialog.getByLabel("Email").fill(email);
  await dialog.getByLabel("Role").selectOption({ label: role });
  if (team) await dialog.getByLabel("Team").selectOption({ label: team });
  await dialog.getByLabel("Initial password").fill(PASSWORD);
  await dialog.getByRole("button", { name: "Add user" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("table", { name: "Users" }).getByText(email)).toBeVisible();
}

test("sign out, a wrong password, then sign in again", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "do not match" })).toBeVisible();
  await screenshot(page, "sign-in");
  await signIn(page, ADMIN.email, ADMIN.password);
  await page.getByRole("button", { name: `Account: ${ADMIN.email}` }).click();
  await page.getByRole("menuitem", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/providers");
  await expect(page).toHaveURL(/\/sign-in$/);
  await context.close();
});

test("add a provider pointing at the simulator, key masked, connection tested", async ({ page }) => {
  await page.goto("/providers");
  await expect(page.getByRole("heading", { name: "Providers & models" })).toBeVisible();
  await page.getByRole("button", { name: "Add provider" }).click();
  const dialog = page.getByRole("dialog", { name: "Add provider" });
  await dialog.getByLabel("Kind").selectOption({ label: "Simulator" });
  await dialog.getByLabel("Name").fill("e2e-sim");
  // Refused at save: the simulator listens on loopback, which needs the private-address opt-in.
  await dialog.getByLabel("Base URL").fill(SIMULATOR_URL);
  await dialog.getByLabel("API key").fill(PROVIDER_KEY);
  await dialog.getByRole("button", { name: "Add provider" }).click();
  await expect(dialog.getByRole("alert")).toContainText("refused");
  await dialog.getByLabel(/Allow private addresses/).check();
  await dialog.getByRole("button", { name: "Add provider" }).click();
  await expect(dialog).toBeHidden();

  const table = page.getByRole("table", { name: "Providers" });
  const row = table.getByRole("row").filter({ hasText: "e2e-sim" });
  await expect(row.getByText("•••• 1234")).toBeVisible();
  await expect(page.locator("body")).not.toContainText(PROVIDER_KEY);
  await row.getByRole("button", { name: "Test connection to e2e-sim" }).click();
  await expect(row.getByText(/Connected: the provider answered/)).toBeVisible();
  await screenshot(page, "providers");

  await page.getByRole("tab", { name: "Models" }).click();
  await page.getByLabel("Search", { exact: true }).fill("gpt-4o-mini");
  // The search applies after a short pause: wait for the short list, not the first page of everything.
  await expect(page.getByText(/ of \d+ models$/)).toHaveText(/ of [1-9] models$/);
  await expect(page.getByRole("table", { name: "Models" }).getByText("gpt-4o-mini").first()).toBeVisible();
  await screenshot(page, "models");
});

test("create a policy with a fallback, validated live, versioned", async ({ page }) => {
  await page.goto("/policies");
  await page.getByRole("link", { name: "New policy" }).click();
  await expect(page.getByRole("heading", { name: "New policy" })).toBeVisible();
  await page.getByLabel("Provider of target 1").selectOption("e2e-sim");
  await page.getByLabel("Model of target 1").fill("sim-small");
  await page.getByRole("button", { name: "Add fallback target" }).click();
  await page.getByLabel("Provider of target 2").selectOption("e2e-sim");
  await page.getByLabel("Model of target 2").fill("sim-large");
  await page.getByLabel("Name", { exact: true }).fill("e2e-bot");
  await page.getByLabel("Description").fill("Browser-test policy");
  await expect(page.getByText("Valid policy document")).toBeVisible();

  // The JSON view shows the same document, and refuses broken JSON in place.
  await page.getByRole("tab", { name: "JSON" }).click();
  const json = page.getByLabel("Policy document (JSON)");
  await expect(json).toHaveValue(/"sim-large"/);
  const document = await json.inputValue();
  await json.fill(`${document}\n}`);
  await expect(page.getByText(/Not valid JSON/)).toBeVisible();
  await expect(page.getByRole("button", { name: "Create policy" })).toBeDisabled();
  await json.fill(document);
  await expect(page.getByText("Valid policy document")).toBeVisible();
  await screenshot(page, "policy-editor");

  await page.getByRole("button", { name: "Create policy" }).click();
  await expect(page).toHaveURL(/\/policies\/[a-z0-9]+$/);
  await expect(page.getByRole("heading", { name: "e2e-bot" })).toBeVisible();
  await expect(page.getByRole("list", { name: "Versions" }).getByText("Version 1")).toBeVisible();
  await page.goto("/policies");
  await expect(page.getByRole("table", { name: "Policies" }).getByRole("link", { name: "e2e-bot" })).toBeVisible();
  await screenshot(page, "policies");
});

test("create an API key, shown once, and call the gateway with the official openai client", async ({ page, baseURL }) => {
  await page.goto("/keys");
  await page.getByRole("button", { name: "Create API key" }).click();
  const dialog = page.getByRole("dialog", { name: "Create an API key" });
  await dialog.getByLabel("Name").fill("e2e-app");
  await dialog.getByLabel("Team").selectOption({ label: "Default team" });
  await dialog.getByRole("button", { name: "Create key" }).click();
  apiKey = await dialog.getByTestId("new-api-key").inputValue();
  expect(apiKey).toMatch(/^sy-[A-Za-z0-9]{32}$/);
  await screenshot(page, "api-key-created");
  await dialog.getByRole("button", { name: "I have copied the key" }).click();

  // Shown once: the list has the prefix only, and the key is nowhere on the page any more.
  await page.reload();
  const row = page.getByRole("table", { name: "API keys" }).getByRole("row").filter({ hasText: "e2e-app" });
  await expect(row.getByText(`${apiKey.slice(0, 9)}…`)).toBeVisible();
  await expect(page.locator("body")).not.toContainText(apiKey);
  await screenshot(page, "api-keys");

  const client = new OpenAI({ baseURL: `${baseURL}/api/v1`, apiKey, maxRetries: 0 });
  const completion = await client.chat.completions.create({ model: "e2e-bot", messages: [{ role: "user", content: "hello from the browser test" }] });
  expect(completion.choices[0]?.message.content).toContain("Simulated reply");

  // Pause the key from the list: the gateway answers 401 until it is enabled again.
  await row.getByRole("button", { name: "Disable e2e-app" }).click();
  await expect(row.getByText("Disabled", { exact: true })).toBeVisible();
  await expect.poll(async () => client.chat.completions.create({ model: "e2e-bot", messages: [{ role: "user", content: "paused?" }] }).then(() => 200, (e: { status?: number }) => e.status), { timeout: 5_000 }).toBe(401);
  await row.getByRole("button", { name: "Enable e2e-app" }).click();
  await expect(row.getByText("Active", { exact: true })).toBeVisible();
  await expect.poll(async () => client.chat.completions.create({ model: "e2e-bot", messages: [{ role: "user", content: "back?" }] }).then(() => 200, (e: { status?: number }) => e.status), { timeout: 5_000 }).toBe(200);
});

test("teams and users: two teams, a developer in each, a finance user", async ({ page }) => {
  await page.goto("/teams");
  for (const name of ["Team A", "Team B"]) {
    await page.getByRole("button", { name: "New team" }).click();
    const dialog = page.getByRole("dialog", { name: "New team" });
    await dialog.getByLabel("Name").fill(name);
    await expect(dialog.getByLabel("Slug")).toHaveValue(name.toLowerCase().replace(" ", "-"));
    await dialog.getByRole("button", { name: "Create team" }).click();
    await expect(dialog).toBeHidden();
  }
  await addUser(page, "dev-a@e2e.example", "Developer", "Team A");
  await addUser(page, "dev-b@e2e.example", "Developer", "Team B");
  await addUser(page, "finance@e2e.example", "Finance");
  await screenshot(page, "teams");

  await page.goto("/audit");
  await expect(page.getByRole("table", { name: "Audit log" }).getByText("provider.create")).toBeVisible();
  await expect(page.locator("body")).not.toContainText(PROVIDER_KEY);
  await screenshot(page, "audit");

  await page.goto("/settings");
  await expect(page.getByRole("heading", { name: "Settings" })).toBeVisible();
  await expect(page.getByText("Embedded PGlite").or(page.getByText("PostgreSQL"))).toBeVisible();
  await screenshot(page, "settings");
});

test("finance sees no Providers entry and cannot open Providers", async ({ browser, baseURL }) => {
  const page = await pageAs(browser, baseURL, "finance@e2e.example");
  const nav = page.getByRole("navigation", { name: "Main" });
  await expect(nav.getByRole("link", { name: "Policies" })).toBeVisible();
  await expect(nav.getByRole("link", { name: "Providers & models" })).toHaveCount(0);
  await page.goto("/providers");
  await expect(page.getByText("You don't have access to this page")).toBeVisible();
  await expect(page.getByRole("table", { name: "Providers" })).toHaveCount(0);
  await screenshot(page, "finance-forbidden");
  // The API says the same.
  const res = await page.request.get("/api/trpc/providers.list");
  expect(res.status()).toBe(403);
  await page.context().close();
});

test("a developer of team A cannot see team B's keys", async ({ page: admin, browser, baseURL }) => {
  const devB = await pageAs(browser, baseURL, "dev-b@e2e.example");
  await devB.goto("/keys");
  await devB.getByRole("button", { name: "Create API key" }).click();
  const dialog = devB.getByRole("dialog", { name: "Create an API key" });
  await expect(dialog.getByLabel("Team")).toBeDisabled();
  await dialog.getByLabel("Name").fill("team-b-secret-service");
  await dialog.getByRole("button", { name: "Create key" }).click();
  await dialog.getByRole("button", { name: "I have copied the key" }).click();
  await expect(devB.getByRole("table", { name: "API keys" }).getByText("team-b-secret-service")).toBeVisible();
  await devB.context().close();

  const devA = await pageAs(browser, baseURL, "dev-a@e2e.example");
  await devA.goto("/keys");
  const table = devA.getByRole("table", { name: "API keys" });
  await expect(table.getByText("No API keys")).toBeVisible();
  await expect(devA.locator("body")).not.toContainText("team-b-secret-service");
  await expect(devA.locator("body")).not.toContainText("e2e-app");
  await screenshot(devA, "developer-keys");
  // Asking the API directly for team B's keys is refused.
  const teams = (await (await admin.request.get("/api/trpc/teams.list")).json()) as { result: { data: { json: Array<{ id: string; name: string }> } } };
  const teamB = teams.result.data.json.find((t) => t.name === "Team B")!;
  const input = encodeURIComponent(JSON.stringify({ json: { teamId: teamB.id } }));
  expect((await devA.request.get(`/api/trpc/apiKeys.list?input=${input}`)).status()).toBe(403);
  await devA.context().close();
});
