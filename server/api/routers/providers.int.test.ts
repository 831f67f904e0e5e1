/**
 * Reliability case 23 at save time: provider base URLs pointing at metadata, loopback, private or IPv4-mapped
 * addresses, other schemes, or names resolving to private addresses are refused when saved; changing the URL
 * requires the key again. Keys are write-only (last 4 only in answers, nothing in audit rows or logs). Test
 * connection makes a real request to the simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../../providers/simulator";
import type { Resolver } from "../../providers/ssrf";
import { startTestServer, type TestServer } from "../../testing/harness";
import { callerAs, createTestOrg, type TestOrg } from "../testing";

const SECRET_KEY = "sk-provider-secret-0123456789abcdefWXYZ";
let app: TestServer;
let org: TestOrg;
let sim: Simulator;

/** DNS for the test: names map to fixed addresses, so nothing leaves the machine. */
const resolve: Resolver = async (host) => {
  const table: Record<string, string[]> = {
    "api.public.example": ["93.184.215.14"],
    "rebind.example": ["93.184.215.14", "10.0.0.7"],
    "internal.example": ["192.168.1.20"],
    "mapped.example": ["::ffff:169.254.169.254"],
  };
  const addresses = table[host];
  if (!addresses) throw new Error("ENOTFOUND");
  return addresses.map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));
};

const admin = () => callerAs(app.rt, org.users.admin);

beforeAll(async () => {
  app = await startTestServer({}, { resolve });
  org = await createTestOrg(app.rt);
  sim = await startSimulator({ apiKey: SECRET_KEY });
});
afterAll(async () => {
  await sim?.close();
  await app?.dispose();
});

