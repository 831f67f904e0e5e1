/**
 * Evaluates policy conditions (conditional rules, cascade escalation) against one request. Pure. Regular
 * expressions come from admins but run on client text, so the text they see is bounded (MAX_MATCH_CHARS) and
 * compiled patterns are cached.
 */
import type { Condition } from "@/lib/policy";
import type { RequestProfile } from "./profile";

/** Who is asking and with what labels; the request's own content comes from its profile. */
export interface RequestFacts {
  apiKeyId: string;
  teamId: string;
  /** The request's `user` (end user), if any. */
  user: string | null;
  metadata: Readonly<Record<string, string>>;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string>>;
  profile: RequestProfile;
}

/** Longest text a content pattern is matched against (bounds the cost of a pathological pattern). */
export const MAX_MATCH_CHARS = 20_000;

const compiled = new Map<string, RegExp>();

function regex(source: string, flags = ""): RegExp {
  const key = `${flags}/${source}`;
  let re = compiled.get(key);
  if (!re) {
    re = new RegExp(source, flags);
    if (compiled.size > 1_000) compiled.clear();
    compiled.set(key, re);
  }
  return re;
}

export function matchCondition(condition: Condition, facts: RequestFacts): boolean {
  if (condition.metadata) {
    for (const [key, expected] of Object.entries(condition.metadata)) {
      const value = facts.metadata[key];
      if (value === undefined || !(Array.isArray(expected) ? expected.includes(value) : expected === value)) return false;
    }
  }
  if (condition.headers) {
    for (const [name, pattern] of Object.entries(condition.headers)) {
      const value = facts.headers[name];
      if (value === undefined || !regex(pattern).test(value.slice(0, MAX_MATCH_CHARS))) return false;
    }
  }
  if (condition.apiKeys && !condition.apiKeys.includes(facts.apiKeyId)) return false;
  if (condition.teams && !condition.teams.includes(facts.teamId)) return false;
  if (condition.users && !(facts.user !== null && condition.users.includes(facts.user))) return false;
  if (condition.content) {
    const text = condition.content.scope === "all" ? facts.profile.allText : facts.profile.lastUserText;
    if (!regex(condition.content.pattern, condition.content.ignoreCase === false ? "" : "i").test(text.slice(0, MAX_MATCH_CHARS))) return false;
  }
  if (condition.promptTokens) {
    const tokens = facts.profile.promptTokens;
    if (condition.promptTokens.min !== undefined && tokens < condition.promptTokens.min) return false;
    if (condition.promptTokens.max !== undefined && tokens > condition.promptTokens.max) return false;
  }
  if (condition.requires && !condition.requires.every((need) => facts.profile.needs.has(need))) return false;
  if (condition.any && !condition.any.some((c) => matchCondition(c, facts))) return false;
  if (condition.not && matchCondition(condition.not, facts)) return false;
  return true;
}
