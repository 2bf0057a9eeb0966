/**
 * A success message for the layout's aria-live `#status` region, sent with an
 * htmx response and swapped in out of band (whatever the request's own target).
 */
export function StatusMessage(props: { message: string }) {
  return (
    <div id="status" hx-swap-oob="innerHTML">
      <div class="alert success">{props.message}</div>
    </div>
  );
}

/** An error for `#status`, out of band, for responses whose main content is something else. */
export function StatusError(props: { message: string }) {
  return (
    <div id="status" hx-swap-oob="innerHTML">
      <div class="alert error" role="alert">
        {props.message}
      </div>
    </div>
  );
}
