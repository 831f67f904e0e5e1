import { describe, expect, it } from "vitest";
import { EnvError, loadEnv } from "../env";
import { MIN_PASSWORD_LENGTH } from "./password";
import { PASSWORD_MIN_LENGTH } from "@/lib/contracts/auth";

describe("auth variables", () => {
  it("default to credentials only, 12-hour sessions", () => {
    const env = loadEnv({});
    expect(env.SWITCHYARD_SESSION_HOURS).toBe(12);
    expect(env.SWITCHYARD_GITHUB_CLIENT_ID).toBeUndefined();
    expect(env.SWITCHYARD_OIDC_ISSUER).toBeUndefined();
    expect(env.SWITCHYARD_ADMIN_EMAIL).toBeUndefined();
  });

  it("refuse half of a pair, naming the missing variable", () => {
    expect(() => loadEnv({ SWITCHYARD_ADMIN_EMAIL: "a@example.com" })).toThrow(/SWITCHYARD_ADMIN_PASSWORD/);
    expect(() => loadEnv({ SWITCHYARD_GITHUB_CLIENT_SECRET: "x" })).toThrow(/SWITCHYARD_GITHUB_CLIENT_ID/);
    expect(() => loadEnv({ SWITCHYARD_OIDC_ISSUER: "https://idp.example" })).toThrow(EnvError);
  });

  it("refuse a short admin password and a non-URL issuer", () => {
    expect(() => loadEnv({ SWITCHYARD_ADMIN_EMAIL: "a@example.com", SWITCHYARD_ADMIN_PASSWORD: "short" })).toThrow(/SWITCHYARD_ADMIN_PASSWORD/);
    expect(() => loadEnv({ SWITCHYARD_OIDC_ISSUER: "idp", SWITCHYARD_OIDC_CLIENT_ID: "a", SWITCHYARD_OIDC_CLIENT_SECRET: "b" })).toThrow(/SWITCHYARD_OIDC_ISSUER/);
  });

  it("keep the form's password rule equal to the server's", () => {
    expect(PASSWORD_MIN_LENGTH).toBe(MIN_PASSWORD_LENGTH);
  });
});
