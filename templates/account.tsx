import type { Viewer } from "./layout.tsx";
import { Layout } from "./layout.tsx";
import { PASSWORD_RULE } from "../src/users/validation.ts";

export interface AccountPageProps {
  viewer: Viewer;
  /** False for accounts from an external identity provider: no password here. */
  localAccount: boolean;
  /** Success message shown after a plain (non-htmx) form post. */
  notice?: string | undefined;
  assetVersion?: string | undefined;
}

/** The signed-in user's own page: who they are, and a form to change their password. */
export function AccountPage(props: AccountPageProps) {
  return (
    <Layout title="My account" current="/account" viewer={props.viewer} assetVersion={props.assetVersion}>
      {props.notice && (
        <div class="alert success" role="status">
          {props.notice}
        </div>
      )}
      <section class="card">
        <h1>My account</h1>
        <p>
          Signed in as <strong>{props.viewer.username}</strong> ({props.viewer.role === "admin" ? "admin" : "user"}).
        </p>
      </section>
      <section class="card">
        <h2>Change password</h2>
        {props.localAccount ? (
          <ChangePasswordForm />
        ) : (
          <p class="muted">This account comes from your identity provider; change its password there.</p>
        )}
      </section>
    </Layout>
  );
}

/**
 * The change-password form. Rendered again (empty) out of band after a
 * successful change, which clears the fields and any earlier error.
 */
export function ChangePasswordForm(props: { oob?: boolean }) {
  return (
    <form
      id="password-form"
      data-flash-anchor="password"
      method="post"
      action="/account"
      hx-post="/account"
      hx-swap="none"
      hx-headers={JSON.stringify({ "HX-Error-Target": "#password-error" })}
      hx-disabled-elt="find button"
      {...(props.oob ? { "hx-swap-oob": "true" } : {})}
    >
      <div id="password-error"></div>
      <label for="current-password">Current password</label>
      <input id="current-password" name="currentPassword" type="password" autocomplete="current-password" required />
      <label for="new-password">New password</label>
      <input
        id="new-password"
        name="newPassword"
        type="password"
        autocomplete="new-password"
        required
        minlength={12}
        maxlength={256}
        aria-describedby="new-password-rule"
      />
      <p id="new-password-rule" class="muted">
        {PASSWORD_RULE}. Other browsers and API tokens signed in as you will have to sign in again.
      </p>
      <label for="confirm-password">Repeat new password</label>
      <input id="confirm-password" name="confirmPassword" type="password" autocomplete="new-password" required />
      <p>
        <button type="submit">Change password</button>
      </p>
    </form>
  );
}
