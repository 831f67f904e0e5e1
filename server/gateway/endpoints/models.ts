/** GET /models and GET /models/{id}: the policies and models this key may use (never other tenants'). */
import type { AuthContext } from "../auth";
import { listProviderModels, type GatewayConfig } from "../config";
import { LOCAL_EMBEDDING_MODEL } from "../../embeddings/local";
import { AppError } from "../errors";

interface ListedModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

export function visibleModels(config: GatewayConfig, auth: AuthContext): ListedModel[] {
  const org = config.orgs.get(auth.orgId);
  const allowed = auth.allowedModels.length > 0 ? new Set(auth.allowedModels) : null;
  const out: ListedModel[] = [];
  const seen = new Set<string>();
  const add = (id: string, created: number, ownedBy: string) => {
    if (seen.has(id) || (allowed && !allowed.has(id))) return;
    seen.add(id);
    out.push({ id, object: "model", created, owned_by: ownedBy });
  };
  for (const policy of org?.policies.values() ?? []) {
    if (policy.teamId && policy.teamId !== auth.teamId) continue;
    add(policy.name, Math.floor(policy.createdAt.getTime() / 1000), "switchyard");
  }
  for (const { provider, model } of org ? listProviderModels(org) : []) {
    add(`${provider.name}/${model.id}`, 0, provider.name);
  }
  add(LOCAL_EMBEDDING_MODEL, 0, "switchyard"); // the bundled local embedder, free
  return out;
}

export function listModels(config: GatewayConfig, auth: AuthContext): Response {
  return Response.json({ object: "list", data: visibleModels(config, auth) });
}

export function getModel(config: GatewayConfig, auth: AuthContext, id: string): Response {
  const model = visibleModels(config, auth).find((m) => m.id === id);
  if (!model) throw new AppError(404, "model_not_found", `The model '${id}' does not exist or you do not have access to it`, { param: "model" });
  return Response.json(model);
}
