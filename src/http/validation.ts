import { zValidator } from "@hono/zod-validator";
import type { Context } from "hono";
import type { z } from "zod";
import { ValidationError, validationErrorFrom } from "../errors.ts";

type Target = "json" | "form" | "query" | "param";

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * A zod validator whose failures throw `ValidationError` (400, one message
 * naming each bad field, e.g. "password: must be at least 12 characters long"),
 * mapped like every other error. A JSON route sent something other than JSON
 * says so instead of listing every missing field.
 */
export function validate<S extends z.ZodType, T extends Target>(target: T, schema: S) {
  return zValidator(target, schema, (result, c: Context) => {
    if (result.success) return;
    if (target === "json") {
      const type = (c.req.header("Content-Type") ?? "").split(";")[0]!.trim();
      if (!JSON_TYPE.test(type)) {
        throw new ValidationError("Send the request body as JSON with Content-Type: application/json.");
      }
    }
    throw validationErrorFrom(result.error);
  });
}
