export type Role = "admin" | "user";

/** Who is making a request, however they proved it. */
export interface Principal {
  /** Local user id; undefined for principals from an external identity provider. */
  userId?: number;
  username: string;
  role: Role;
  /** How the request was authenticated. */
  via: "session" | "token" | "external-token";
}
