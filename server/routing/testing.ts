/**
 * Integration-test helpers for routing: custom simulator models per scenario (each scenario gets its own model ids,
 * so its faults and its health never leak into another's), policies, and calls with their log rows.
 */
import type { PolicyDocumentInput } from "@/lib/policy";
import { bumpConfigVersion } from "../gateway/snapshot";
import type { TestServer } from "../testing/harness";

export interface ModelSpec {
  /** Suffix of the model id (the id is `r<scenario>-<name>`). */
  name: string;
  provider?: string;
  /** USD per 1M tokens. */
  input?: string;
  output?: string;
  contextWindow?: number;
  maxOutput?: number;
  capabilities?: Partial<Record<"tools" | "vision" | "json" | "reasoning" | "streaming", boolean>>;
}

export interface Scenario {
  policy: string;
  /** Model ids, in the order given. */
  models: string[];
  /** "provider/model" of the i-th model. */
  ref(i: number): string;
  target(i: number): { provider: string; model: string };
}

export function routingFixture(app: TestServer, orgId: string) {
  let seq = 0;
  const db = app.rt.db.prisma;

  async function refresh() {
    await bumpConfigVersion(db);
    // A background refresh may be in flight with the previous version: the second one surely reads ours.
    await app.rt.snapshot.refresh();
    await app.rt.snapshot.refresh();
  }

  /** Creates the models (custom catalog entries on simulator providers) and a policy over them. */
  async function scenario(models: ModelSpec[], document: (s: Omit<Scenario, "policy">) => PolicyDocumentInput): Promise<Scenario> {
    const id = ++seq;
    const ids = models.map((m) => `r${id}-${m.name}`);
    const providers = new Map((await db.provider.findMany({ where: { orgId } })).map((p) => [p.name, p]));
    for (const [i, m] of models.entries()) {
      const provider = providers.get(m.provider ?? "sim-openai");
      if (!provider) throw new Error(`no provider ${m.provider}`);
      await db.modelOverride.create({
        data: {
          orgId,
          providerId: provider.id,
          modelId: ids[i]!,
          inputPrice: m.input ?? "0.15",
          outputPrice: m.output ?? "0.6",
          contextWindow: m.contextWindow ?? 128_000,
          maxOutput: m.maxOutput ?? 16_384,
          capabilities: { tools: true, json: true, streaming: true, ...m.capabilities },
          custom: true,
        },
      });
    }
    const partial = {
      models: ids,
      ref: (i: number) => `${models[i]!.provider ?? "sim-openai"}/${ids[i]}`,
      target: (i: number) => ({ provider: models[i]!.provider ?? "sim-openai", model: ids[i]! }),
    };
    const policy = `policy-${id}`;
    await db.policy.create({ data: { orgId, name: policy, document: document(partial) as object } });
    await refresh();
    return { policy, ...partial };
  }

  return { scenario, refresh };
}

export interface ChatResult {
  status: number;
  headers: Headers;
  /** Parsed JSON, or the raw text of a stream. */
  // `any`: tests read whatever the server answered (JSON errors, completions, SSE text).
  body: any;
}

/** POSTs a chat completion with the key (raw fetch: headers and error bodies as they are). */
export async function chat(app: TestServer, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<ChatResult> {
  const res = await fetch(`${app.url}/api/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const json = (res.headers.get("content-type") ?? "").includes("application/json");
  return { status: res.status, headers: res.headers, body: json ? JSON.parse(text) : text };
}

/** The call-log row of a response (by its request id). */
export async function callRow(app: TestServer, result: { headers: Headers }) {
  await app.rt.calls.flush();
  const requestId = result.headers.get("x-request-id")!;
  const row = await app.rt.db.prisma.call.findFirst({ where: { requestId } });
  if (!row) throw new Error(`no call row for request ${requestId}`);
  return row;
}

let unique = 0;
/** A prompt no other test sends (the response cache must never answer for another test). */
export function prompt(text = "hello"): string {
  unique += 1;
  return `${text} #${unique}-${Math.random().toString(36).slice(2, 8)}`;
}
