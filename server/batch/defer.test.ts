import { describe, expect, it, vi } from "vitest";
import type { AuthContext } from "../gateway/auth";
import type { Gateway } from "../gateway/context";
import { AppError } from "../gateway/errors";
import { deferChatRequest, DEFER_LIMITS, parseDeadline } from "./defer";

const NOW = Date.parse("2030-01-01T00:00:00Z");

describe("parseDeadline (x-switchyard-defer)", () => {
  it("reads seconds from now", () => {
    expect(parseDeadline("3600", NOW).toISOString()).toBe("2030-01-01T01:00:00.000Z");
    expect(parseDeadline(" 1.5 ", NOW).getTime()).toBe(NOW + 1_500);
  });

  it("reads ISO 8601 instants with a time zone", () => {
    expect(parseDeadline("2030-01-01T09:00:00Z", NOW).toISOString()).toBe("2030-01-01T09:00:00.000Z");
    expect(parseDeadline("2030-01-01T09:00:00.250+02:00", NOW).toISOString()).toBe("2030-01-01T07:00:00.250Z");
  });

  it.each(["", "soon", "-5", "1e3", "2030-01-01", "2030-01-01T09:00:00", "Tue, 01 Jan 2030 09:00:00 GMT"])("refuses %j", (value) => {
    expect(() => parseDeadline(value, NOW)).toThrow(AppError);
  });

  it("refuses deadlines too close or too far", () => {
    expect(() => parseDeadline("0.5", NOW)).toThrow(/at least 1 second/);
    expect(() => parseDeadline("2029-12-31T23:00:00Z", NOW)).toThrow(/at least 1 second/);
    expect(() => parseDeadline(String(DEFER_LIMITS.maxMs / 1000 + 1), NOW)).toThrow(/within 7 days/);
    expect(parseDeadline(String(DEFER_LIMITS.maxMs / 1000), NOW).getTime()).toBe(NOW + DEFER_LIMITS.maxMs);
  });

  it("answers 400 invalid_defer", () => {
    try {
      parseDeadline("soon", NOW);
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ status: 400, code: "invalid_defer" });
    }
  });
});

describe("deferChatRequest on the live path", () => {
  const key = (deferrable: boolean): AuthContext => ({
    apiKeyId: "k1",
    orgId: "o1",
    teamId: "t1",
    ownerId: null,
    allowedModels: [],
    allowStore: false,
    rpmLimit: null,
    tpmLimit: null,
    deferrable,
  });
  const gatewayWith = (authenticate: () => Promise<AuthContext>) => {
    const spy = vi.fn(authenticate);
    const gw = { auth: { authenticate: spy, clear: () => {} }, rt: { env: { SWITCHYARD_MAX_BODY_BYTES: 1 << 20 } } } as unknown as Gateway;
    return { gw, spy };
  };
  const chat = (body: unknown) =>
    new Request("http://gateway/api/v1/chat/completions", { method: "POST", headers: { authorization: "Bearer sy-test", "content-type": "application/json" }, body: JSON.stringify(body) });

  it("hands the key it authenticated to the pipeline instead of a 202", async () => {
    const { gw, spy } = gatewayWith(async () => key(false));
    const request = chat({ model: "m", messages: [{ role: "user", content: "hi" }] });
    expect(await deferChatRequest(gw, request, "req-1")).toEqual({ live: key(false) });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(request.bodyUsed).toBe(false);
  });

  it("leaves a failed authentication to the pipeline, which answers and logs it", async () => {
    const { gw } = gatewayWith(async () => {
      throw new AppError(401, "invalid_api_key", "Invalid API key");
    });
    expect(await deferChatRequest(gw, chat({ model: "m", messages: [] }), "req-2")).toEqual({ live: null });
  });

  it("runs a deferrable key's streaming request live, its body still unread for the pipeline", async () => {
    const { gw, spy } = gatewayWith(async () => key(true));
    const request = chat({ model: "m", messages: [{ role: "user", content: "hi" }], stream: true });
    expect(await deferChatRequest(gw, request, "req-3")).toEqual({ live: key(true) });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(await request.json()).toMatchObject({ stream: true });
  });
});
