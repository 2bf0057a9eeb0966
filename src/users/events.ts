/** What an admin (or a user, for their own password) changed in the user database. */
export type UserChangeAction =
  | "user.create"
  | "user.update"
  | "user.role"
  | "user.password"
  | "user.disable"
  | "user.enable"
  | "user.delete"
  /** An admin ended every session and API token of a user. */
  | "user.sessions";

/**
 * Emitted once per committed mutation of the user database, never for a failed
 * or rolled-back one. The scheduler turns these into coalesced `change` backups.
 */
export interface UserChangeEvent {
  action: UserChangeAction;
  /** Username of who did it. */
  actor: string;
  /** Id and username of the user that changed. */
  target: { id: number; username: string };
  /** ISO 8601 time of the commit. */
  at: string;
}
