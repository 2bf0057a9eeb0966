import type { Migration } from "./types.ts";
import { migration as m0001 } from "./0001-meta.ts";

/** Every migration, in order. Add new files here; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [m0001];

export type { Migration } from "./types.ts";
