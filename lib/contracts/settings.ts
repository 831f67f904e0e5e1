/** Organization settings editable in the dashboard. */
import { z } from "zod";

export const settingsUpdateInput = z.object({
  organizationName: z.string().trim().min(1, "required").max(128),
});
