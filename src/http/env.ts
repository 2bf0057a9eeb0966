import type { Principal } from "../auth/principal.ts";

/** Variables routes can read from the context. */
export type AppEnv = {
  Variables: {
    requestId: string;
    /** Set by the auth middleware once the request is authenticated. */
    principal?: Principal;
  };
};
