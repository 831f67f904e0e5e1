import { expect, test } from "@playwright/test";

test("the dashboard shell loads with system status", async ({ page }) => {
  await page.goto("/");
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Overview" })).toHaveAttribute(
    "aria-current",
    "page",
  );
  const status = page.getByRole("region", { name: "System status" });
  await expect(status.getByText("Ready", { exact: true })).toBeVisible();
  await expect(status.getByText(/Embedded PGlite|PostgreSQL/)).toBeVisible();
  await page.screenshot({ path: "e2e/artifacts/overview.png", fullPage: true });
});

test("the gateway answers next to the dashboard, and wants an API key", async ({ request }) => {
  const res = await request.get("/api/v1/models");
  expect(res.status()).toBe(401);
  expect(await res.json()).toMatchObject({ error: { code: "invalid_api_key", type: "authentication_error" } });
});
