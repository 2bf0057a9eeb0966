import { Layout } from "./layout.tsx";

export interface LoginPageProps {
  /** Same-site path to return to after signing in. */
  next?: string | undefined;
  /** Username to keep in the field after a failed attempt. */
  username?: string | undefined;
  /** Error shown above the form (no-JavaScript fallback; htmx swaps it into #login-error). */
  error?: string | undefined;
  assetVersion?: string | undefined;
}

/** The sign-in form. Works with htmx (errors inline, HX-Redirect on success) and without. */
export function LoginPage(props: LoginPageProps) {
  return (
    <Layout title="Sign in" assetVersion={props.assetVersion}>
      <section class="card narrow">
        <h1>Sign in</h1>
        <form
          method="post"
          action="/login"
          hx-post="/login"
          hx-headers={JSON.stringify({ "HX-Error-Target": "#login-error" })}
          hx-disabled-elt="find button"
        >
          <div id="login-error">
            {props.error && (
              <div class="alert error" role="alert">
                {props.error}
              </div>
            )}
          </div>
          {props.next && <input type="hidden" name="next" value={props.next} />}
          <label for="login-username">Username</label>
          <input
            id="login-username"
            name="username"
            autocomplete="username"
            autocapitalize="none"
            spellcheck={false}
            required
            autofocus
            maxlength={256}
            value={props.username ?? ""}
          />
          <label for="login-password">Password</label>
          <input id="login-password" name="password" type="password" autocomplete="current-password" required maxlength={1024} />
          <p>
            <button type="submit">Sign in</button>
          </p>
        </form>
      </section>
    </Layout>
  );
}
