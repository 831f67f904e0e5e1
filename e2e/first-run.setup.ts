/**
 * First run on a fresh install: the dashboard sends the first visitor to /setup, which creates the first admin,
 * signs them in and then closes for good. Saves the admin's cookies for the other specs.
 */
import { expect, test } from "@playwright/test";
import { ADMIN, ADMIN_STATE, screenshot } from "./fixtures";

test("first run: /setup creates the first admin, signs in, then closes", async ({ page }) => {
  await page.goto("/");
  await expect(page).toHaveURL(/\/setup$/);
  await expect(page.getByRole("heading", { name: "Welcome to Switchyard" })).toBeVisible();
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Name").fill(ADMIN.name);
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByLabel("Confirm password").fill("short");
  await page.getByRole("button", { name: "Create admin account" }).click();
  await expect(page.getByText("must have at least 12 characters")).toBeVisible();
  await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await page.getByLabel("Confirm password").fill(ADMIN.password);
  await screenshot(page, "setup");
  await page.getByRole("button", { name: "Create admin account" }).click();

  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
  await expect(page.getByRole("button", { name: `Account: ${ADMIN.email}` })).toBeVisible();

  // Closed for good: a second visitor cannot create another admin.
  const again = await page.request.get("/setup");
  expect(again.status()).toBe(404);
  await page.context().storageState({ path: ADMIN_STATE });
});
