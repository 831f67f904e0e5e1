import { describe, expect, it } from "vitest";
import { EnvError, loadEnv } from "./env";

describe("loadEnv", () => {
  it("applies documented defaults", () => {
    const env = loadEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.HOST).toBe("0.0.0.0");
    expect(env.SWITCHYARD_DATA_DIR).toBe(".switchyard");
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
    expect(env.LOG_LEVEL).toBe("info");
    expect(env.dataDir.endsWith(".switchyard")).toBe(true);
  });

  it("treats empty URLs as unset", () => {
    const env = loadEnv({ DATABASE_URL: "", REDIS_URL: "" });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.REDIS_URL).toBeUndefined();
  });

  it("names the variable that is wrong", () => {
    expect(() => loadEnv({ PORT: "http" })).toThrow(EnvError);
    expect(() => loadEnv({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL/);
    expect(() => loadEnv({ REDIS_URL: "localhost:6379" })).toThrow(/REDIS_URL/);
    expect(() => loadEnv({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
  });
});
