/** SWITCHYARD_ADMIN_EMAIL / _PASSWORD create the first admin on a fresh install, once. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../testing/harness";
import { authRuntime } from "./config";
import { checkCredentials } from "./credentials";
import { bootstrapAdminFromEnv, needsSetup } from "./setup";

let app: TestServer;
const env = { SWITCHYARD_ADMIN_EMAIL: "Ops@Example.com", SWITCHYARD_ADMIN_PASSWORD: "bootstrap password 1" };

beforeAll(async () => {
  app = await startTestServer(env);
});
afterAll(() => app?.dispose());

describe("first admin from the environment", () => {
  it("is created when auth first starts, and closes setup", async () => {
    expect(await needsSetup(app.rt.db.prisma)).toBe(true);
    await authRuntime(app.rt);
    const admin = await app.rt.db.prisma.user.findFirstOrThrow({ where: { email: "ops@example.com" } });
    expect(admin.role).toBe("admin");
    expect(await needsSetup(app.rt.db.prisma)).toBe(false);
    const signIn = await checkCredentials({ db: app.rt.db.prisma, state: app.rt.state }, { email: env.SWITCHYARD_ADMIN_EMAIL, password: env.SWITCHYARD_ADMIN_PASSWORD });
    expect(signIn.ok).toBe(true);
    expect(app.logs.text()).not.toContain(env.SWITCHYARD_ADMIN_PASSWORD);
  });

  it("leaves an existing install alone (the password is not reset)", async () => {
    const before = await app.rt.db.prisma.user.findFirstOrThrow({ where: { email: "ops@example.com" } });
    expect(await bootstrapAdminFromEnv(app.rt.db.prisma, { ...env, SWITCHYARD_ADMIN_PASSWORD: "another password 123" }, app.rt.log)).toBe(false);
    const after = await app.rt.db.prisma.user.findFirstOrThrow({ where: { email: "ops@example.com" } });
    expect(after.passwordHash).toBe(before.passwordHash);
    expect(await app.rt.db.prisma.user.count()).toBe(1);
  });
});
