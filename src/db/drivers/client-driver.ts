import type { Client, InValue, Row, Transaction } from "@libsql/client";
import { writeDump, type DumpSummary, type SqlArg } from "../../dump/writer.ts";
import { createFileSink } from "../../dump/file-sink.ts";
import type { ApplyConnection } from "./connection.ts";

/**
 * The `@libsql/client` side of the engine, for a remote database (libsql://,
 * http(s)://, ws(s)://): the dump is read in keyset pages (one round trip per
 * page) inside one read transaction, and an import runs in one interactive
 * write transaction. Network waits are asynchronous, so this runs on the main
 * thread; local files go through the backup worker instead.
 */

function toArrays(rows: Row[]): unknown[][] {
  return rows.map((r) => Array.from({ length: r.length }, (_, i) => r[i]));
}

function args(values: readonly SqlArg[] | undefined): InValue[] {
  return (values ?? []).map((v) => v as InValue);
}

export interface ClientExportOptions {
  tempPath: string;
  gzip: boolean;
  /** age public keys to encrypt for (after gzip); empty or absent: plain. */
  ageRecipients?: readonly string[];
  createdAt: Date;
  trigger: string;
  lifeboatVersion: string;
  statementBytes?: number;
}

/** Writes a dump of the database behind `db` to `tempPath` (created, synced); the caller hashes it (`hashAsWritten`). */
export async function exportViaClient(db: Client, options: ClientExportOptions): Promise<DumpSummary & { size: number }> {
  const sink = await createFileSink(options.tempPath, { gzip: options.gzip, ageRecipients: options.ageRecipients ?? [] });
  let tx: Transaction | undefined;
  try {
    tx = await db.transaction("read");
    const t = tx;
    const summary = await writeDump(
      { query: async (sql, values) => toArrays((await t.execute({ sql, args: args(values) })).rows) },
      sink,
      {
        createdAt: options.createdAt,
        trigger: options.trigger,
        lifeboatVersion: options.lifeboatVersion,
        ...(options.statementBytes ? { statementBytes: options.statementBytes } : {}),
      },
    );
    await tx.commit();
    return { ...summary, ...(await sink.finish()) };
  } catch (err) {
    await sink.abort();
    throw err;
  } finally {
    tx?.close();
  }
}

/** An open write transaction on `db`, as the import's connection. */
export async function openClientImport(db: Client): Promise<{ conn: ApplyConnection; tx: Transaction }> {
  const tx = await db.transaction("write");
  try {
    await tx.execute("PRAGMA trusted_schema=OFF");
  } catch (err) {
    tx.close();
    throw err;
  }
  const conn: ApplyConnection = {
    exec: async (sql) => {
      await tx.executeMultiple(sql);
    },
    query: async (sql, values) => toArrays((await tx.execute({ sql, args: args(values) })).rows),
  };
  return { conn, tx };
}
