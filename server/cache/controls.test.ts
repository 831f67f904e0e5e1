import { describe, expect, it } from "vitest";
import { AppError } from "../gateway/errors";
import { parseCacheControls } from "./controls";

const parse = (headers: Record<string, string>) => parseCacheControls(new Headers(headers));

describe("parseCacheControls", () => {
  it("reads Cache-Control directives, case-insensitively, among others", () => {
    expect(parse({})).toEqual({ noCache: false, noStore: false, maxAgeS: null, namespace: "" });
    expect(parse({ "cache-control": "No-Cache" })).toMatchObject({ noCache: true, noStore: false });
    expect(parse({ "cache-control": "private, no-store" })).toMatchObject({ noCache: false, noStore: true });
    expect(parse({ "cache-control": "max-age=120" })).toMatchObject({ maxAgeS: 120, noCache: false });
    expect(parse({ "cache-control": 'max-age="30"' })).toMatchObject({ maxAgeS: 30 });
    expect(parse({ "cache-control": "max-age=0" })).toMatchObject({ maxAgeS: 0, noCache: true });
    expect(parse({ "cache-control": "max-age=-5, max-age=abc" })).toMatchObject({ maxAgeS: null });
  });

  it("validates the namespace header", () => {
    expect(parse({ "x-switchyard-cache-namespace": "prompt-v2.1" }).namespace).toBe("prompt-v2.1");
    for (const bad of ["", "has space", "a/b", "x".repeat(65)]) {
      const error = (() => {
        try {
          parse({ "x-switchyard-cache-namespace": bad });
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).status).toBe(400);
    }
  });
});
