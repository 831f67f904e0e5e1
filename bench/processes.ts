/**
 * Child processes for benchmarks: each server under test runs in its own process (its own event loop and core
 * time), its output is kept (bounded) for error messages and never mixed into the benchmark's stdout, and every
 * child is killed when the benchmark ends — normally, on an error, or on SIGINT/SIGTERM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import net from "node:net";

export interface Child {
  name: string;
  process: ChildProcess;
  /** Everything the child printed on stdout so far (bounded to the last 64 KiB). */
  stdout(): string;
  /** The tail of what it printed, stdout and stderr, for error messages. */
  output(): string;
  /** Resolves with the exit code (or signal name) once it exited. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

const TAIL_BYTES = 64 * 1024;
const running = new Set<Child>();

/** Spawns `node <args>` with exactly `env` (nothing inherited but what the caller passes). */
export function spawnNode(name: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): Child {
  const proc = spawn(process.execPath, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let both = "";
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => {
    out = (out + d).slice(-TAIL_BYTES);
    both = (both + d).slice(-TAIL_BYTES);
  });
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
    both = (both + d).slice(-TAIL_BYTES);
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? "unknown");
    });
    proc.once("error", (error) => {
      running.delete(child);
      both += `\n${error.message}`;
      resolve("spawn-error");
    });
  });
  const child: Child = {
    name,
    process: proc,
    stdout: () => out,
    output: () => both.slice(-4000),
    exited,
    async stop(graceMs = 10_000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(child);
  return child;
}

/** Waits until the child's stdout matches `pattern`; fails if it exits first or the time runs out. */
export async function waitForStdout(child: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(child.stdout());
    if (match) return match;
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited before it was ready:\n${child.output()}`);
    }
    if (Date.now() > deadline) throw new Error(`${child.name} was not ready within ${timeoutMs} ms:\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Polls `url` with GET until `accept(status)`; connection errors mean "not yet". */
export async function waitForHttp(child: Child, url: string, accept: (status: number) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited before it was ready:\n${child.output()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (accept(res.status)) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${child.name} was not ready within ${timeoutMs} ms:\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A port that was free a moment ago on 127.0.0.1 (for servers that cannot be told to pick one themselves). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Stops every child still running (gracefully, in parallel). */
export async function stopAll(graceMs?: number): Promise<void> {
  await Promise.all([...running].map((child) => child.stop(graceMs)));
}

/** Kills every child still running at once; safe in an 'exit' handler (synchronous). */
export function killAllNow(): void {
  for (const child of running) child.process.kill("SIGKILL");
}

/**
 * CPU time (ms) a process has used so far, all its threads together (event loop, GC, libuv pool, loader), from
 * /proc/<pid>/task/<tid>/schedstat (nanoseconds, unlike the 10 ms ticks of /proc/<pid>/stat). Null off Linux.
 */
export function processCpuMs(pid: number): number | null {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ", 1)[0]);
      } catch {
        // the thread ended between the listing and the read
      }
    }
    return ns / 1e6;
  } catch {
    return null;
  }
}
