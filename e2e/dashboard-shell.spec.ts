import { expect, test } from "@playwright/test";
import { screenshot } from "./fixtures";

test("the dashboard shell loads with system status for a signed-in user", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" })).toHaveAttribute(
    "aria-current",
    "page",
  );
  const status = page.getByRole("region", { name: "System status" });
  await expect(status.getByText("Ready", { exact: true })).toBeVisible();
  await expect(status.getByText(/Embedded PGlite|PostgreSQL/)).toBeVisible();
  await screenshot(page, "overview");
});

test("signed out, the dashboard sends you to sign in", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByRole("heading", { name: "Sign in" })).toBeVisible();
  await context.close();
});

test("the gateway answers next to the dashboard, and wants an API key", async ({ request }) => {
  const res = await request.get("/api/v1/models");
  expect(res.status()).toBe(401);
  expect(await res.json()).toMatchObject({ error: { code: "invalid_api_key", type: "authentication_error" } });
});