describe("SSRF refusal at save", () => {
  const refused: Array<[string, string, boolean]> = [
    ["the cloud metadata address", "http://169.254.169.254/latest", false],
    ["the metadata address even with allowPrivate", "http://169.254.169.254/v1", true],
    ["the GCP metadata host", "http://metadata.google.internal/v1", true],
    ["loopback", "http://127.0.0.1:8080/v1", false],
    ["localhost", "http://localhost:8080/v1", false],
    ["IPv6 loopback", "http://[::1]:8080/v1", false],
    ["a private address", "http://10.1.2.3/v1", false],
    ["another private range", "http://192.168.0.10/v1", false],
    ["an IPv4-mapped IPv6 loopback", "http://[::ffff:127.0.0.1]/v1", false],
    ["an IPv4-mapped IPv6 metadata address", "http://[::ffff:a9fe:a9fe]/v1", true],
    ["a name resolving to a private address", "https://internal.example/v1", false],
    ["a name with one private address among public ones", "https://rebind.example/v1", false],
    ["a name resolving to a mapped metadata address", "https://mapped.example/v1", true],
    ["a name that does not resolve", "https://nowhere.example/v1", false],
    ["credentials in the URL", "https://user:pass@api.public.example/v1", false],
  ];
  for (const [what, baseUrl, allowPrivate] of refused) {
    it(`refuses ${what}`, async () => {
      const name = `p-${Math.random().toString(36).slice(2, 8)}`;
      await expect(admin().providers.create({ name, kind: "openai-compatible", baseUrl, allowPrivate, apiKey: SECRET_KEY })).rejects.toMatchObject({ code: "BAD_REQUEST" });
      expect(await app.rt.db.prisma.provider.count({ where: { name } })).toBe(0);
    });
  }

  for (const baseUrl of ["file:///etc/passwd", "ftp://api.public.example/v1", "gopher://api.public.example/", "builtin://simulator/openai/v1"]) {
    it(`refuses the scheme of ${baseUrl}`, async () => {
      await expect(admin().providers.create({ name: "scheme", kind: "openai-compatible", baseUrl })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    });
  }

  it("accepts a public host, and loopback with allowPrivate", async () => {
    await admin().providers.create({ name: "public", kind: "openai", baseUrl: "https://api.public.example/v1", apiKey: SECRET_KEY });
    await admin().providers.create({ name: "local", kind: "vllm", baseUrl: "http://127.0.0.1:8000/v1", allowPrivate: true });
  });

  it("refuses moving a saved provider to a refused URL", async () => {
    const row = await app.rt.db.prisma.provider.findFirstOrThrow({ where: { name: "public" } });
    await expect(admin().providers.update({ id: row.id, baseUrl: "http://169.254.169.254/", apiKey: SECRET_KEY })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    // Turning on allowPrivate re-checks the stored URL: public stays fine.
    await admin().providers.update({ id: row.id, allowPrivate: true });
    expect((await app.rt.db.prisma.provider.findUniqueOrThrow({ where: { id: row.id } })).baseUrl).toBe("https://api.public.example/v1");
  });
});

describe("keys are write-only", () => {
  it("requires the key again when the base URL changes", async () => {
    const row = await app.rt.db.prisma.provider.findFirstOrThrow({ where: { name: "public" } });
    const move = admin().providers.update({ id: row.id, baseUrl: "https://api.public.example/v2" });
    await expect(move).rejects.toMatchObject({ code: "BAD_REQUEST", cause: { code: "key_required" } });
    await expect(admin().providers.update({ id: row.id, kind: "deepseek" })).rejects.toMatchObject({ cause: { code: "key_required" } });
    const moved = await admin().providers.update({ id: row.id, baseUrl: "https://api.public.example/v2", apiKey: "sk-new-provider-key-00000000ABCD" });
    expect(moved.keyLast4).toBe("ABCD");
  });

  it("returns the last 4 characters only, and audits without the key", async () => {
    const list = await admin().providers.list();
    const text = JSON.stringify(list);
    expect(text).not.toContain(SECRET_KEY);
    expect(text).not.toContain("encryptedKey");
    expect(list.find((p) => p.name === "public")).toMatchObject({ hasKey: true, keyLast4: "ABCD" });
    const audit = JSON.stringify(await app.rt.db.prisma.auditLog.findMany({ where: { entity: "provider" } }));
    expect(audit).not.toContain(SECRET_KEY);
    expect(audit).not.toContain("sk-new-provider-key");
    expect(audit).toContain('"keyChanged":true');
  });
});

describe("test connection", () => {
  it("connects to the simulator with the right key and lists its models", async () => {
    const created = await admin().providers.create({ name: "sim", kind: "simulator", baseUrl: sim.url, allowPrivate: true, apiKey: SECRET_KEY, config: { protocol: "openai" } });
    const result = await admin().providers.testConnection({ id: created.id });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result.models).toBeGreaterThan(0);
    expect(sim.count({ protocol: "openai", operation: "models" })).toBeGreaterThan(0);
  });

  it("reports a wrong key as an auth failure, without the key", async () => {
    const created = await admin().providers.create({ name: "sim-anthropic", kind: "simulator", baseUrl: sim.url, allowPrivate: true, apiKey: "sk-wrong-key-000000000000000", config: { protocol: "anthropic" } });
    const result = await admin().providers.testConnection({ id: created.id });
    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.message).toMatch(/API key/);
    expect(result.message).not.toContain("sk-wrong-key");
  });

  it("reports a closed port as a connection failure", async () => {
    const created = await admin().providers.create({ name: "closed", kind: "vllm", baseUrl: "http://127.0.0.1:9/v1", allowPrivate: true });
    const result = await admin().providers.testConnection({ id: created.id });
    expect(result).toMatchObject({ ok: false, status: 0 });
    expect(result.message).toMatch(/connect/i);
  });

  it("never logs a provider key", () => {
    expect(app.logs.text()).not.toContain(SECRET_KEY);
    expect(app.logs.text()).not.toContain("sk-new-provider-key");
  });
});

describe("delete", () => {
  it("refuses deleting a provider an enabled policy routes to", async () => {
    const sim = await app.rt.db.prisma.provider.findFirstOrThrow({ where: { name: "sim" } });
    await admin().policies.create({ name: "uses-sim", document: { targets: [{ provider: "sim", model: "gpt-4o-mini" }] } });
    await expect(admin().providers.delete({ id: sim.id })).rejects.toMatchObject({ code: "CONFLICT" });
    const closed = await app.rt.db.prisma.provider.findFirstOrThrow({ where: { name: "closed" } });
    await admin().providers.delete({ id: closed.id });
    expect(await app.rt.db.prisma.provider.count({ where: { name: "closed" } })).toBe(0);
  });
});
