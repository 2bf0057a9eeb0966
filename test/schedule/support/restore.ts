import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { tempDir } from "../../support/temp.ts";

/**
 * Restores a backup file into a scratch database with the stock sqlite3 CLI
 * (independent of Lifeboat's importer) and runs one query on it; returns the
 * rows as `|`-separated lines.
 */
export async function queryBackup(file: string, sql: string): Promise<string[]> {
  const scratch = path.join(await tempDir(), "scratch.db");
  execFileSync("sqlite3", ["-bail", scratch], { input: fs.readFileSync(file) });
  const out = execFileSync("sqlite3", [scratch, sql], { encoding: "utf8" });
  return out.split("\n").filter((l) => l !== "");
}
