/**
 * The control plane's tRPC router: one sub-router per area (server/api/routers/<area>.ts). Adding a procedure?
 * Give it a rule in server/api/access-matrix.int.test.ts EXPECTED, or that test fails.
 */
import { analyticsRouter } from "./routers/analytics";
import { apiKeysRouter } from "./routers/api-keys";
import { auditRouter } from "./routers/audit";
import { budgetsRouter } from "./routers/budgets";
import { cacheRulesRouter } from "./routers/cache-rules";
import { callsRouter } from "./routers/calls";
import { meRouter } from "./routers/me";
import { modelsRouter } from "./routers/models";
import { playgroundRouter } from "./routers/playground";
import { policiesRouter } from "./routers/policies";
import { providersRouter } from "./routers/providers";
import { settingsRouter } from "./routers/settings";
import { setupRouter } from "./routers/setup";
import { teamsRouter } from "./routers/teams";
import { usersRouter } from "./routers/users";
import { createCallerFactory, router } from "./trpc";

export const appRouter = router({
  setup: setupRouter,
  me: meRouter,
  providers: providersRouter,
  models: modelsRouter,
  policies: policiesRouter,
  apiKeys: apiKeysRouter,
  teams: teamsRouter,
  users: usersRouter,
  audit: auditRouter,
  settings: settingsRouter,
  calls: callsRouter,
  analytics: analyticsRouter,
  budgets: budgetsRouter,
  cacheRules: cacheRulesRouter,
  playground: playgroundRouter,
});

export type AppRouter = typeof appRouter;

/** In-process calls with an explicit context (server components, tests): `createCaller(ctx).providers.list()`. */
export const createCaller = createCallerFactory(appRouter);
