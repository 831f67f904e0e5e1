import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { hashApiKey } from "../keys/api-keys";
import { tempDir } from "../testing/harness";

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ROOT = path.resolve(".");
const SECRET = "ab".repeat(32);

/** Runs the CLI as a process, as `node --import tsx server/cli/main.ts …`, with stdin closed after `input`. */
function run(args: string[], options: { dataDir: string; env?: Record<string, string>; input?: string; entry?: string[]; cwd?: string }): Promise<Result> {
  const child = spawn(process.execPath, [...(options.entry ?? ["--import", "tsx", "server/cli/main.ts"]), ...args], {
    cwd: options.cwd ?? ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "production",
      SWITCHYARD_DATA_DIR: options.dataDir,
      SWITCHYARD_SECRET: SECRET,
      ...options.env,
    },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  child.stdin.end(options.input ?? "");
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const dirs: Array<{ remove(): void }> = [];
function dataDir(): string {
  const dir = tempDir("switchyard-cli-");
  dirs.push(dir);
  return dir.path;
}
afterAll(() => dirs.forEach((d) => d.remove()));

describe("the switchyard CLI as a process", () => {
  it("creates a key (stdout is only the key), lists it without secrets, and revokes it", { timeout: 180_000 }, async () => {
    const dir = dataDir();
    const created = await run(["keys", "create", "--name", "ci pipeline", "--models", "gpt-4o-mini,support-bot"], { dataDir: dir });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^sy-[0-9A-Za-z]{32}\n$/);
    const key = created.stdout.trim();
    const prefix = key.slice(0, 9);
    expect(created.stderr).toContain(`prefix ${prefix}`);
    expect(created.stderr).not.toContain(key);

    const listed = await run(["keys", "list"], { dataDir: dir });
    expect(listed.code, listed.stderr).toBe(0);
    const lines = listed.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+PREFIX\s+NAME\s+TEAM\s+CREATED\s+EXPIRES\s+DISABLED\s+REVOKED$/);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(new RegExp(`^\\S+\\s+${prefix}\\s+ci pipeline\\s+default\\s+\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+-\\s+-\\s+-$`));
    expect(listed.stdout + listed.stderr).not.toContain(key);
    expect(listed.stdout + listed.stderr).not.toContain(hashApiKey(key));

    // Pause and resume: the DISABLED column follows.
    const disabled = await run(["keys", "disable", prefix], { dataDir: dir });
    expect(disabled.code, disabled.stderr).toBe(0);
    expect(disabled.stderr).toMatch(new RegExp(`disabled API key ${prefix}`));
    expect((await run(["keys", "list"], { dataDir: dir })).stdout.trimEnd().split("\n")[1]).toMatch(/Z\s+-\s+\d{4}-\d\d-\d\dT\S+Z\s+-$/);
    const enabled = await run(["keys", "enable", prefix], { dataDir: dir });
    expect(enabled.code, enabled.stderr).toBe(0);
    expect(enabled.stderr).toMatch(new RegExp(`enabled API key ${prefix}`));

    const revoked = await run(["keys", "revoke", prefix], { dataDir: dir });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe("");
    expect(revoked.stderr).toMatch(new RegExp(`revoked API key ${prefix}`));

    const after = await run(["keys", "list"], { dataDir: dir });
    expect(after.stdout.trimEnd().split("\n")[1]).toMatch(/\s+-\s+\d{4}-\d\d-\d\dT\S+Z$/);

    const again = await run(["keys", "revoke", prefix], { dataDir: dir });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already revoked/);
    const reenable = await run(["keys", "enable", prefix], { dataDir: dir });
    expect(reenable.code).toBe(1);
    expect(reenable.stderr).toMatch(/was revoked at .*; create a new one/);
    // A leaked key can be revoked by pasting it whole.
    const leaked = (await run(["keys", "create", "--name", "leaked"], { dataDir: dir })).stdout.trim();
    const byKey = await run(["keys", "revoke", leaked], { dataDir: dir });
    expect(byKey.code, byKey.stderr).toBe(0);
    expect(byKey.stderr).toContain(`revoked API key ${leaked.slice(0, 9)} ("leaked"`);

    const nightly = await run(["keys", "create", "--name", "nightly", "--deferrable"], { dataDir: dir });
    expect(nightly.code, nightly.stderr).toBe(0);
    expect(nightly.stderr).toContain("deferrable: its non-streaming chat requests go to the batch tier");

    const unknown = await run(["keys", "revoke", "sy-nothing"], { dataDir: dir });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe('switchyard: no API key has the id or prefix "sy-nothing"\n');
  });

  it("exits 2 on a usage error without opening the database", async () => {
    const dir = path.join(dataDir(), "never-created");
    const result = await run(["keys", "create", "--team", "default"], { dataDir: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe('switchyard: --name is required\nRun "switchyard help" for usage.\n');
    const { existsSync } = await import("node:fs");
    expect(existsSync(dir)).toBe(false);
  });

  it("exits 1 on a bad config file, listing each path", async () => {
    const dir = dataDir();
    const file = path.join(dir, "switchyard.yaml");
    writeFileSync(
      file,
      ["teams:", "  - slug: Research", "    name: Research", "providers:", "  - name: main", "    kind: opneai", "    apiKey: sk-live-should-never-print-123456"].join("\n"),
    );
    const result = await run(["apply", "-f", file], { dataDir: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines[0]).toBe(`switchyard: ${file} is invalid:`);
    expect(lines.slice(1).map((l) => l.split(":")[0]!.trim())).toEqual(["teams[0].slug", "providers[0].kind", "providers[0].apiKey"]);
    expect(result.stderr).not.toContain("sk-live-should-never-print");
  });

  it("applies a config file, then reports it unchanged", { timeout: 120_000 }, async () => {
    const dir = dataDir();
    const file = path.join(dir, "switchyard.yaml");
    writeFileSync(
      file,
      [
        "teams: [{ slug: research, name: Research }]",
        "providers:",
        "  - { name: sim, kind: simulator, baseUrl: 'http://127.0.0.1:4010', allowPrivate: true, apiKeyEnv: SIM_KEY }",
        "policies:",
        "  - name: support-bot",
        "    team: research",
        "    targets: [{ provider: sim, model: gpt-4o-mini }]",
      ].join("\n"),
    );
    const env = { SIM_KEY: "sim-key-abcd-1234" };
    const first = await run(["apply", "-f", file], { dataDir: dir, env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^teams\s+1\s+0\s+0$/m);
    expect(first.stdout).toMatch(/^policies\s+1\s+0\s+0$/m);
    const second = await run(["apply", "-f", file], { dataDir: dir, env });
    expect(second.stdout).toMatch(/^providers\s+0\s+0\s+1$/m);
    expect(second.stderr).toContain("0 change(s)");

    const providers = await run(["providers", "list"], { dataDir: dir });
    expect(providers.stdout).toMatch(/^sim\s+simulator\s+http:\/\/127\.0\.0\.1:4010\s+…1234\s+yes$/m);
    expect(providers.stdout).not.toContain("sim-key-abcd");
  });

  it("adds a provider from an environment variable, refusing private URLs without --allow-private", { timeout: 120_000 }, async () => {
    const dir = dataDir();
    const env = { VLLM_KEY: "vllm-secret-key-9876" };
    const refused = await run(["providers", "add", "--name", "gpu", "--kind", "vllm", "--base-url", "http://10.0.0.7:8000/v1", "--key-env", "VLLM_KEY"], { dataDir: dir, env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^switchyard: provider not added: --base-url: refused: 10\.0\.0\.7 is a private address; set allowPrivate: true/);
    expect(refused.stderr.trimEnd().split("\n")).toHaveLength(1);

    const added = await run(["providers", "add", "--name", "gpu", "--kind", "vllm", "--base-url", "http://10.0.0.7:8000/v1", "--key-env", "VLLM_KEY", "--allow-private"], { dataDir: dir, env });
    expect(added.code, added.stderr).toBe(0);
    expect(added.stderr).toContain("added provider gpu (vllm, http://10.0.0.7:8000/v1, key …9876)");
    const list = await run(["providers", "list"], { dataDir: dir });
    expect(list.stdout).toMatch(/^gpu\s+vllm\s+http:\/\/10\.0\.0\.7:8000\/v1\s+…9876\s+yes$/m);
    expect(list.stdout + list.stderr).not.toContain("vllm-secret-key");
  });

  it("creates a user with the password from stdin, once", { timeout: 120_000 }, async () => {
    const dir = dataDir();
    const args = ["users", "create", "--email", "fin@example.com", "--role", "finance"];
    const created = await run(args, { dataDir: dir, input: "a long finance password\n" });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/created finance fin@example\.com/);
    const again = await run(args, { dataDir: dir, input: "a long finance password\n" });
    expect(again.code).toBe(1);
    expect(again.stderr).toBe("switchyard: a user with the email fin@example.com already exists\n");
  });

  it("says so clearly when a running process holds the embedded database", async () => {
    const dir = dataDir();
    mkdirSync(dir, { recursive: true });
    // This test process is alive, so its pid in the lock file stands for a running server.
    writeFileSync(path.join(dir, "pglite.lock"), String(process.pid));
    const result = await run(["keys", "list"], { dataDir: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `switchyard: the embedded database in ${dir} is in use by process ${process.pid}: is a Switchyard server running? ` +
        "Stop it to use the CLI, or run both on Postgres (DATABASE_URL)\n",
    );
  });

  it("runs through bin/switchyard.mjs from any directory, forwarding the exit code", async () => {
    const launcher = [path.join(ROOT, "bin/switchyard.mjs")];
    const help = await run(["help"], { dataDir: dataDir(), entry: launcher, cwd: os.tmpdir() });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: switchyard <command>/);
    const usage = await run(["nope"], { dataDir: dataDir(), entry: launcher, cwd: os.tmpdir() });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown command "nope"/);
  });
});
