import type { NextConfig } from "next";

const config: NextConfig = {
  // Server-only packages with WASM, native addons or worker threads stay outside the bundle, so Next's
  // route handlers and server/main.ts load the same module instances (one runtime per process).
  serverExternalPackages: [
    "@electric-sql/pglite",
    "pglite-prisma-adapter",
    "@prisma/client",
    "@prisma/adapter-pg",
    "pg",
    "pino",
    "prom-client",
    "ioredis",
  ],
  poweredByHeader: false,
  // Types are checked by `npm test` (tsc --noEmit over the whole project, tests included), not by the build.
  typescript: { ignoreBuildErrors: true },
  reactStrictMode: true,
  typedRoutes: false,
};

export default config;
