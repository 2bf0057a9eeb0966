import fs from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { BackupMeta } from "../../src/backups/types.ts";
import { ADMIN, bootWithAdmin, loginCookie, loginToken, ORIGIN } from "../support/auth.ts";
import { fillBackupFolder } from "../support/backup-folder.ts";

/** A Lifeboat whose folder holds `count` hand-made backups (see fillBackupFolder). */
async function setup(count: number) {
  const lb = await bootWithAdmin();
  const token = await loginToken(lb, ADMIN.username, ADMIN.password);
  const dir = lb.config.backupDir;
  await fillBackupFolder(dir, count);
  const api = (url: string, init: RequestInit = {}) =>
    lb.app.request(url, { ...init, headers: { Authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) } });
  return { lb, api, dir };
}

describe("the list at scale", () => {
  it("keeps the unparameterised call as it was, and pages by cursor with the paging in headers", async () => {
    const { api } = await setup(60);
    const all = await api("/api/backups");
    expect(all.status).toBe(200);
    const everything = (await all.json()) as BackupMeta[];
    expect(everything).toHaveLength(60);
    expect(everything.map((b) => b.createdAt)).toEqual([...everything.map((b) => b.createdAt)].sort().reverse());
    expect(all.headers.get("x-total-count")).toBe("60");
    expect(all.headers.get("link")).toBeNull();

    // Pages of 25, newest first, until the last; no backup twice, none missed.
    const seen: string[] = [];
    let url: string | null = "/api/backups?limit=25";
    let pages = 0;
    while (url) {
      const res = await api(url);
      expect(res.status).toBe(200);
      const page = (await res.json()) as BackupMeta[];
      seen.push(...page.map((b) => b.name));
      expect(res.headers.get("x-total-count")).toBe("60");
      const link = res.headers.get("link");
      url = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1]! : null;
      if (url) expect(url).toContain(`cursor=${res.headers.get("x-next-cursor")}`);
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(everything.map((b) => b.name));
  });

  it("filters by trigger and sorts by size either way; refuses a bad query with 400", async () => {
    const { api } = await setup(30);
    const manual = (await (await api("/api/backups?trigger=manual&limit=100")).json()) as BackupMeta[];
    expect(manual).toHaveLength(10);
    expect(manual.every((b) => b.trigger === "manual")).toBe(true);
    const bySize = (await (await api("/api/backups?sort=size&limit=100")).json()) as BackupMeta[];
    expect(bySize.map((b) => b.size)).toEqual([...bySize.map((b) => b.size)].sort((a, b) => b - a));
    const smallest = (await (await api("/api/backups?sort=size&order=asc&limit=1")).json()) as BackupMeta[];
    expect(smallest[0]!.size).toBe(Math.min(...bySize.map((b) => b.size)));
    for (const bad of ["limit=0", "limit=5000", "sort=name", "trigger=weekly", "cursor=not-a-cursor"]) {
      const res = await api(`/api/backups?${bad}`);
      expect(res.status, bad).toBe(400);
    }
  });

  it("deletes several backups in one request; pinned ones are refused, by name, and stay", async () => {
    const { api, dir, lb } = await setup(6);
    const all = (await (await api("/api/backups")).json()) as BackupMeta[];
    const pinned = all.find((b) => b.pinned)!;
    const victims = all.filter((b) => !b.pinned).slice(0, 2).map((b) => b.name);
    const res = await api("/api/backups/delete", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ names: [...victims, pinned.name] }),
    });
    expect(res.status).toBe(200);
    const result = (await res.json()) as { deleted: string[]; refused: { name: string; reason: string }[] };
    expect(result.deleted).toEqual(victims);
    expect(result.refused).toEqual([{ name: pinned.name, reason: expect.stringContaining("pinned") }]);
    const left = await fs.readdir(dir);
    for (const v of victims) expect(left).not.toContain(v);
    expect(left).toContain(pinned.name);

    // The page's form sends the ticked checkboxes; one request, one message.
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const rest = all.filter((b) => !b.pinned && !victims.includes(b.name)).map((b) => b.name);
    const form = new URLSearchParams(rest.map((n) => ["names", n]));
    const page = await lb.app.request("/admin/backups/delete", {
      method: "POST",
      headers: { Cookie: cookie, Origin: ORIGIN, "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    });
    expect(page.status).toBe(200);
    expect(page.headers.get("hx-trigger")).toBe("backups-changed");
    expect(await page.text()).toContain(`Deleted ${rest.length} backups.`);
    expect((await fs.readdir(dir)).filter((f) => f.endsWith(".sql"))).toEqual([pinned.name]);
    const none = await lb.app.request("/admin/backups/delete", {
      method: "POST",
      headers: { Cookie: cookie, Origin: ORIGIN, "HX-Request": "true", "Content-Type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(none.status).toBe(400);
    expect(await none.text()).toContain("Select at least one backup");
  });

  it("shows a page of the table with the usage of the backup disk, and the next rows on Load more", async () => {
    const { lb } = await setup(30);
    const cookie = await loginCookie(lb, ADMIN.username, ADMIN.password);
    const headers = { Cookie: cookie, Origin: ORIGIN, "HX-Request": "true" };
    const table = await (await lb.app.request("/admin/backups/table", { headers })).text();
    expect(table.match(/<tr id="backup-[^"]+" data-name=/g)).toHaveLength(25);
    expect(table).toMatch(/<strong>30<\/strong> backups, <strong>[\d.]+ kB<\/strong> in total · <strong>[\d.]+ [kMGT]?B<\/strong> free on the backup disk/);
    expect(table).toContain("25 of 30 shown");
    // Without off-site storage there is nothing to say about where a backup is.
    expect(table).not.toContain('<th scope="col">Where</th>');
    expect(table).not.toContain('name="from"');
    const more = /hx-get="([^"]+cursor=[^"]+)"/.exec(table)![1]!.replace(/&amp;/g, "&");
    const next = await (await lb.app.request(more, { headers })).text();
    expect(next.match(/<tr id="backup-[^"]+" data-name=/g)).toHaveLength(5);
    expect(next).toContain("30 of 30 shown");
    expect(next).not.toContain("cursor=");
  });
});
