import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { tempDir } from "./testing/harness";

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs server/main.ts as `npm start` would (without the Next.js build: SWITCHYARD_NO_UI=1), or `npm start` itself. */
function launch(env: Record<string, string>, command: string[] = [process.execPath, "--import", "tsx", "server/main.ts"]) {
  const child = spawn(command[0]!, command.slice(1), {
    detached: true, // its own process group, so a test can kill whatever it leaves behind
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", PORT: "0", HOST: "127.0.0.1", SWITCHYARD_NO_UI: "1", NODE_ENV: "production", ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => (stdout += d));
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<Exit>((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", () => {
      const match = /Switchyard is running at (http:\/\/\S+)/.exec(stdout);
      if (match) resolve(match[1]!);
    });
    exited.then((e) => reject(new Error(`exited ${e.code}: ${e.stderr}`)));
  });
  url.catch(() => {}); // tests that expect an early exit never await the URL
  return { child, exited, url };
}

describe("server/main.ts as a process", () => {
  it("exits non-zero with one clear line when DATABASE_URL is unreachable", async () => {
    const { exited } = launch({ DATABASE_URL: "postgres://switchyard:s3cret-pw@127.0.0.1:1/nowhere" });
    const result = await exited;
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^switchyard: cannot connect to the database in DATABASE_URL \(postgres:\/\/switchyard@127\.0\.0\.1:1\/nowhere\)/);
    expect(result.stderr + result.stdout).not.toContain("s3cret-pw");
  });

  it("exits non-zero naming an invalid variable", async () => {
    const result = await launch({ PORT: "not-a-port" }).exited;
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(/^switchyard: invalid environment: PORT/);
  });

  it("starts on the embedded default, generates a 0600 secret, and exits 0 on SIGTERM", { timeout: 180_000 }, async () => {
    const dir = tempDir();
    try {
      const { child, exited, url } = launch({ SWITCHYARD_DATA_DIR: dir.path });
      const base = await url;
      const res = await fetch(`${base}/api/ready`);
      expect(res.status).toBe(200);
      const { statSync } = await import("node:fs");
      expect(statSync(`${dir.path}/secret.key`).mode & 0o777).toBe(0o600);
      child.kill("SIGTERM");
      const result = await exited;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("shutdown complete");
      expect(result.stdout).toContain("generated a master secret");
    } finally {
      dir.remove();
    }
  });

  it("npm start passes SIGTERM on to the server: it drains, npm exits 0 and nothing keeps serving", { timeout: 180_000 }, async () => {
    // npm runs the script without a shell in between (`exec node scripts/start.mjs`), and start.mjs forwards the
    // signal to the server it spawned; before, SIGTERM to npm left the server running orphaned on its port.
    const dir = tempDir();
    const { child, exited, url } = launch({ SWITCHYARD_DATA_DIR: dir.path }, ["npm", "start", "--silent"]);
    try {
      const base = await url;
      expect((await fetch(`${base}/api/ready`)).status).toBe(200);
      child.kill("SIGTERM");
      const result = await exited;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("shutdown complete");
      await expect(fetch(`${base}/api/ready`, { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    } finally {
      try {
        process.kill(-child.pid!, "SIGKILL"); // a server left running (the bug) would keep the port and the data dir
      } catch {
        // nothing left in the group
      }
      dir.remove();
    }
  });
});
