/**
 * Resolves the client's `model` to a plan: the ordered targets to try. A name is, in order of precedence, a policy
 * (virtual model), `provider/model`, or a bare model id served by one of the organization's providers.
 * Unknown names are a 404 that lists nothing; names outside the key's allow-list are a 403.
 */
import type { CatalogModel } from "../catalog/model";
import type { AuthContext } from "./auth";
import { providerModel, type GatewayConfig, type OrgConfig, type PolicyConfig, type ProviderConfig } from "./config";
import { AppError } from "./errors";

export interface Target {
  provider: ProviderConfig;
  /** The provider's model id. */
  modelId: string;
  /** Catalog entry (prices, limits, capabilities); null for a model the catalog does not know. */
  model: CatalogModel | null;
}

export interface Plan {
  requested: string;
  policy: PolicyConfig | null;
  targets: Target[];
  /** What the savings baseline is priced at: the policy's reference, else the first target. */
  reference: Target;
  dropParams: ReadonlySet<string>;
}

/** Self-hosted kinds serve whatever models they were started with; the catalog has no list for them. */
const OPEN_MODEL_KINDS = new Set(["ollama", "vllm", "openai-compatible"]);

export function resolvePlan(config: GatewayConfig, auth: AuthContext, requested: string): Plan {
  const org = config.orgs.get(auth.orgId);
  if (auth.allowedModels.length > 0 && !auth.allowedModels.includes(requested)) {
    throw new AppError(403, "model_not_allowed", `This API key is not allowed to use the model '${requested}'`, { param: "model" });
  }
  const notFound = () =>
    new AppError(404, "model_not_found", `The model '${requested}' does not exist or you do not have access to it`, { param: "model" });
  if (!org) throw notFound();

  const policy = org.policies.get(requested);
  if (policy && (!policy.teamId || policy.teamId === auth.teamId)) {
    const targets = policy.document.targets
      .map((ref) => target(org, ref.provider, ref.model))
      .filter((t): t is Target => t !== null);
    if (targets.length === 0) {
      throw new AppError(503, "no_available_target", `The policy '${requested}' has no target with an enabled provider and model`);
    }
    const reference = policy.document.reference ? target(org, policy.document.reference.provider, policy.document.reference.model) : null;
    return { requested, policy, targets, reference: reference ?? targets[0]!, dropParams: new Set(policy.document.dropParams) };
  }

  const slash = requested.indexOf("/");
  if (slash > 0) {
    const explicit = target(org, requested.slice(0, slash), requested.slice(slash + 1));
    if (explicit) return single(requested, explicit);
  }
  for (const provider of org.providers.values()) {
    const model = providerModel(org, provider, requested);
    if (model) return single(requested, { provider, modelId: requested, model });
  }
  throw notFound();
}

function single(requested: string, t: Target): Plan {
  return { requested, policy: null, targets: [t], reference: t, dropParams: new Set() };
}

function target(org: OrgConfig, providerName: string, modelId: string): Target | null {
  const provider = org.providers.get(providerName);
  if (!provider) return null;
  const model = providerModel(org, provider, modelId);
  if (model) return { provider, modelId, model };
  return OPEN_MODEL_KINDS.has(provider.kind) ? { provider, modelId, model: null } : null;
}
