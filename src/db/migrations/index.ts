import type { Migration } from "./types.ts";
import { migration as m0001 } from "./0001-meta.ts";
import { migration as m0002 } from "./0002-users.ts";
import { migration as m0003 } from "./0003-schedule.ts";
import { migration as m0004 } from "./0004-sessions.ts";

/** Every migration, in order. Add new files here; never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [m0001, m0002, m0003, m0004];

export type { Migration } from "./types.ts";
