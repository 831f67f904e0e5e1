/**
 * Shared by the Playwright config and the specs: ports, the first admin's credentials, saved sign-in state, and
 * helpers to sign in as someone else in a fresh browser context.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, type Browser, type Page } from "@playwright/test";

export const E2E_PORT = Number(process.env.E2E_PORT ?? 3210);
export const SIMULATOR_PORT = Number(process.env.E2E_SIMULATOR_PORT ?? E2E_PORT + 1);
/** The provider simulator the e2e web server starts; specs create a provider pointing at it. */
export const SIMULATOR_URL = `http://127.0.0.1:${SIMULATOR_PORT}`;
/**
 * Cookies of the signed-in first admin (written by first-run.setup.ts), in a directory of this run: the config
 * creates it once and the workers inherit it through the environment, so two runs never share (or clean) it.
 */
export const ADMIN_STATE = path.join((process.env.E2E_STATE_DIR ??= mkdtempSync(path.join(os.tmpdir(), "switchyard-e2e-state-"))), "admin.json");

export const ADMIN = { email: "admin@e2e.example", name: "E2E Admin", password: "e2e admin password 1" };
export const PASSWORD = "e2e member password 1";

/** Signs in through the sign-in page and waits for the overview. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Overview" })).toBeVisible();
}

/** A page in a fresh context (no cookies), signed in as `email`. */
export async function pageAs(browser: Browser, baseURL: string | undefined, email: string, password = PASSWORD): Promise<Page> {
  const context = await browser.newContext({ baseURL, storageState: { cookies: [], origins: [] } });
  const page = await context.newPage();
  await signIn(page, email, password);
  return page;
}

/** Saves a full-page screenshot into e2e/artifacts/ (kept by CI as test artifacts). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `e2e/artifacts/${name}.png`, fullPage: true });
}
