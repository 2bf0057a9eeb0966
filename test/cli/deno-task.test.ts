import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { tempDir } from "../support/temp.ts";

const run = promisify(execFile);

describe("npx deno task lifeboat -- … (the README's Deno command, as written)", () => {
  it("takes the `--` Deno passes through, backs up and lists", async () => {
    const dataDir = await tempDir();
    const db = new Database(path.join(dataDir, "app.db"));
    db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('kept')");
    db.close();
    const env = { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: "warn" };

    const backup = await run("npx", ["deno", "task", "lifeboat", "--", "backup"], { env });
    const name = /lifeboat-\d{8}-\d{6}-manual\.sql/.exec(backup.stdout)?.[0];
    expect(name, backup.stdout + backup.stderr).toBeDefined();
    const list = await run("npx", ["deno", "task", "lifeboat", "--", "list", "--json"], { env });
    expect((JSON.parse(list.stdout) as { name: string }[]).map((b) => b.name)).toEqual([name]);
  }, 180_000);
});
