import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ADMIN, bootWithAdmin } from "../support/auth.ts";
import { openBrowser, screenshot, serveLifeboat } from "../support/browser.ts";

/** Polls until the value matches: page changes arrive asynchronously. */
const until = <T,>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: 30_000, interval: 50 });

describe("backups page in a real browser", () => {
  it("signs in, backs up, downloads, uploads and imports, deletes after confirming — without reloading", async () => {
    const lb = await bootWithAdmin({ MAX_UPLOAD_BYTES: "64KiB" });
    await lb.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)");
    await lb.db.execute("INSERT INTO notes (body) VALUES ('first'), ('second'), ('third')");
    const notes = async () => (await lb.db.execute("SELECT body FROM notes ORDER BY id")).rows.map((r) => String(r.body));
    const { url } = await serveLifeboat(lb);
    const { page, errors } = await openBrowser();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.accept();
    });

    // Signed out, the page sends us to the sign-in form, which brings us back.
    await page.goto(`${url}/admin/backups`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.getByLabel("Username").fill(ADMIN.username);
    await page.getByLabel("Password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${url}/admin/backups`);
    await page.locator("text=No backups yet").waitFor();
    await until(() => page.locator("#backup-status").textContent()).toContain("Next scheduled backup");
    // Every change below happens in place: a reload would lose this marker.
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = "still here"));

    // Back up now: the new row appears, the status says so.
    await page.getByRole("button", { name: "Back up now" }).click();
    const rows = page.locator("#backup-table tbody tr[data-name]");
    await until(() => rows.count()).toBe(1);
    await until(() => page.locator("#status").textContent()).toMatch(/Backup lifeboat-\d{8}-\d{6}-manual\.sql taken/);
    const listed = await lb.app.request("/api/backups", { headers: { Cookie: await sessionCookie() } });
    const name = ((await listed.json()) as { name: string }[])[0]!.name;
    const row = page.locator(`tr[data-name="${name}"]`);
    await row.waitFor();
    // Times are shown in the viewer's zone, with a relative hint.
    await until(() => row.locator(".relative").textContent()).toMatch(/now|second|minute/);
    await until(() => page.locator("#backup-status").textContent()).toContain("Last manual backup");

    // Download: the exact bytes of the file on disk, under the server's name.
    const [download] = await Promise.all([page.waitForEvent("download"), row.getByRole("link", { name: `Download ${name}` }).click()]);
    expect(download.suggestedFilename()).toBe(name);
    const downloaded = await fs.readFile((await download.path())!);
    const onDisk = await fs.readFile(path.join(lb.config.backupDir, name));
    expect(downloaded.equals(onDisk)).toBe(true);

    // A hostile file is refused inline, in words, and changes nothing.
    await page.locator("#upload-file").setInputFiles({
      name: "evil.sql",
      mimeType: "application/sql",
      buffer: Buffer.from("CREATE TABLE t(x);\nATTACH DATABASE 'x.db' AS x;\n"),
    });
    await page.getByRole("button", { name: "Store", exact: true }).click();
    await until(() => page.locator("#upload-result").textContent()).toMatch(/line 2: .*ATTACH/i);
    expect(await rows.count()).toBe(1);

    // Too large: refused while it streams in, said in words next to the form.
    await page.locator("#upload-file").setInputFiles({
      name: "huge.sql",
      mimeType: "application/sql",
      buffer: Buffer.from("-- huge\n" + "INSERT INTO notes VALUES (NULL, 'x');\n".repeat(20_000)),
    });
    await page.getByRole("button", { name: "Store", exact: true }).click();
    await until(() => page.locator("#upload-result").textContent()).toContain("larger than the limit of 65536 bytes");
    expect(await rows.count()).toBe(1);
    expect((await fs.readdir(lb.config.backupDir)).filter((f) => f.startsWith("."))).toEqual([]);

    // Without a file, nothing is sent: the browser points at the file field.
    await page.locator("#upload-file").setInputFiles([]);
    await page.locator("#upload-result").evaluate((el) => (el.textContent = ""));
    await page.getByRole("button", { name: "Store", exact: true }).click();
    await until(() => page.evaluate(() => document.activeElement?.id)).toBe("upload-file");
    expect(await page.locator("#upload-result").textContent()).toBe("");

    // Change the data, then upload the downloaded backup and import it in one step.

    await lb.db.execute("DELETE FROM notes WHERE body = 'second'");
    await lb.db.execute("INSERT INTO notes (body) VALUES ('written after the backup')");
    await page.locator("#upload-file").setInputFiles({ name: "restore.sql", mimeType: "application/sql", buffer: downloaded });
    await page.getByRole("button", { name: "Store and import" }).click();
    // The stored copy is previewed in an in-page dialog; the import is confirmed there.
    const preview = page.getByRole("dialog");
    await preview.getByRole("button", { name: "Import this backup" }).waitFor();
    const previewText = (await preview.textContent())!;
    expect(previewText).toContain("The current database will be replaced");
    expect(previewText).toContain("safety backup");
    await preview.getByRole("button", { name: "Import this backup" }).click();
    await until(() => page.locator("#upload-result").textContent()).toContain("Imported lifeboat-");
    expect(await preview.isVisible()).toBe(false);
    const result = (await page.locator("#upload-result").textContent())!;
    expect(result).toMatch(/Tables\s*\d+/);
    expect(result).toMatch(/Rows\s*\d+/);
    expect(result).toMatch(/Safety backup\s*lifeboat-\d{8}-\d{6}-pre-import(-\d+)?\.sql/);
    // The progress bar was fed by the upload's progress events, up to the whole body; hidden again after.
    const progress = await page.locator("#upload-progress").evaluate((el) => ({
      value: (el as HTMLProgressElement).value,
      max: (el as HTMLProgressElement).max,
      hidden: (el as HTMLProgressElement).hidden,
    }));
    expect(progress.max).toBeGreaterThan(downloaded.length);
    expect(progress.value).toBe(progress.max);
    expect(progress.hidden).toBe(true);
    expect(await notes()).toEqual(["first", "second", "third"]);
    // The table refreshed by itself: the original, the stored upload and the safety backup.
    await until(() => rows.count()).toBe(3);
    const safetyName = /lifeboat-\d{8}-\d{6}-pre-import(-\d+)?\.sql/.exec(result)![0];

    // Pin the original: the row says so, and Delete is refused for it until unpinned.
    await row.getByRole("button", { name: `Pin ${name}` }).click();
    await until(() => row.locator(".badge.pinned").count()).toBe(1);
    await until(() => page.locator("#status").textContent()).toContain("pinned");

    // Delete the safety backup after confirming.
    const safetyRow = page.locator(`tr[data-name="${safetyName}"]`);
    const before = dialogs.length;
    await safetyRow.getByRole("button", { name: `Delete ${safetyName}` }).click();
    await until(() => safetyRow.count()).toBe(0);
    expect(dialogs[before]).toContain(`Delete ${safetyName}?`);
    await until(() => page.locator("#status").textContent()).toContain(`Backup ${safetyName} deleted.`);
    await expect(fs.access(path.join(lb.config.backupDir, safetyName))).rejects.toThrow();
    await until(() => rows.count()).toBe(2);

    expect(await page.evaluate(() => (window as unknown as { marker?: string }).marker)).toBe("still here");
    const shot = await screenshot(page, "backups-page");
    expect((await fs.stat(shot)).size).toBeGreaterThan(10_000);

    // Readable on a phone: nothing wider than the screen.
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, "backups-page-375");

    // No CSP violation or script error along the way (the refused upload answered 422 on purpose).
    const expected = [
      /^Failed to load resource: the server responded with a status of (404|413|422)/, // the favicon; the refused files
      /^Response Status Error Code (413|422) from \/admin\/backups\/upload/,
    ];
    expect(errors.filter((e) => !expected.some((re) => re.test(e)))).toEqual([]);

    async function sessionCookie(): Promise<string> {
      const c = (await page.context().cookies()).find((x) => x.name === "lifeboat_session")!;
      return `${c.name}=${c.value}`;
    }
  });
});
