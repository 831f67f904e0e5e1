import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig } from "@playwright/test";
import { ADMIN_STATE, E2E_PORT, SIMULATOR_PORT } from "./e2e/fixtures";

// Debian's Chromium (apt-get install chromium); Playwright never downloads a browser here.
const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const dataDir = mkdtempSync(path.join(os.tmpdir(), "switchyard-e2e-"));

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  timeout: 60_000,
  expect: { timeout: 15_000 },
  use: {
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
    viewport: { width: 1280, height: 800 },
    trace: "retain-on-failure",
    launchOptions: {
      executablePath,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  projects: [
    // First run happens once, on a fresh database: it creates the admin every other spec signs in as.
    { name: "first-run", testMatch: /first-run\.setup\.ts/ },
    { name: "dashboard", dependencies: ["first-run"], use: { storageState: ADMIN_STATE } },
  ],
  // One Switchyard server (and one provider simulator it can be pointed at) for every spec.
  webServer: [
    {
      command: `node --import tsx server/providers/simulator/main.ts --port ${SIMULATOR_PORT} --host 127.0.0.1`,
      url: `http://127.0.0.1:${SIMULATOR_PORT}/openai/v1/models`,
      timeout: 60_000,
      reuseExistingServer: false,
      stdout: "ignore",
    },
    {
      command: "node --import tsx server/main.ts",
      url: `http://127.0.0.1:${E2E_PORT}/api/ready`,
      timeout: 120_000,
      reuseExistingServer: false,
      stdout: "pipe",
      env: {
        PORT: String(E2E_PORT),
        HOST: "127.0.0.1",
        SWITCHYARD_DATA_DIR: dataDir,
        LOG_LEVEL: "warn",
        NODE_ENV: "production",
        NEXT_TELEMETRY_DISABLED: "1",
      },
    },
  ],
});
