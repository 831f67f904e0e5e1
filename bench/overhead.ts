/**
 * Gateway overhead benchmark: `npm run -s bench:overhead [-- --duration S] [--warmup S] [--quick] [--cpu-prof DIR]`.
 *
 * Against a zero-delay provider simulator (its own process), sends the same chat completion (a) directly to the
 * simulator, (b) through Switchyard (`node --import tsx server/main.ts`, production settings, auth, routing and call
 * logging on, embedded database) and (c) through Portkey's open-source gateway, at concurrency 1 and 16, JSON and
 * streamed. A fourth variant, `passthrough` (bench/passthrough.mjs), is a Node proxy that only forwards: the floor
 * of what the two HTTP hops of any Node gateway cost here. Prints ONE JSON object on stdout (progress goes to
 * stderr): requests per second, p50/p99 latency, the latency each gateway adds at concurrency 1, and Switchyard's
 * throughput relative to Portkey's and to the pass-through's.
 * Every server listens on 127.0.0.1 and every run is bounded in time; all children are killed at the end.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { loadEnv } from "../server/env";
import { createApiKey } from "../server/keys/service";
import { createLogger } from "../server/obs/log";
import { createRuntime } from "../server/runtime";
import { ensureDefaultTenant } from "../server/tenant";
import { runLoad, warmUp, type LoadResult, type LoadSpec } from "./load";
import { freePort, killAllNow, processCpuMs, spawnNode, stopAll, waitForHttp, waitForStdout, type Child } from "./processes";

const ROOT = path.resolve(import.meta.dirname, "..");
const CONCURRENCIES = [1, 16] as const;
const TARGETS = { minRpsRatioVsPortkeyC16: 5, maxAddedP50MsC1: 0.4 };
const STARTUP_TIMEOUT_MS = 60_000;
/** The upstream model every variant ends up asking the simulator for, so the simulator does the same work. */
const UPSTREAM_MODEL = "sim-small";
const PROVIDER_NAME = "sim-openai";
const MESSAGES = [{ role: "user", content: "Describe what a railway switchyard does, in one sentence." }];

interface Settings {
  durationS: number;
  warmupS: number;
  quick: boolean;
  cpuProfDir: string | null;
}

type Variant = "direct" | "passthrough" | "portkey" | "switchyard";

interface Endpoint {
  origin: string;
  path: string;
  headers: Record<string, string>;
  model: string;
}

function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: "string" },
      warmup: { type: "string" },
      quick: { type: "boolean", default: false },
      "cpu-prof": { type: "string" },
    },
  });
  const seconds = (value: string | undefined, flag: string, fallback: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || n > 600) throw new Error(`--${flag} must be a number of seconds in (0, 600], got "${value}"`);
    return n;
  };
  const quick = values.quick ?? false;
  // Defaults: 16 measured phases × (2 s warm-up + 8 s) + 8 × 2 s of per-variant warm-up + ~20 s of start-ups ≈ 3.2 min.
  return {
    quick,
    durationS: seconds(values.duration, "duration", quick ? 0.5 : 8),
    warmupS: seconds(values.warmup, "warmup", quick ? 0.25 : 2),
    cpuProfDir: values["cpu-prof"] ? path.resolve(values["cpu-prof"]) : null,
  };
}

function progress(message: string): void {
  process.stderr.write(`[bench:overhead] ${message}\n`);
}

/** The environment of a child: nothing inherited but PATH and HOME, so a DATABASE_URL or NODE_OPTIONS cannot leak in. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? os.tmpdir(), NODE_ENV: "production", ...extra };
}

async function startSimulator(): Promise<{ child: Child; url: string }> {
  const child = spawnNode("simulator", ["--import", "tsx", "server/providers/simulator/main.ts", "--port", "0", "--host", "127.0.0.1"], {
    cwd: ROOT,
    env: childEnv({ NODE_ENV: "production" }),
  });
  const match = await waitForStdout(child, /^(http:\/\/127\.0\.0\.1:\d+)\s*$/m, STARTUP_TIMEOUT_MS);
  await waitForHttp(child, `${match[1]}/__sim/health`, (s) => s === 200, STARTUP_TIMEOUT_MS);
  return { child, url: match[1]! };
}

/** The do-nothing proxy in front of the simulator (plain node, no tsx: nothing of ours runs in it). */
async function startPassthrough(simUrl: string): Promise<{ child: Child; endpoint: Endpoint }> {
  const child = spawnNode("passthrough", [path.join(ROOT, "bench/passthrough.mjs"), "--upstream", simUrl, "--port", "0"], {
    cwd: ROOT,
    env: childEnv({ NODE_ENV: "production" }),
  });
  const match = await waitForStdout(child, /^(http:\/\/127\.0\.0\.1:\d+)\s*$/m, STARTUP_TIMEOUT_MS);
  const origin = match[1]!;
  await waitForHttp(child, `${origin}/__sim/health`, (s) => s === 200, STARTUP_TIMEOUT_MS);
  return {
    child,
    endpoint: { origin, path: "/openai/v1/chat/completions", headers: { authorization: "Bearer sk-bench" }, model: UPSTREAM_MODEL },
  };
}

