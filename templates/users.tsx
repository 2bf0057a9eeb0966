import type { AuditEntry, User } from "../src/users/service.ts";
import { PASSWORD_RULE, USERNAME_RULE } from "../src/users/validation.ts";
import { Layout, type Viewer } from "./layout.tsx";

export interface UsersPageProps {
  users: User[];
  audit: AuditEntry[];
  viewer: Viewer;
  assetVersion?: string | undefined;
}

/** /admin/users: the table of users, the add form and the recent changes. */
export function UsersPage(props: UsersPageProps) {
  return (
    <Layout title="Users" current="/admin/users" viewer={props.viewer} assetVersion={props.assetVersion}>
      <section class="card">
        <h1>Users</h1>
        <p class="muted">
          Admins manage backups and users. Users can sign in and change their own password, nothing else.
          There is always at least one enabled admin.
        </p>
        <div class="table-wrap">
          <table class="users-table">
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                <th scope="col">Status</th>
                <th scope="col" class="hide-narrow">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody id="user-rows">
              {props.users.map((u) => (
                <UserRow user={u} viewer={props.viewer} />
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section class="card">
        <h2>Add a user</h2>
        <AddUserForm />
      </section>
      <section class="card">
        <h2>Recent changes</h2>
        <AuditList entries={props.audit} />
      </section>
    </Layout>
  );
}

/**
 * One user as a table row, used by the page and returned alone by every htmx
 * change, which swaps it in place (`hx-target="closest tr"`).
 */
export function UserRow(props: { user: User; viewer: Viewer }) {
  const u = props.user;
  const url = `/admin/users/${u.id}`;
  const isSelf = u.username.toLowerCase() === props.viewer.username.toLowerCase();
  const rowTarget = { "hx-target": "closest tr", "hx-swap": "outerHTML" };
  return (
    <tr id={`user-${u.id}`}>
      <th scope="row">
        {u.username}
        {isSelf && <span class="muted"> (you)</span>}
      </th>
      <td data-label="Role">
        <form class="row-form" hx-patch={url} {...rowTarget}>
          <select name="role" aria-label={`Role of ${u.username}`}>
            <option value="user" selected={u.role === "user"}>
              User
            </option>
            <option value="admin" selected={u.role === "admin"}>
              Admin
            </option>
          </select>
          <button type="submit" class="secondary" data-action="role" aria-label={`Save role of ${u.username}`}>
            Save
          </button>
        </form>
      </td>
      <td data-label="Status">
        <span class={`badge ${u.disabled ? "failed" : "ok"}`}>{u.disabled ? "disabled" : "active"}</span>
      </td>
      <td class="hide-narrow" data-label="Created">
        <time datetime={u.createdAt} data-local>
          {u.createdAt}
        </time>
      </td>
      <td>
        <div class="actions">
          <details class="reset-password">
            <summary>Reset password</summary>
            <form class="row-form" hx-patch={url} {...rowTarget}>
              <label for={`password-${u.id}`} class="visually-hidden">
                New password for {u.username}
              </label>
              <input
                id={`password-${u.id}`}
                name="password"
                type="password"
                autocomplete="new-password"
                required
                minlength={12}
                maxlength={256}
                placeholder="New password"
              />
              <button type="submit" class="secondary" data-action="password">
                Set password
              </button>
            </form>
          </details>
          <button
            type="button"
            class="secondary"
            hx-patch={url}
            hx-vals={JSON.stringify({ disabled: u.disabled ? "false" : "true" })}
            data-action="toggle"
            aria-label={`${u.disabled ? "Enable" : "Disable"} ${u.username}`}
            {...rowTarget}
          >
            {u.disabled ? "Enable" : "Disable"}
          </button>
          <button
            type="button"
            class="secondary"
            hx-post={`${url}/revoke-sessions`}
            hx-confirm={
              isSelf
                ? "Sign yourself out everywhere else? Your other browsers and API tokens stop working; this browser stays signed in."
                : `Sign ${u.username} out everywhere? Their browser sessions and API tokens stop working at once; they can sign in again.`
            }
            data-action="revoke-sessions"
            aria-label={`Sign out everywhere: ${u.username}`}
            {...rowTarget}
          >
            Sign out everywhere
          </button>
          <button
            type="button"
            class="danger"
            hx-delete={url}
            hx-confirm={`Delete user ${u.username}? They will no longer be able to sign in. This cannot be undone.`}
            data-action="delete"
            aria-label={`Delete ${u.username}`}
            {...rowTarget}
          >
            Delete
          </button>
        </div>
      </td>
    </tr>
  );
}

/**
 * The add-user form. Posts with htmx (the new row is appended to the table),
 * or as a plain form without JavaScript. Sent again out of band after a
 * success, which empties the fields and clears an earlier error.
 */
export function AddUserForm(props: { oob?: boolean }) {
  return (
    <form
      id="add-user-form"
      data-flash-anchor="add-user"
      method="post"
      action="/admin/users"
      hx-post="/admin/users"
      hx-target="#user-rows"
      hx-swap="beforeend"
      hx-headers={JSON.stringify({ "HX-Error-Target": "#add-user-error" })}
      hx-disabled-elt="find button"
      {...(props.oob ? { "hx-swap-oob": "true" } : {})}
    >
      <div id="add-user-error"></div>
      <div class="form-grid">
        <div>
          <label for="new-username">Username</label>
          <input
            id="new-username"
            name="username"
            required
            minlength={3}
            maxlength={64}
            pattern="[A-Za-z0-9._\-]{3,64}"
            title={USERNAME_RULE}
            autocomplete="off"
            autocapitalize="none"
            spellcheck={false}
            aria-describedby="new-username-rule"
          />
        </div>
        <div>
          <label for="new-user-password">Password</label>
          <input
            id="new-user-password"
            name="password"
            type="password"
            required
            minlength={12}
            maxlength={256}
            autocomplete="new-password"
            aria-describedby="new-password-rule"
          />
        </div>
        <div>
          <label for="new-role">Role</label>
          <select id="new-role" name="role">
            <option value="user">User</option>
            <option value="admin">Admin</option>
          </select>
        </div>
        <div>
          <button type="submit">Add user</button>
        </div>
      </div>
      <p class="muted">
        <span id="new-username-rule">Username: {USERNAME_RULE}, not case-sensitive.</span>{" "}
        <span id="new-password-rule">Password: {PASSWORD_RULE}.</span>
      </p>
    </form>
  );
}

const ACTION_TEXT: Record<string, string> = {
  "user.create": "created",
  "user.update": "changed",
  "user.role": "changed the role of",
  "user.password": "reset the password of",
  "user.disable": "disabled",
  "user.enable": "enabled",
  "user.delete": "deleted",
  "user.sessions": "ended all sessions of",
};

function describe(e: AuditEntry): string {
  const d = e.details ?? {};
  if (e.action === "user.password" && d.self === true) return "changed their own password";
  const role = d.role as { from?: string; to?: string } | string | undefined;
  let extra = "";
  if (e.action === "user.create" && typeof role === "string") extra = ` as ${role}`;
  if (e.action === "user.role" && role && typeof role === "object") extra = `: ${role.from} → ${role.to}`;
  if (e.action === "user.update" && Array.isArray(d.changed)) extra = ` (${(d.changed as string[]).join(", ")})`;
  return `${ACTION_TEXT[e.action] ?? e.action} ${e.target.username}${extra}`;
}

/** The audit trail's latest entries: who changed which user, how and when. */
export function AuditList(props: { entries: AuditEntry[]; oob?: boolean }) {
  return (
    <ol id="audit-list" class="audit" {...(props.oob ? { "hx-swap-oob": "true" } : {})}>
      {props.entries.length === 0 && <li class="muted">No changes yet.</li>}
      {props.entries.map((e) => (
        <li>
          <time datetime={e.at} data-local>
            {e.at}
          </time>{" "}
          — <strong>{e.actor}</strong> {describe(e)}
        </li>
      ))}
    </ol>
  );
}
