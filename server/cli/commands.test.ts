import { describe, expect, it } from "vitest";
import { HELP, runCli, type CliIo } from "./commands";

/** An io whose database settings point nowhere: a command that got past argument checks would fail with 1. */
function fakeIo() {
  const out = { stdout: "", stderr: "" };
  const io: CliIo = {
    env: { DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", SWITCHYARD_MIGRATIONS_DIR: "/nonexistent" },
    stdout: (text) => void (out.stdout += text),
    stderr: (text) => void (out.stderr += text),
    stdinIsTTY: false,
    readStdin: async () => "a long enough password\n",
    promptHidden: async () => {
      throw new Error("no terminal in tests");
    },
  };
  return { io, out };
}

describe("switchyard CLI arguments", () => {
  it("prints help on stdout and exits 0", async () => {
    for (const argv of [["help"], ["--help"], ["keys", "create", "--help"]]) {
      const { io, out } = fakeIo();
      expect(await runCli(argv, io)).toBe(0);
      expect(out.stdout).toBe(HELP);
      expect(out.stderr).toBe("");
    }
  });

  it.each<[string, string[], RegExp]>([
    ["no command", [], /missing command/],
    ["an unknown command", ["frobnicate"], /unknown command "frobnicate"/],
    ["a group without subcommand", ["keys"], /"keys" needs a subcommand: create, list, revoke/],
    ["an unknown subcommand", ["providers", "remove"], /unknown command "providers remove"/],
    ["an unknown option", ["keys", "list", "--all"], /Unknown option '--all'/],
    ["a missing required option", ["keys", "create"], /--name is required/],
    ["an option without its value", ["keys", "create", "--name"], /--name/],
    ["a bad expiry", ["keys", "create", "--name", "ci", "--expires", "next week"], /--expires must be an ISO-8601 date/],
    ["a past expiry", ["keys", "create", "--name", "ci", "--expires", "2001-01-01"], /--expires must be in the future/],
    ["a bad team slug", ["keys", "create", "--name", "ci", "--team", "Not A Slug"], /--team must be a team slug/],
    ["a missing key reference", ["keys", "revoke"], /ID_OR_PREFIX is required/],
    ["an extra argument", ["keys", "revoke", "a", "b"], /unexpected argument "b"/],
    ["an unknown role", ["users", "create", "--email", "a@example.com", "--role", "root"], /--role must be one of admin, developer, finance/],
    ["a bad email", ["users", "create", "--email", "nope", "--role", "admin"], /--email must be an email address/],
    ["an unknown provider kind", ["providers", "add", "--name", "p", "--kind", "nope"], /--kind must be one of openai, /],
    ["a bad provider name", ["providers", "add", "--name", "a/b", "--kind", "openai"], /--name must be letters/],
    ["apply without a file", ["apply"], /-f FILE is required/],
    ["migrate with arguments", ["migrate", "now"], /unexpected argument "now"/],
  ])("exits 2 on %s, without touching the database", async (_name, argv, message) => {
    const { io, out } = fakeIo();
    expect(await runCli(argv, io)).toBe(2);
    expect(out.stdout).toBe("");
    const lines = out.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^switchyard: /);
    expect(lines[0]).toMatch(message);
    expect(lines[1]).toBe('Run "switchyard help" for usage.');
  });

  it("exits 1 with one line on a runtime error", async () => {
    const { io, out } = fakeIo();
    expect(await runCli(["keys", "list"], io)).toBe(1);
    expect(out.stderr).toBe("switchyard: no migrations found in /nonexistent (set SWITCHYARD_MIGRATIONS_DIR)\n");
  });

  it("exits 1 with one line on an invalid environment", async () => {
    const { io, out } = fakeIo();
    io.env = { DATABASE_URL: "mysql://db/x" };
    expect(await runCli(["keys", "list"], io)).toBe(1);
    expect(out.stderr).toMatch(/^switchyard: invalid environment: DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL\n$/);
  });

  it("exits 1 when a password is too short, before touching the database", async () => {
    const { io, out } = fakeIo();
    io.readStdin = async () => "short\n";
    expect(await runCli(["users", "create", "--email", "a@example.com", "--role", "admin"], io)).toBe(1);
    expect(out.stderr).toBe("switchyard: the password must have at least 12 characters\n");
  });
});
