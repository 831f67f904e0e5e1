import path from "node:path";
import { defineConfig } from "vitest/config";

const alias = { "@": path.resolve(import.meta.dirname) };

export default defineConfig({
  resolve: { alias },
  test: {
    projects: [
      {
        resolve: { alias },
        test: {
          name: "unit",
          include: ["{server,lib,components,bench,scripts}/**/*.test.ts"],
          exclude: ["**/*.int.test.ts", "node_modules/**"],
          environment: "node",
          // No unit test is timed: the cap only catches a hang. Vitest's 5 s default failed a test that imports most
          // of the server on a CI machine under load (ioredis.test.ts), so a hang is called after 30 s instead.
          testTimeout: 30_000,
        },
      },
      {
        resolve: { alias },
        test: {
          name: "int",
          include: ["{server,lib,bench,scripts}/**/*.int.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // Files share the machine's Postgres and ports; a couple in parallel keeps CI fast on 2 cores.
          maxWorkers: 2,
        },
      },
    ],
  },
});
