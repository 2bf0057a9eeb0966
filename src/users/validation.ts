import { z } from "zod";
import { ValidationError } from "../errors.ts";

/** Messages say what is expected; the field name is added by whoever reports the issue. */
const required = (what: string) => (issue: { input: unknown }) =>
  issue.input === undefined ? "is required" : `must be ${what}`;

export const USERNAME_RULE = "3–64 characters: letters, digits, dot, underscore or hyphen";
export const PASSWORD_RULE = "12–256 characters, not only spaces, and not a common or easily guessed password";

export const usernameSchema = z
  .string({ error: required("a string") })
  .regex(/^[A-Za-z0-9._-]{3,64}$/, { error: `must be ${USERNAME_RULE}` });

export const passwordSchema = z
  .string({ error: required("a string") })
  .min(12, { error: "must be at least 12 characters long" })
  .max(256, { error: "must be at most 256 characters long" })
  // trim() drops every Unicode space (tabs, newlines, no-break spaces), so "only spaces" means any kind.
  .refine((v) => v.trim().length > 0, { error: "must not be only spaces" });

const roleSchema = z.enum(["admin", "user"], { error: 'must be "admin" or "user"' });

/** Body of "create a user" (JSON and form alike). */
export const createUserSchema = z.strictObject({
  username: usernameSchema,
  password: passwordSchema,
  role: roleSchema.default("user"),
});
export type CreateUserInput = z.input<typeof createUserSchema>;

/** Body of "change a user": any of role, password, disabled; at least one. */
export const updateUserSchema = z
  .strictObject({
    role: roleSchema.optional(),
    password: passwordSchema.optional(),
    disabled: z.boolean({ error: "must be true or false" }).optional(),
  })
  .refine((v) => v.role !== undefined || v.password !== undefined || v.disabled !== undefined, {
    error: "send at least one of role, password, disabled",
  });
export type UpdateUserInput = z.infer<typeof updateUserSchema>;

/** The same change from an HTML form, where every value is a string. */
export const updateUserFormSchema = z
  .object({
    role: roleSchema.optional(),
    password: passwordSchema.optional(),
    disabled: z.enum(["true", "false"], { error: "must be true or false" }).optional(),
  })
  .transform((v): UpdateUserInput => ({
    ...(v.role !== undefined ? { role: v.role } : {}),
    ...(v.password !== undefined ? { password: v.password } : {}),
    ...(v.disabled !== undefined ? { disabled: v.disabled === "true" } : {}),
  }))
  .refine((v) => v.role !== undefined || v.password !== undefined || v.disabled !== undefined, {
    error: "send at least one of role, password, disabled",
  });

/** Login body: anything goes in shape; wrong values are a generic 401, never a hint. */
export const loginSchema = z.object({
  username: z.string({ error: required("a string") }).min(1, { error: "is required" }).max(256),
  password: z.string({ error: required("a string") }).min(1, { error: "is required" }).max(1024),
});

/** A user changing their own password (JSON). */
export const changePasswordSchema = z.strictObject({
  currentPassword: z.string({ error: required("a string") }).min(1, { error: "is required" }).max(1024),
  newPassword: passwordSchema,
});

/** The same `ValidationError` with its field named as a form shows it (`labels`); anything else unchanged. */
export function relabelError(err: unknown, labels: Readonly<Record<string, string>>): unknown {
  if (!(err instanceof ValidationError) || !err.field || !labels[err.field]) return err;
  const prefix = `${err.field}: `;
  if (!err.message.startsWith(prefix)) return err;
  return new ValidationError(`${labels[err.field]}: ${err.message.slice(prefix.length)}`, err.field);
}

/** The account page's labels of those fields, for its error messages. */
export const CHANGE_PASSWORD_LABELS = {
  currentPassword: "Current password",
  newPassword: "New password",
  confirmPassword: "Repeat new password",
} as const;

/** The same from the account page, with a confirmation field. */
export const changePasswordFormSchema = z
  .object({
    currentPassword: z.string({ error: required("a string") }).min(1, { error: "is required" }).max(1024),
    newPassword: passwordSchema,
    confirmPassword: z.string({ error: required("a string") }),
  })
  .refine((v) => v.newPassword === v.confirmPassword, {
    error: "does not match the new password",
    path: ["confirmPassword"],
  });

/** A user id in a path. */
export const userIdSchema = z.object({
  id: z
    .string()
    .regex(/^[1-9]\d{0,15}$/, { error: "must be a positive whole number" })
    .transform(Number),
});