function portkeyVersion(): string {
  const manifest = JSON.parse(readFileSync(path.join(ROOT, "node_modules/@portkey-ai/gateway/package.json"), "utf8")) as { version: string };
  return manifest.version;
}

async function startPortkey(simUrl: string, workDir: string): Promise<{ child: Child; endpoint: Endpoint }> {
  // start-server.js takes its port only from `--port=N` (PORT is ignored); --headless and NODE_ENV=production
  // skip its UI and log-stream routes. cwd is a temp dir so nothing it might write lands in the repository.
  const port = await freePort();
  mkdirSync(workDir, { recursive: true });
  const script = path.join(ROOT, "node_modules/@portkey-ai/gateway/build/start-server.js");
  // Without this preload every streamed request fails, and Portkey would listen on every interface (see the file).
  const compat = path.join(ROOT, "bench/portkey-node-compat.mjs");
  const child = spawnNode("portkey", ["--import", compat, script, `--port=${port}`, "--headless"], {
    cwd: workDir,
    env: childEnv({ NODE_ENV: "production" }),
  });
  const origin = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${origin}/`, () => true, STARTUP_TIMEOUT_MS);
  return {
    child,
    endpoint: {
      origin,
      path: "/v1/chat/completions",
      headers: {
        "x-portkey-provider": "openai",
        "x-portkey-custom-host": `${simUrl}/openai/v1`,
        authorization: "Bearer sk-bench-anything",
      },
      model: UPSTREAM_MODEL,
    },
  };
}

/**
 * Prepares Switchyard's embedded database in this process (migrations, a simulator provider, an API key), closes
 * it, then starts the real server on that data directory as a separate process.
 */
async function startSwitchyard(simUrl: string, dataDir: string, cpuProfDir: string | null): Promise<{ child: Child; endpoint: Endpoint }> {
  const env = {
    SWITCHYARD_NO_UI: "1",
    PORT: "0",
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    NODE_ENV: "production",
    SWITCHYARD_DATA_DIR: dataDir,
    SWITCHYARD_MIGRATIONS_DIR: path.join(ROOT, "prisma/migrations"),
    SWITCHYARD_SECRET: "5b".repeat(32),
  };
  // Log to stderr: stdout carries only the result.
  const rt = await createRuntime(loadEnv(env), { seedDemo: false, log: createLogger({ level: "warn", destination: process.stderr }) });
  let key: string;
  try {
    const db = rt.db.prisma;
    const tenant = await ensureDefaultTenant(db);
    await db.provider.create({
      data: {
        orgId: tenant.orgId,
        name: PROVIDER_NAME,
        kind: "simulator",
        baseUrl: `${simUrl}/openai/v1`,
        allowPrivate: true, // the simulator listens on loopback
        config: { protocol: "openai" },
      },
    });
    ({ key } = await createApiKey(db, { ...tenant, name: "overhead-bench" }));
  } finally {
    await rt.close();
  }

  const args = ["--import", "tsx"];
  if (cpuProfDir) args.push("--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`);
  const child = spawnNode("switchyard", [...args, "server/main.ts"], { cwd: ROOT, env: childEnv(env) });
  const match = await waitForStdout(child, /Switchyard is running at (http:\/\/127\.0\.0\.1:\d+)/, STARTUP_TIMEOUT_MS);
  const origin = match[1]!;
  await waitForHttp(child, `${origin}/api/ready`, (s) => s === 200, STARTUP_TIMEOUT_MS);
  return {
    child,
    endpoint: { origin, path: "/api/v1/chat/completions", headers: { authorization: `Bearer ${key}` }, model: `${PROVIDER_NAME}/${UPSTREAM_MODEL}` },
  };
}

/** A server under test: where to send requests and which process to charge CPU time to. */
interface Contender {
  variant: Variant;
  endpoint: Endpoint;
  pid: number;
}

