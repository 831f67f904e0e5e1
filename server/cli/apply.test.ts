import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfigFile } from "@/lib/config-file";
import { tempDir } from "../testing/harness";
import { ConfigFileError, readConfigFile } from "./apply";

const dir = tempDir();
afterAll(() => dir.remove());

function write(name: string, text: string): string {
  const file = path.join(dir.path, name);
  writeFileSync(file, text);
  return file;
}

describe("readConfigFile", () => {
  it("reads YAML and JSON alike", () => {
    const yaml = readConfigFile(write("a.yaml", "teams:\n  - slug: ops\n    name: Ops\n"));
    const json = readConfigFile(write("a.json", JSON.stringify({ teams: [{ slug: "ops", name: "Ops" }] })));
    expect(yaml).toEqual({ teams: [{ slug: "ops", name: "Ops" }] });
    expect(json).toEqual(yaml);
  });

  it("reports syntax errors with their line and column", () => {
    const file = write("bad.yaml", "teams:\n  - slug: ops\n   name: Ops\n");
    const error = (() => {
      try {
        readConfigFile(file);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigFileError);
    const issues = (error as ConfigFileError).issues;
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]!.path).toMatch(/^line 3, column \d+$/);
    expect((error as Error).message.split("\n")[0]).toBe(`${file} is invalid:`);
  });

  it("refuses duplicate keys instead of keeping the last one", () => {
    expect(() => readConfigFile(write("dup.yaml", "teams: []\nteams: []\n"))).toThrow(/Map keys must be unique/);
  });

  it("throws I/O errors as they are", () => {
    expect(() => readConfigFile(path.join(dir.path, "missing.yaml"))).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });

  it("accepts the documented example", () => {
    const result = parseConfigFile(readConfigFile(path.resolve("server/cli/switchyard.example.yaml")));
    expect(result.ok ? [] : result.issues).toEqual([]);
  });
});
