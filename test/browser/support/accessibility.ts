import { AxeBuilder } from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { bootWithAdmin, createUser } from "../../support/auth.ts";
import { openBrowser, screenshot, serveLifeboat, type ServedLifeboat } from "../../support/browser.ts";

const WIDTHS = [1280, 375] as const;
const SCHEMES = ["light", "dark"] as const;
/** axe on a busy 2-core machine takes seconds per run; four runs per page. */
export const PAGE_TIMEOUT = 600_000;

/**
 * Every axe violation on the page, as readable lines (empty when clean).
 * Every rule of these tags runs on every element; two options only cut what
 * is carried back. `resultTypes`: passing and inapplicable rules report one
 * node instead of all of them (a violation still lists every node). Legacy
 * mode: one `axe.run` in the page instead of a partial run serialised out and
 * finished in a second, blank page (that path is for cross-origin frames,
 * which these pages do not have; same-origin frames are still checked). On
 * the API reference (2,500 elements) the two halve the CPU of a check.
 */
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"])
    .options({ resultTypes: ["violations"] })
    .setLegacyMode()
    .analyze();
  return results.violations.flatMap((v) =>
    v.nodes.map((n) => `${v.id} (${v.impact}): ${n.target.join(" ")} — ${n.failureSummary?.replace(/\s+/g, " ")}`),
  );
}

/**
 * Runs axe-core on the page as it is, at both widths in both colour schemes
 * (screenshots of each go to test-results/). Returns every violation, prefixed by where.
 */
export async function checkEverywhere(page: Page, label: string): Promise<string[]> {
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

/**
 * A Lifeboat with a second user, app data and two backups (one pinned),
 * served, and a browser on it. Everything per test: the shared cleanups stop
 * servers and remove temp folders after each one.
 */
export async function servedWithBrowser(): Promise<{ page: Page; served: ServedLifeboat }> {
  const lb = await bootWithAdmin();
  await createUser(lb, "nora", "nora's long password");
  await lb.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  await lb.db.execute("INSERT INTO notes (body) VALUES ('first'), ('second')");
  await lb.backups.createBackup({ trigger: "manual", actor: "admin" });
  const pinned = await lb.backups.createBackup({ trigger: "scheduled", actor: "scheduler" });
  await lb.backups.setPinned(pinned.name, true);
  const served = await serveLifeboat(lb);
  // axe-core is injected as a script: only this context lets it past the pages' strict CSP.
  const { page } = await openBrowser({ bypassCSP: true });
  return { page, served };
}
