/** Dashboard users (admin only), and the signed-in user's own account. */
import { z } from "zod";
import { ROLES } from "../roles";
import { email, password } from "./auth";
import { id, optionalText } from "./common";

export const userCreateInput = z.object({
  email,
  name: optionalText(128),
  role: z.enum(ROLES),
  teamId: id.nullable().default(null),
  /** Initial password; absent for SSO-only users. */
  password: password.optional(),
});
export type UserCreateInput = z.input<typeof userCreateInput>;

export const userUpdateInput = z.object({
  id,
  name: z.string().trim().max(128).nullish(),
  role: z.enum(ROLES).optional(),
  teamId: id.nullish(),
  disabled: z.boolean().optional(),
});

export const userSetPasswordInput = z.object({ id, password });
