/** Teams: the unit that owns API keys, team-scoped policies and budgets. */
import { z } from "zod";
import { teamSlug } from "../config-file";
import { id } from "./common";

export { teamSlug };

export const teamName = z.string().trim().min(1, "required").max(128);

export const teamCreateInput = z.object({ name: teamName, slug: teamSlug });
export const teamUpdateInput = z.object({ id, name: teamName });

/** "Platform team" → "platform-team". */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
}
