import type { Principal } from "../principal.ts";

/** Variables routes can read from the context. */
export type AppEnv = {
  Variables: {
    requestId: string;
    /** Set by the auth middleware once the request is authenticated. */
    principal?: Principal;
  };
};

/** Name of the browser session cookie (a signed token, see `Auth.issueSession`). */
export const SESSION_COOKIE = "lifeboat_session";
