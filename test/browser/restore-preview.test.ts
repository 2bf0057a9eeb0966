import { describe, expect, it } from "vitest";
import { ADMIN, bootWithAdmin } from "../support/auth.ts";
import { openBrowser, screenshot, serveLifeboat, signIn } from "../support/browser.ts";

/** Polls until the value matches: page changes arrive asynchronously. */
const until = <T,>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 45_000, interval: 100 });

describe("restore preview and undo in a real browser", () => {
  it("previews a backup against the live database, imports it from the dialog and undoes the import — without leaving the page", async () => {
    const lb = await bootWithAdmin();
    await lb.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    await lb.db.execute("INSERT INTO notes (body) VALUES ('first'), ('second'), ('third')");
    const notes = async () => (await lb.db.execute("SELECT body FROM notes ORDER BY id")).rows.map((r) => String(r.body));
    const { url } = await serveLifeboat(lb);
    const { page, errors } = await openBrowser();
    await signIn(page, url, ADMIN);
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = "still here"));

    await page.getByRole("button", { name: "Back up now" }).click();
    const rows = page.locator("#backup-table tr[data-name]");
    await until(() => rows.count()).toBe(1);
    const name = (await rows.first().getAttribute("data-name"))!;
    // The bad day: a note is lost and something new appears.
    await lb.db.execute("DELETE FROM notes WHERE body = 'second'");
    await lb.db.execute("CREATE TABLE scratch (x)");

    // Import… opens the preview; focus lands on the safe choice; Esc closes it and gives focus back.
    const importButton = page.getByRole("button", { name: `Import ${name}` });
    await importButton.click();
    const dialog = page.getByRole("dialog", { name: `Restore ${name}?` });
    await dialog.getByRole("button", { name: "Import this backup" }).waitFor();
    await until(() => page.evaluate(() => document.activeElement?.textContent?.trim())).toBe("Cancel");
    const text = (await dialog.textContent())!;
    expect(text).toContain("Lifeboat backup");
    expect(text).toMatch(/Checksum\s*matches/);
    expect(text).toContain("A safety backup of the current database is taken first");
    const notesRow = dialog.locator("tr", { has: page.locator("code", { hasText: /^notes$/ }) });
    expect(await notesRow.getAttribute("class")).toBe("differs");
    expect((await notesRow.textContent())!.replace(/\s+/g, " ")).toContain("32+1 rows");
    const scratchRow = dialog.locator("tr", { has: page.locator("code", { hasText: /^scratch$/ }) });
    expect(await scratchRow.textContent()).toContain("removed by the restore");
    expect(await dialog.locator(".admins").textContent()).toContain(ADMIN.username);
    await screenshot(page, "restore-preview");
    await page.setViewportSize({ width: 375, height: 800 });
    await screenshot(page, "restore-preview-375");
    await page.setViewportSize({ width: 1200, height: 900 });
    await page.keyboard.press("Escape");
    await until(() => dialog.isVisible()).toBe(false);
    await until(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe(`Import ${name}`);
    expect(await notes()).toEqual(["first", "third"]);

    // Again, and confirmed in the dialog: the notes come back, the result offers Undo.
    await importButton.click();
    await dialog.getByRole("button", { name: "Import this backup" }).click();
    const result = page.locator("#backup-result .import-result");
    await until(() => result.textContent()).toContain(`Imported ${name}`);
    expect(await dialog.isVisible()).toBe(false);
    await until(() => page.evaluate(() => document.activeElement?.classList.contains("import-result"))).toBe(true);
    expect(await notes()).toEqual(["first", "second", "third"]);
    const safety = /lifeboat-\d{8}-\d{6}-pre-import(-\d+)?\.sql/.exec((await result.textContent())!)![0];

    // Undo: the same preview (of the safety backup), the same confirmation; the bad day's state is back.
    await result.getByRole("button", { name: "Undo this import…" }).click();
    const undo = page.getByRole("dialog", { name: "Undo the import?" });
    await undo.getByRole("button", { name: "Undo the import" }).waitFor();
    expect(await undo.textContent()).toContain(safety);
    await screenshot(page, "restore-undo-preview");
    await undo.getByRole("button", { name: "Undo the import" }).click();
    await until(() => result.textContent()).toContain(`Imported ${safety}`);
    expect(await notes()).toEqual(["first", "third"]);
    expect((await lb.db.execute("SELECT name FROM sqlite_schema WHERE name = 'scratch'")).rows).toHaveLength(1);
    await screenshot(page, "restore-undone");

    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("still here");
    expect(errors.filter((e) => !/^Failed to load resource: the server responded with a status of 404/.test(e))).toEqual([]);
  });
});
