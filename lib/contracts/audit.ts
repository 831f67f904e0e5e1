/** Reading the audit log (admins). */
import { z } from "zod";
import { id, pageInput } from "./common";

export const auditListInput = pageInput.extend({
  entity: z.string().trim().min(1).max(64).optional(),
  actorId: id.optional(),
  entityId: id.optional(),
});
