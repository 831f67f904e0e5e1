// Prisma CLI configuration. Only `prisma generate` is run here (see scripts/prisma-generate.mjs);
// migrations are applied by server/db/migrate.ts without the schema-engine binary.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