function loadSpec(c: Contender, stream: boolean, concurrency: number, settings: Settings): LoadSpec {
  return {
    origin: c.endpoint.origin,
    path: c.endpoint.path,
    headers: { "content-type": "application/json", ...c.endpoint.headers },
    body: JSON.stringify({ model: c.endpoint.model, messages: MESSAGES, ...(stream ? { stream: true } : {}) }),
    stream,
    concurrency,
    warmupMs: settings.warmupS * 1000,
    durationMs: settings.durationS * 1000,
    serverCpuMs: () => processCpuMs(c.pid),
  };
}

/**
 * Warms every server up (`warmupS` at c16, JSON then stream: enough requests for the JIT to settle), then runs each
 * phase (JSON/stream × c1/c16) against the three variants back to back, so that the figures compared with each
 * other are taken minutes apart at most, not a whole run apart, on a machine whose background load drifts.
 */
async function measureAll(contenders: Contender[], settings: Settings): Promise<Map<string, LoadResult>> {
  const results = new Map<string, LoadResult>();
  for (const c of contenders) for (const stream of [false, true]) await warmUp(loadSpec(c, stream, 16, settings));
  for (const stream of [false, true]) {
    for (const concurrency of CONCURRENCIES) {
      for (const c of contenders) {
        const label = `${c.variant}_${stream ? "stream_" : ""}c${concurrency}`;
        const result = await runLoad(loadSpec(c, stream, concurrency, settings)).catch((error: Error) => {
          throw new Error(`${label}: ${error.message}`);
        });
        const cpu = result.serverCpuMsPerRequest === null ? "" : `, ${result.serverCpuMsPerRequest.toFixed(3)} ms CPU/req`;
        progress(`${label}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50Ms.toFixed(3)} ms, p99 ${result.p99Ms.toFixed(3)} ms${cpu}`);
        results.set(label, result);
      }
    }
  }
  return results;
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/** Flattens phase results into the report's keys, e.g. switchyard_stream_p50_ms_c1. */
function report(results: Map<string, LoadResult>, settings: Settings, loadavg: [number, number]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const get = (variant: Variant, mode: string, c: number) => results.get(`${variant}_${mode}c${c}`)!;
  for (const variant of ["direct", "passthrough", "portkey", "switchyard"] as const) {
    for (const mode of ["", "stream_"]) {
      for (const c of CONCURRENCIES) {
        const r = get(variant, mode, c);
        out[`${variant}_${mode}rps_c${c}`] = round(r.rps, 1);
        out[`${variant}_${mode}p50_ms_c${c}`] = round(r.p50Ms, 3);
        out[`${variant}_${mode}p99_ms_c${c}`] = round(r.p99Ms, 3);
        if (mode === "stream_") out[`${variant}_${mode}ttfb_p50_ms_c${c}`] = round(r.ttfbP50Ms, 3);
        out[`${variant}_${mode}cpu_ms_per_req_c${c}`] = r.serverCpuMsPerRequest === null ? null : round(r.serverCpuMsPerRequest, 3);
        out[`${variant}_${mode}requests_c${c}`] = r.requests;
      }
    }
  }
  for (const gateway of ["passthrough", "portkey", "switchyard"] as const) {
    for (const mode of ["", "stream_"]) {
      const g = get(gateway, mode, 1);
      const d = get("direct", mode, 1);
      out[`${gateway}_${mode}added_p50_ms_c1`] = round(g.p50Ms - d.p50Ms, 3);
      out[`${gateway}_${mode}added_p99_ms_c1`] = round(g.p99Ms - d.p99Ms, 3);
    }
  }
  for (const mode of ["", "stream_"]) {
    const ratio = get("switchyard", mode, 16).rps / get("portkey", mode, 16).rps;
    out[`switchyard_vs_portkey_${mode}rps_c16`] = round(ratio, 2);
    out[`switchyard_share_of_direct_${mode}rps_c16`] = round(get("switchyard", mode, 16).rps / get("direct", mode, 16).rps, 3);
    // The ceiling: a proxy that does no work at all, relative to Portkey. A gateway doing any work stays below it.
    out[`passthrough_vs_portkey_${mode}rps_c16`] = round(get("passthrough", mode, 16).rps / get("portkey", mode, 16).rps, 2);
    out[`switchyard_share_of_passthrough_${mode}rps_c16`] = round(get("switchyard", mode, 16).rps / get("passthrough", mode, 16).rps, 3);
  }
  out.targets = {
    switchyard_vs_portkey_rps_c16_min: TARGETS.minRpsRatioVsPortkeyC16,
    switchyard_added_p50_ms_c1_max: TARGETS.maxAddedP50MsC1,
    rps_ratio_met: (out.switchyard_vs_portkey_rps_c16 as number) >= TARGETS.minRpsRatioVsPortkeyC16,
    added_p50_met: (out.switchyard_added_p50_ms_c1 as number) <= TARGETS.maxAddedP50MsC1,
  };
  const cpus = os.cpus();
  out.machine = {
    cpus: cpus.length,
    cpu_model: cpus[0]?.model ?? "unknown",
    memory_gb: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    // Other work on the machine skews every figure; a 1-minute load average well above the core count says so.
    loadavg_1m_before: round(loadavg[0], 2),
    loadavg_1m_after: round(loadavg[1], 2),
  };
  out.settings = {
    quick: settings.quick,
    duration_s: settings.durationS,
    warmup_s: settings.warmupS,
    concurrency: [...CONCURRENCIES],
    load_generator: "undici Pool, closed loop, one keep-alive connection per loop, hrtime latency to the last body byte",
    cpu_ms_per_req: "CPU time (all threads, /proc schedstat) of the process the load generator talks to, per measured request: the simulator for direct, the gateway otherwise",
    warm_up: "per variant: warmup_s at c16 JSON and stream; then warmup_s before each measured phase",
    order: "all servers up at once; each phase (JSON/stream × c1/c16) runs direct, passthrough, portkey, switchyard back to back",
    passthrough: "node bench/passthrough.mjs: node:http server forwarding method, path, headers and body over an undici Pool and streaming the answer back; no auth, parsing, routing or logging",
    upstream: "provider simulator in its own process, zero delay (ttft 0, no token pacing)",
    request: { messages: MESSAGES, model_upstream: UPSTREAM_MODEL, model_switchyard: `${PROVIDER_NAME}/${UPSTREAM_MODEL}` },
    switchyard: "node --import tsx server/main.ts, NODE_ENV=production, LOG_LEVEL=warn, embedded PGlite, no UI; auth, routing and call logging on",
    portkey:
      `@portkey-ai/gateway ${portkeyVersion()} build/start-server.js --headless, NODE_ENV=production, x-portkey-provider: openai + custom host; ` +
      "bench/portkey-node-compat.mjs preloaded so its streaming works on Node and it binds 127.0.0.1 (JSON path untouched). " +
      "Its stream reader waits 25 ms before passing on the first chunk, which dominates its streaming latency at c1",
    cpu_profile_dir: settings.cpuProfDir,
  };
  return out;
}

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  const work = mkdtempSync(path.join(os.tmpdir(), "switchyard-bench-"));
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    killAllNow();
    rmSync(work, { recursive: true, force: true });
  };
  process.once("exit", cleanup);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping`);
      cleanup();
      process.exit(130);
    });
  }

  try {
    const loadBefore = os.loadavg()[0]!;
    progress("starting the provider simulator");
    const sim = await startSimulator();
    progress("starting the pass-through proxy");
    const passthrough = await startPassthrough(sim.url);
    progress("starting Portkey's gateway");
    const portkey = await startPortkey(sim.url, path.join(work, "portkey"));
    progress("preparing and starting Switchyard");
    const switchyard = await startSwitchyard(sim.url, path.join(work, "switchyard"), settings.cpuProfDir);
    const directEndpoint = { origin: sim.url, path: "/openai/v1/chat/completions", headers: { authorization: "Bearer sk-bench" }, model: UPSTREAM_MODEL };
    progress("warming up, then measuring");
    const results = await measureAll(
      [
        { variant: "direct", endpoint: directEndpoint, pid: sim.child.process.pid! },
        { variant: "passthrough", endpoint: passthrough.endpoint, pid: passthrough.child.process.pid! },
        { variant: "portkey", endpoint: portkey.endpoint, pid: portkey.child.process.pid! },
        { variant: "switchyard", endpoint: switchyard.endpoint, pid: switchyard.child.process.pid! },
      ],
      settings,
    );
    const loadAfter = os.loadavg()[0]!;
    await switchyard.child.stop(); // graceful, so a --cpu-prof profile gets written
    await portkey.child.stop();
    await passthrough.child.stop();
    await sim.child.stop();
    process.stdout.write(`${JSON.stringify(report(results, settings, [loadBefore, loadAfter]), null, 2)}\n`);
  } finally {
    await stopAll(2_000);
    cleanup();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:overhead failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
