import fs from "node:fs/promises";
import path from "node:path";

/**
 * Fills a backup folder with `count` small backups and their sidecars, as
 * Lifeboat writes them: a minute apart from 2026-11-01, triggers taking turns
 * (scheduled, manual, change), sizes varying; the second one pinned.
 * Returns the names, oldest first.
 */
export async function fillBackupFolder(dir: string, count: number): Promise<string[]> {
  const triggers = ["scheduled", "manual", "change"] as const;
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = new Date(Date.UTC(2026, 10, 1, 0, i));
    const stamp = at.toISOString().replace(/[-:]/g, "").slice(0, 15).replace("T", "-");
    const trigger = triggers[i % 3]!;
    const name = `lifeboat-${stamp}-${trigger}.sql`;
    const body = `-- backup ${i}\n${"x".repeat((i * 7919) % 500)}\n`;
    await fs.writeFile(path.join(dir, name), body);
    const sidecar = {
      format: 1,
      size: Buffer.byteLength(body),
      createdAt: at.toISOString(),
      trigger,
      actor: "test",
      sha256: null,
      rowCounts: null,
      pinned: i === 1,
      periodKey: null,
    };
    await fs.writeFile(path.join(dir, `${name}.json`), JSON.stringify(sidecar));
    names.push(name);
  }
  return names;
}
