import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { ADMIN, bootWithAdmin, createUser } from "../support/auth.ts";
import { openBrowser, screenshot, serveLifeboat, signIn, type ServedLifeboat } from "../support/browser.ts";

const WIDTHS = [1280, 375] as const;
const SCHEMES = ["light", "dark"] as const;
/** axe on a busy 2-core machine takes seconds per run; four runs per page. */
const PAGE_TIMEOUT = 600_000;

/** Every axe violation on the page, as readable lines (empty when clean). */
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  return results.violations.flatMap((v) =>
    v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(" ")} — ${n.failureSummary?.replace(/\s+/g, " ")}`),
  );
}

/**
 * Runs axe-core on the page as it is, at both widths in both colour schemes
 * (screenshots of each go to test-results/). Returns every violation, prefixed by where.
 */
async function checkEverywhere(page: Page, label: string): Promise<string[]> {
  const found: string[] = [];
  for (const scheme of SCHEMES) {
    for (const width of WIDTHS) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.setViewportSize({ width, height: 900 });
      found.push(...(await violations(page)).map((v) => `${label} @${width}px ${scheme}: ${v}`));
      // Two of the four are kept to look at: wide and light, narrow and dark.
      if ((width === 1280) === (scheme === "light")) await screenshot(page, `a11y-${label}-${width}-${scheme}`);
    }
  }
  await page.emulateMedia({ colorScheme: "light" });
  await page.setViewportSize({ width: 1280, height: 900 });
  return found;
}

describe("accessibility, checked by axe-core on every page at 1280 and 375 px in light and dark", () => {
  let served: ServedLifeboat;

  /** A Lifeboat with a second user, app data and two backups (one pinned), served, and a browser on it. */
  async function fresh(): Promise<Page> {
    // Everything per test: the shared cleanups stop servers and remove temp folders after each one.
    const lb = await bootWithAdmin();
    await createUser(lb, "nora", "nora's long password");
    await lb.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    await lb.db.execute("INSERT INTO notes (body) VALUES ('first'), ('second')");
    await lb.backups.createBackup({ trigger: "manual", actor: "admin" });
    const pinned = await lb.backups.createBackup({ trigger: "scheduled", actor: "scheduler" });
    await lb.backups.setPinned(pinned.name, true);
    served = await serveLifeboat(lb);
    // axe-core is injected as a script: only this context lets it past the pages' strict CSP.
    return (await openBrowser({ bypassCSP: true })).page;
  }

  it("sign-in, also after a refused attempt (focus back on the password)", async () => {
    const page = await fresh();
    await page.goto(`${served.url}/login`);
    const found = await checkEverywhere(page, "login");
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill("wrong password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#login-error .alert").waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe("login-password");
    found.push(...(await checkEverywhere(page, "login-refused")));
    expect(found).toEqual([]);
  }, PAGE_TIMEOUT);

  it("backups, with a message next to an action, and the restore preview dialog", async () => {
    const page = await fresh();
    await signIn(page, served.url, ADMIN);
    const found = await checkEverywhere(page, "backups");
    await page.getByRole("button", { name: /^Pin / }).first().click();
    await page.locator(".flash").waitFor();
    found.push(...(await checkEverywhere(page, "backups-message")));
    await page.getByRole("button", { name: /^Import lifeboat-/ }).first().click();
    await page.getByRole("button", { name: "Import this backup" }).waitFor();
    found.push(...(await checkEverywhere(page, "restore-preview")));
    expect(found).toEqual([]);
  }, PAGE_TIMEOUT);

  it("overview, users, run history, account and API reference", async () => {
    const page = await fresh();
    await signIn(page, served.url, ADMIN);
    const found: string[] = [];
    for (const [path, label] of [
      ["/admin", "overview"],
      ["/admin/users", "users"],
      ["/admin/runs", "runs"],
      ["/account", "account"],
      ["/api/docs", "api-docs"],
    ] as const) {
      await page.goto(`${served.url}${path}`);
      found.push(...(await checkEverywhere(page, label)));
    }
    expect(found).toEqual([]);
  }, PAGE_TIMEOUT);
});
