import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { ADMIN, bootWithAdmin } from "../support/auth.ts";
import { fillBackupFolder } from "../support/backup-folder.ts";
import { openBrowser, screenshot, serveLifeboat, signIn } from "../support/browser.ts";

const until = <T,>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 45_000, interval: 100 });

describe("a long backup list in a real browser", () => {
  it("pages with Load more, filters and sorts, and deletes a selection after one confirmation", async () => {
    const lb = await bootWithAdmin();
    await fillBackupFolder(lb.config.backupDir, 30);
    const { url } = await serveLifeboat(lb);
    const { page, errors } = await openBrowser();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    await signIn(page, url, ADMIN);
    const rows = page.locator("#backup-table tr[data-name]");
    expect(await rows.count()).toBe(25);
    expect(await page.locator("#backup-usage").textContent()).toMatch(/30 backups, [\d.]+ kB in total · [\d.]+ [kMGT]?B free on the backup disk/);
    expect(await page.locator("#shown-count").textContent()).toBe("25 of 30 shown");

    // Load more: the next five, in order, nothing twice.
    await page.getByRole("button", { name: "Load 5 more" }).click();
    await until(() => rows.count()).toBe(30);
    expect(await page.locator("#shown-count").textContent()).toBe("30 of 30 shown");
    const names = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-name")!));
    expect(new Set(names).size).toBe(30);
    expect(names).toEqual([...names].sort().reverse());
    await screenshot(page, "backup-list-loaded");

    // Filter by trigger, then sort by size, smallest first.
    await page.getByLabel("Trigger").selectOption("manual");
    await until(() => rows.count()).toBe(10);
    expect(await rows.evaluateAll((els) => els.every((e) => e.textContent!.includes("manual")))).toBe(true);
    await page.getByLabel("Sort by").selectOption("size");
    await page.getByLabel("Order").selectOption("asc");
    await until(async () => {
      const sizes = await rows.evaluateAll((els) => els.map((e) => Number(e.querySelector("td.num")!.getAttribute("title")!.split(" ")[0])));
      return sizes.length === 10 && sizes.every((s, i) => i === 0 || sizes[i - 1]! <= s);
    }).toBe(true);

    // Select three, delete them with one confirmation that counts them.
    const picked = await rows.evaluateAll((els) => els.slice(0, 3).map((e) => e.getAttribute("data-name")!));
    for (const name of picked) await page.getByLabel(`Select ${name}`).check();
    expect(await page.locator("#selected-count").textContent()).toBe("3 selected");
    await page.getByRole("button", { name: "Delete 3 selected" }).click();
    await until(() => rows.count()).toBe(7);
    expect(dialogs.at(-1)).toContain("Delete 3 backups?");
    await until(() => page.locator(".flash").textContent()).toContain("Deleted 3 backups.");
    const left = await fs.readdir(lb.config.backupDir);
    for (const name of picked) expect(left).not.toContain(name);
    // The filter and sort stay after the refresh.
    expect(await page.getByLabel("Trigger").inputValue()).toBe("manual");
    await screenshot(page, "backup-list-bulk-deleted");
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
    await screenshot(page, "backup-list-375");

    expect(errors.filter((e) => !/^Failed to load resource: the server responded with a status of 404/.test(e))).toEqual([]);
  });
});
