import type { Child } from "hono/jsx";
import { raw } from "hono/html";

export interface NavItem {
  href: string;
  label: string;
}

/** Who is signed in, as the layout needs it. */
export interface Viewer {
  username: string;
  role: "admin" | "user";
}

export interface LayoutProps {
  title: string;
  /** Path of the current page, to mark the active navigation link. */
  current?: string;
  viewer?: Viewer | null;
  nav?: NavItem[];
  /** Fingerprint appended to asset URLs so browsers can cache them for a long time. */
  assetVersion?: string;
  children?: Child;
}

/** Admin navigation; each page passes the viewer so links match the role. */
function navFor(viewer: Viewer | null | undefined): NavItem[] {
  if (!viewer) return [];
  if (viewer.role !== "admin") return [{ href: "/account", label: "My account" }];
  return [
    { href: "/admin/backups", label: "Backups" },
    { href: "/admin/runs", label: "Runs" },
    { href: "/admin/users", label: "Users" },
    { href: "/api/docs", label: "API" },
  ];
}

// htmx settings: no inline indicator styles (the CSP forbids inline styles), no
// eval (the CSP forbids it), 4xx/5xx answers are swapped so errors show inline,
// and a request without an answer for 20 s counts as failed (static/app.js says
// so and retries; requests that run a backup or an import set a longer timeout).
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  historyCacheSize: 0,
  timeout: 20_000,
  responseHandling: [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "[45]..", swap: true, error: true },
  ],
});

/** The page shell every page uses: header with navigation, an aria-live status region, main content. */
export function Layout(props: LayoutProps) {
  const v = props.assetVersion ? `?v=${props.assetVersion}` : "";
  const nav = props.nav ?? navFor(props.viewer);
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.title} · Lifeboat`}</title>
        <link rel="stylesheet" href={`/static/style.css${v}`} />
        <script src={`/static/htmx.min.js${v}`} defer></script>
        <script src={`/static/app.js${v}`} defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="topbar">
          <a class="brand" href="/">
            <svg class="logo" aria-hidden="true" viewBox="0 0 24 24" width="22" height="22">
              <circle cx="12" cy="12" r="8" fill="none" stroke="currentColor" stroke-width="4" stroke-dasharray="6.28 6.28" />
              <circle cx="12" cy="12" r="10" fill="none" stroke="currentColor" stroke-width="1" />
            </svg>{" "}
            Lifeboat
          </a>
          {nav.length > 0 && (
            <nav aria-label="Main">
              <ul>
                {nav.map((item) => (
                  <li>
                    <a href={item.href} aria-current={props.current === item.href ? "page" : undefined}>
                      {item.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          {props.viewer && (
            <form class="signout" method="post" action="/logout">
              <a class="who" href="/account" aria-current={props.current === "/account" ? "page" : undefined} title="Your account">
                <span class="visually-hidden">Your account: </span>
                {props.viewer.username}
              </a>
              <button type="submit" class="link">Sign out</button>
            </form>
          )}
        </header>
        <div id="status" class="status" role="status" aria-live="polite"></div>
        <main id="main">{props.children}</main>
      </body>
      </html>
    </>
  );
}
