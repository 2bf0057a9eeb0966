import { Buffer } from "node:buffer";
import type { Client } from "@libsql/client";
import type { MigrationStatus } from "../db/migrate.ts";
import type { Logger } from "../logger.ts";
import type { BackupEngine } from "./engine.ts";

/**
 * True when the database holds something worth a backup: any table that is
 * not Lifeboat's, or a Lifeboat table other than `lifeboat_migrations` with
 * rows. A brand-new database (nothing, or only the migrations record) is not.
 */
async function databaseHoldsData(db: Client): Promise<boolean> {
  const rs = await db.execute(
    "SELECT CAST(name AS BLOB) FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
  );
  // Names are read as bytes: libsql aborts the process on text that is not valid UTF-8.
  const names = rs.rows.map((r) => Buffer.from(r[0] as ArrayBuffer).toString("utf8"));
  if (names.some((n) => !n.startsWith("lifeboat_"))) return true;
  for (const n of names) {
    if (n === "lifeboat_migrations") continue;
    const any = await db.execute(`SELECT 1 FROM "${n.replace(/"/g, '""')}" LIMIT 1`);
    if (any.rows.length > 0) return true;
  }
  return false;
}

/**
 * The `beforeApply` hook of `runMigrations`: takes a `pre-migration` backup
 * when the database holds data, so an upgrade can never lose it. A failing
 * backup stops the start-up with the database untouched.
 */
export function preMigrationBackup(deps: { engine: BackupEngine; db: Client; logger: Logger }) {
  return async (status: MigrationStatus): Promise<void> => {
    if (!(await databaseHoldsData(deps.db))) return;
    const pending = status.pending.map((m) => m.version);
    deps.logger.info("taking a pre-migration backup", { pending });
    const backup = await deps.engine.createBackup({ trigger: "pre-migration", actor: "lifeboat" });
    deps.logger.info("pre-migration backup taken", { name: backup.name, pending });
  };
}
