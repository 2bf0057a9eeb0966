import fs from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bootTestLifeboat } from "../support/app.ts";
import { tempDir } from "../support/temp.ts";

const mode = async (p: string) => ((await fs.stat(p)).mode & 0o777).toString(8);

describe("files Lifeboat creates", () => {
  it("are private to its user: DATA_DIR and the backup folder 0700; database (with -wal, -shm), secret and backups 0600", async () => {
    const parent = await tempDir();
    const dataDir = path.join(parent, "data");
    const lifeboat = await bootTestLifeboat({ DATA_DIR: dataDir }, { dataDir });
    const backup = await lifeboat.backups.createBackup({ trigger: "manual", actor: "test" });
    await lifeboat.db.execute("CREATE TABLE t (x)"); // the WAL is written

    expect(await mode(dataDir)).toBe("700");
    expect(await mode(path.join(dataDir, "backups"))).toBe("700");
    const files = ["app.db", "app.db-wal", "app.db-shm", "jwt-secret", `backups/${backup.name}`, `backups/${backup.name}.json`];
    for (const f of files) expect([f, await mode(path.join(dataDir, f))]).toEqual([f, "600"]);
  });

  it("leave an existing database file's mode alone (the application may share it)", async () => {
    const dataDir = await tempDir();
    await fs.writeFile(path.join(dataDir, "app.db"), "", { mode: 0o640 });
    await fs.chmod(path.join(dataDir, "app.db"), 0o640);
    await bootTestLifeboat({}, { dataDir });
    expect(await mode(path.join(dataDir, "app.db"))).toBe("640");
  });
});
