/** Which keys may still run their batches' lines: the same refusals as authentication on a live request. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestOrg, type TestOrg } from "../api/testing";
import { createApiKey } from "../keys/service";
import { startTestServer, type TestServer } from "../testing/harness";
import { loadKeys } from "./lines";

describe("loadKeys", () => {
  let app: TestServer;
  let org: TestOrg;
  beforeAll(async () => {
    app = await startTestServer();
    org = await createTestOrg(app.rt);
  });
  afterAll(() => app?.dispose());

  it("refuses revoked, expired, disabled and owner-disabled keys, and passes the rest", async () => {
    const db = app.rt.db.prisma;
    const make = async (name: string, data: Record<string, unknown> = {}) => {
      const { record } = await createApiKey(db, { orgId: org.orgId, teamId: org.teamA, name });
      if (Object.keys(data).length > 0) await db.apiKey.update({ where: { id: record.id }, data });
      return record.id;
    };
    const past = new Date(Date.now() - 1_000);
    const ids = {
      ok: await make("ok"),
      revoked: await make("revoked", { revokedAt: past }),
      expired: await make("expired", { expiresAt: past }),
      disabled: await make("disabled", { disabledAt: past }),
      owner: await make("owner", { ownerId: org.users.developerB.id }),
    };
    await db.user.update({ where: { id: org.users.developerB.id }, data: { disabledAt: past } });
    const states = await loadKeys(db, [...Object.values(ids), "missing-key-id"]);
    const messageOf = (id: string) => {
      const state = states.get(id)!;
      return state.ok ? "ok" : state.error.message;
    };
    expect(states.get(ids.ok)).toMatchObject({ ok: true, key: { apiKeyId: ids.ok, teamId: org.teamA } });
    expect(messageOf(ids.revoked)).toMatch(/has been revoked/);
    expect(messageOf(ids.expired)).toMatch(/has expired/);
    expect(messageOf(ids.disabled)).toMatch(/is disabled/);
    expect(messageOf(ids.owner)).toMatch(/belongs to a disabled user/);
    expect(messageOf("missing-key-id")).toMatch(/no longer exists/);
  });
});
