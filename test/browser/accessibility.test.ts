import { describe, expect, it } from "vitest";
import { ADMIN } from "../support/auth.ts";
import { signIn } from "../support/browser.ts";
import { checkEverywhere, PAGE_TIMEOUT, servedWithBrowser } from "./support/accessibility.ts";

// The API reference, the largest page by far, is checked in accessibility-api-docs.test.ts,
// so that the two halves can run side by side.
describe("accessibility, checked by axe-core on every page at 1280 and 375 px in light and dark", () => {
  it("sign-in, also after a refused attempt (focus back on the password)", async () => {
    const { page, served } = await servedWithBrowser();
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
    const { page, served } = await servedWithBrowser();
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

  it("overview, users, run history and account", async () => {
    const { page, served } = await servedWithBrowser();
    await signIn(page, served.url, ADMIN);
    const found: string[] = [];
    for (const [path, label] of [
      ["/admin", "overview"],
      ["/admin/users", "users"],
      ["/admin/runs", "runs"],
      ["/account", "account"],
    ] as const) {
      await page.goto(`${served.url}${path}`);
      found.push(...(await checkEverywhere(page, label)));
    }
    expect(found).toEqual([]);
  }, PAGE_TIMEOUT);
});
