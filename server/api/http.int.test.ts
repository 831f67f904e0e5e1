/**
 * Reliability case 24 (transport half): tRPC mutations refuse cross-site requests — a foreign Origin, a
 * cross-site Sec-Fetch-Site, text/plain / form / multipart bodies, GET — and nothing changes when they do.
 * Same-origin browser requests and non-browser clients (no Origin, no Sec-Fetch-Site) work.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import superjson from "superjson";
import { startTestServer, type TestServer } from "../testing/harness";
import { createTrpcHandler } from "./http";
import { appRouter } from "./root";
import { createTestOrg, sessionCookie, trpcHttp, type TestOrg } from "./testing";

let app: TestServer;
let org: TestOrg;
let handler: (request: Request) => Promise<Response>;
let cookie: string;
const HOST = "switchyard.test";

beforeAll(async () => {
  app = await startTestServer();
  org = await createTestOrg(app.rt);
  handler = createTrpcHandler(app.rt);
  cookie = await sessionCookie(app.rt, org.users.admin);
});
afterAll(() => app?.dispose());

const teamCount = () => app.rt.db.prisma.team.count();
const create = (slug: string, extra: Partial<Parameters<typeof trpcHttp>[1]> = {}) =>
  trpcHttp(handler, { path: "teams.create", input: { name: slug, slug }, cookie, host: HOST, ...extra });

describe("mutations and cross-site requests", () => {
  it("accepts a same-origin browser mutation", async () => {
    const res = await create("same-origin", { headers: { origin: `http://${HOST}`, "sec-fetch-site": "same-origin" } });
    expect(res.status).toBe(200);
    expect(res.data).toMatchObject({ slug: "same-origin" });
  });

  it("accepts a non-browser client (no Origin, no Sec-Fetch-Site)", async () => {
    expect((await create("server-side")).status).toBe(200);
  });

  it("accepts the configured public URL as Origin behind a proxy that rewrites Host", async () => {
    const proxied = createTrpcHandler({ ...app.rt, env: { ...app.rt.env, SWITCHYARD_PUBLIC_URL: "https://llm.example.com" } });
    const res = await trpcHttp(proxied, { path: "teams.create", input: { name: "p", slug: "proxied" }, host: "10.0.0.5:3000", headers: { origin: "https://llm.example.com" }, cookie: await sessionCookie(app.rt, org.users.admin, { secure: true }) });
    expect(res.status).toBe(200);
  });

  const refusals: Array<[string, Partial<Parameters<typeof trpcHttp>[1]>, number]> = [
    ["a foreign Origin", { headers: { origin: "https://evil.example" } }, 403],
    ["a foreign Origin with the same host on another port", { headers: { origin: `http://${HOST}:8080` } }, 403],
    ["Origin: null (sandboxed frame)", { headers: { origin: "null" } }, 403],
    ["Sec-Fetch-Site: cross-site", { headers: { "sec-fetch-site": "cross-site" } }, 403],
    ["Sec-Fetch-Site: same-site (a sibling subdomain)", { headers: { "sec-fetch-site": "same-site" } }, 403],
    ["a text/plain body", { headers: { "content-type": "text/plain" } }, 415],
    ["a form body", { headers: { "content-type": "application/x-www-form-urlencoded" }, body: "name=x&slug=x" }, 415],
    ["a multipart body", { headers: { "content-type": "multipart/form-data; boundary=x" }, body: "--x--" }, 415],
    ["GET", { method: "GET" }, 405],
    ["PUT", { method: "PUT" }, 405],
  ];
  for (const [what, extra, status] of refusals) {
    it(`refuses ${what} and changes nothing`, async () => {
      const before = await teamCount();
      const slug = `refused-${status}-${Math.random().toString(36).slice(2, 8)}`;
      const res = await create(slug, extra);
      expect(res.status).toBe(status);
      expect(await teamCount()).toBe(before);
      expect(await app.rt.db.prisma.team.findFirst({ where: { slug } })).toBeNull();
    });
  }

  it("refuses a mutation hidden in a batched GET", async () => {
    const url = `http://${HOST}/api/trpc/teams.list,teams.create?batch=1&input=${encodeURIComponent(JSON.stringify({ 1: superjson.serialize({ name: "b", slug: "batched" }) }))}`;
    const res = await handler(new Request(url, { headers: { host: HOST, cookie } }));
    expect(res.status).toBe(405);
    expect(await app.rt.db.prisma.team.findFirst({ where: { slug: "batched" } })).toBeNull();
  });

  it("answers queries over GET, and refusals in tRPC's error format", async () => {
    const ok = await trpcHttp(handler, { path: "teams.list", method: "GET", cookie, host: HOST });
    expect(ok.status).toBe(200);
    const refused = await create("x-site", { headers: { origin: "https://evil.example" } });
    expect(refused.error).toMatchObject({ message: "Cross-site request refused", data: { code: "FORBIDDEN" } });
  });

  it("answers UNAUTHORIZED without a session and never caches", async () => {
    const res = await trpcHttp(handler, { path: "teams.list", method: "GET", host: HOST });
    expect(res.status).toBe(401);
    expect(res.headers.get("cache-control")).toBe("no-store");
  });

  it("reports invalid input field by field", async () => {
    const res = await trpcHttp(handler, { path: "teams.create", input: { name: "", slug: "Not A Slug" }, cookie, host: HOST });
    expect(res.status).toBe(400);
    const issues = (res.error?.data as unknown as { issues: Array<{ path: string }> }).issues.map((i) => i.path).sort();
    expect(issues).toEqual(["name", "slug"]);
  });

  it("hides internal errors from the client and logs them with the request id", async () => {
    // Break the database underneath the procedure, then repair it.
    await app.rt.db.prisma.$executeRawUnsafe('ALTER TABLE "Team" RENAME TO "TeamGone"');
    try {
      const res = await trpcHttp(handler, { path: "teams.list", method: "GET", cookie, host: HOST, headers: { "x-request-id": "req-broken-1" } });
      expect(res.status).toBe(500);
      expect(res.error?.message).toBe("Internal server error");
      expect(res.text).not.toMatch(/TeamGone|relation|prisma/i);
      expect(app.logs.text()).toContain("req-broken-1");
    } finally {
      await app.rt.db.prisma.$executeRawUnsafe('ALTER TABLE "TeamGone" RENAME TO "Team"');
    }
  });
});

/**
 * The procedures served over GET. Everything else is a mutation and must refuse GET, text/plain and cross-site
 * requests; a new procedure declared as a query (so reachable by a cross-site GET) fails here until it is added to
 * this list, which says it changes nothing.
 */
