import { describe, expect, it } from "vitest";
import { ADMIN, bootWithAdmin } from "../support/auth.ts";
import { openBrowser, screenshot, serveLifeboat, signIn } from "../support/browser.ts";

/** Polls until the value matches: page changes arrive asynchronously. */
const until = <T,>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 45_000, interval: 100 });

describe("the backups page on a bad day", () => {
  it("says so next to the action when the server stops mid-action, and recovers by itself when it is back", async () => {
    const lb = await bootWithAdmin();
    const served = await serveLifeboat(lb);
    const { page, errors } = await openBrowser();
    await signIn(page, served.url, ADMIN);
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = "still here"));
    const backUp = page.getByRole("button", { name: "Back up now" });

    // The request leaves the page, then the server goes away before it is answered.
    await page.route("**/admin/backups", async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      await served.stop();
      await route.continue().catch(() => {});
    });
    await backUp.click();

    // Said next to the button (and announced), the buttons work again, the page keeps trying.
    const flash = page.locator('[data-flash-anchor="backup-now"] + .flash');
    await until(() => flash.textContent()).toContain("Lifeboat could not be reached");
    await until(() => page.locator("#status [role=alert]").textContent()).toContain("could not be reached");
    await until(() => backUp.isEnabled()).toBe(true);
    expect(await page.locator("#activity").textContent()).not.toContain("Backing up");
    await until(() => page.locator("#connection").textContent()).toMatch(/cannot be reached\. Trying again/);
    await page.unroute("**/admin/backups");
    await screenshot(page, "bad-day-server-stopped");

    // Pressing it again while the server is down: the same, no stuck "running".
    await backUp.click();
    await until(() => flash.textContent()).toContain("could not be reached");
    await until(() => backUp.isEnabled()).toBe(true);

    // The server comes back: the page notices by itself (no reload) and works again.
    await served.restart();
    await until(() => page.locator("#connection").count()).toBe(0);
    await until(() => page.locator("#status").textContent()).toContain("Connected to Lifeboat again");
    await until(() => page.locator("#activity").textContent()).toContain("Nothing is running");
    await backUp.click();
    await until(() => page.locator("#backup-table tr[data-name]").count()).toBe(1);
    await until(() => flash.textContent()).toMatch(/Backup lifeboat-\d{8}-\d{6}-manual\.sql taken/);
    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("still here");
    await screenshot(page, "bad-day-server-back");

    // A proxy in front answering 502: said in words next to the row, not swapped into the page.
    const row = page.locator("#backup-table tr[data-name]").first();
    const name = (await row.getAttribute("data-name"))!;
    await page.route("**/pin", (route) => route.fulfill({ status: 502, contentType: "text/html", body: "<h1>Bad Gateway</h1>" }));
    await row.getByRole("button", { name: `Pin ${name}` }).click();
    const rowFlash = page.locator(".flash-row .flash");
    await until(() => rowFlash.textContent()).toContain("The server answered 502");
    expect(await page.locator("h1", { hasText: "Bad Gateway" }).count()).toBe(0);
    await page.unroute("**/pin");
    await until(() => page.locator("#connection").count()).toBe(0);

    // The session ended meanwhile (signed out elsewhere): a 401 says so with a way to sign in again.
    await page.context().clearCookies();
    await row.getByRole("button", { name: `Pin ${name}` }).click();
    await until(() => rowFlash.textContent()).toContain("Your session has ended");
    const again = rowFlash.getByRole("link", { name: "Sign in again" });
    expect(await again.getAttribute("href")).toBe("/login?next=%2Fadmin%2Fbackups");
    expect(new URL(page.url()).pathname).toBe("/admin/backups");
    await screenshot(page, "bad-day-signed-out");

    const expected = [
      /^Failed to load resource: (net::ERR_CONNECTION_REFUSED|net::ERR_FAILED|the server responded with a status of (401|404|502))/,
      // htmx logs the failures it reports as events (the page handles those events)
      /^htmx:(afterRequest|sendError), \[object HTMLButtonElement\]$/,
      /^Response Status Error Code (401|502) from \/admin\/backups\/[^ ]+\/pin$/,
    ];
    expect(errors.filter((e) => !expected.some((re) => re.test(e)))).toEqual([]);
  });
});
