/**
 * Reliability case 24: every tRPC procedure × every role. The table below is the access policy, written out; the
 * procedures come from the router itself, so a procedure added without a rule here fails "every procedure has a
 * rule". Each procedure is called by each role with no input: the role check runs before input parsing, so a
 * refused role gets UNAUTHORIZED/FORBIDDEN and an admitted one gets anything else (usually BAD_REQUEST: nothing
 * changes).
 */
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allows, type AccessLevel, type Role } from "@/lib/roles";
import { startTestServer, type TestServer } from "../testing/harness";
import { appRouter } from "./root";
import { callerAs, createTestOrg, type TestOrg } from "./testing";

const EXPECTED: Record<string, AccessLevel> = {
  "setup.status": "public",
  "setup.createAdmin": "public",
  "me.get": "member",
  "me.changePassword": "member",
  "providers.kinds": "admin",
  "providers.list": "admin",
  "providers.get": "admin",
  "providers.create": "admin",
  "providers.update": "admin",
  "providers.delete": "admin",
  "providers.testConnection": "admin",
  "models.list": "member",
  "models.overrides": "member",
  "models.upsertOverride": "admin",
  "models.setEnabled": "admin",
  "models.deleteOverride": "admin",
  "policies.list": "member",
  "policies.get": "member",
  "policies.versions": "member",
  "policies.validate": "member",
  "policies.dryRun": "member",
  "policies.create": "admin",
  "policies.update": "admin",
  "policies.rollback": "admin",
  "policies.delete": "admin",
  "apiKeys.list": "member",
  "apiKeys.create": "developer",
  "apiKeys.setDisabled": "developer",
  "apiKeys.revoke": "developer",
  "teams.list": "member",
  "teams.create": "admin",
  "teams.update": "admin",
  "teams.delete": "admin",
  "users.list": "admin",
  "users.create": "admin",
  "users.update": "admin",
  "users.setPassword": "admin",
  "audit.list": "admin",
  "audit.entities": "admin",
  "settings.get": "member",
  "settings.update": "admin",
  "calls.list": "member",
  "calls.get": "member",
  "calls.facets": "member",
  "analytics.overview": "member",
  "analytics.series": "member",
  "analytics.months": "finance",
  "analytics.breakdown": "finance",
  "analytics.report": "finance",
  "analytics.exportCsv": "finance",
  "budgets.list": "member",
  "budgets.alerts": "member",
  "budgets.create": "finance",
  "budgets.update": "finance",
  "budgets.delete": "finance",
  "cacheRules.list": "member",
  "cacheRules.create": "admin",
  "cacheRules.update": "admin",
  "cacheRules.delete": "admin",
  "cacheRules.bumpNamespace": "admin",
  "cacheRules.purge": "admin",
  "cacheRules.stats": "member",
  "playground.options": "developer",
  "playground.send": "developer",
};

const procedures = Object.keys(appRouter._def.procedures).sort();
const ROLES: Array<Role | "anonymous"> = ["anonymous", "admin", "developer", "finance"];

let app: TestServer;
let org: TestOrg;

beforeAll(async () => {
  app = await startTestServer();
  org = await createTestOrg(app.rt);
});
afterAll(() => app?.dispose());

describe("role × procedure matrix", () => {
  it("every procedure has a rule, and every rule a procedure", () => {
    expect(procedures.filter((p) => !(p in EXPECTED)), "procedures without a rule in EXPECTED").toEqual([]);
    expect(Object.keys(EXPECTED).filter((p) => !procedures.includes(p)), "rules for procedures that do not exist").toEqual([]);
  });

  for (const role of ROLES) {
    it(`${role}: only what the role allows`, async () => {
      const user = role === "anonymous" ? null : { admin: org.users.admin, developer: org.users.developerA, finance: org.users.finance }[role];
      const caller = callerAs(app.rt, user) as unknown as Record<string, Record<string, (input?: unknown) => Promise<unknown>>>;
      const outcomes: Record<string, string> = {};
      const expected: Record<string, string> = {};
      for (const path of procedures) {
        const [area, name] = path.split(".") as [string, string];
        let outcome = "ok";
        try {
          await caller[area]![name]!(undefined);
        } catch (error) {
          outcome = error instanceof TRPCError ? error.code : `unexpected ${String(error)}`;
        }
        const admitted = allows(EXPECTED[path]!, role === "anonymous" ? null : role);
        // Refusals and crashes exactly; any other outcome (a result, BAD_REQUEST for the missing input) is "admitted".
        const exact = ["UNAUTHORIZED", "FORBIDDEN", "INTERNAL_SERVER_ERROR"].includes(outcome) || outcome.startsWith("unexpected");
        outcomes[path] = exact ? outcome : "admitted";
        expected[path] = admitted ? "admitted" : role === "anonymous" ? "UNAUTHORIZED" : "FORBIDDEN";
      }
      expect(outcomes).toEqual(expected);
    });
  }
});