const READ_ONLY_QUERIES = [
  "setup.status", "me.get", "providers.kinds", "providers.list", "providers.get", "models.list", "models.overrides",
  "policies.list", "policies.get", "policies.versions", "policies.validate", "policies.dryRun", "apiKeys.list",
  "teams.list", "users.list", "audit.list", "audit.entities", "settings.get", "calls.list", "calls.get",
  "calls.facets", "analytics.overview", "analytics.series", "analytics.months", "analytics.breakdown",
  "analytics.report", "analytics.exportCsv", "budgets.list", "budgets.alerts", "cacheRules.list", "cacheRules.stats",
  "playground.options",
].sort();

describe("every mutation, over HTTP", () => {
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
  const mutations = Object.keys(procedures).filter((p) => procedures[p]!._def.type === "mutation").sort();

  it("only the listed read-only procedures are queries", () => {
    expect(Object.keys(procedures).filter((p) => procedures[p]!._def.type !== "mutation").sort()).toEqual(READ_ONLY_QUERIES);
    expect(mutations.length).toBeGreaterThan(20);
  });

  it("refuses GET, text/plain and a foreign Origin for each one, with an admin's session, before running it", async () => {
    const outcomes: Record<string, string> = {};
    for (const path of mutations) {
      const get = await trpcHttp(handler, { path, method: "GET", input: {}, cookie, host: HOST });
      const plain = await trpcHttp(handler, { path, input: {}, cookie, host: HOST, headers: { "content-type": "text/plain" } });
      const foreign = await trpcHttp(handler, { path, input: {}, cookie, host: HOST, headers: { origin: "https://evil.example" } });
      outcomes[path] = [get.status, plain.status, foreign.status].join(",");
    }
    expect(outcomes).toEqual(Object.fromEntries(mutations.map((p) => [p, "405,415,403"])));
  });
});
