/** Sign-in, first-run setup and password inputs. */
import { z } from "zod";

/** Shortest password accepted (equal to server/auth/password.ts MIN_PASSWORD_LENGTH; a unit test checks). */
export const PASSWORD_MIN_LENGTH = 12;

export const password = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `must have at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(1024, "must have at most 1024 characters");

export const email = z.email({ error: "must be an email address" }).trim().max(320);

export const setupInput = z.object({
  email,
  name: z.string().trim().min(1).max(128).optional(),
  password,
});
export type SetupInput = z.infer<typeof setupInput>;

export const changePasswordInput = z.object({
  current: z.string().min(1, "required").max(1024),
  next: password,
});
