import { describe, expect, it } from "vitest";
import { ADMIN } from "../support/auth.ts";
import { signIn } from "../support/browser.ts";
import { checkEverywhere, PAGE_TIMEOUT, servedWithBrowser } from "./support/accessibility.ts";

// A file of its own: with about 2,500 elements this page costs as much as all the others
// together, and a separate file lets it run beside them (accessibility.test.ts).
describe("accessibility of the API reference, checked by axe-core at 1280 and 375 px in light and dark", () => {
  it("API reference", async () => {
    const { page, served } = await servedWithBrowser();
    await signIn(page, served.url, ADMIN);
    await page.goto(`${served.url}/api/docs`);
    expect(await checkEverywhere(page, "api-docs")).toEqual([]);
  }, PAGE_TIMEOUT);
});
