import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { ADMIN } from "../support/auth.ts";
import { NODE_ENTRY, serveEntry, signInOverHttp } from "../support/entries.ts";
import { MULTIPART_TYPE, multipartBody } from "../support/multipart.ts";

/**
 * Gzip bombs, uploaded for import to a real server at the default statement
 * limit (32 MiB): each is refused with a 422 naming the line, the database and
 * the backup list stay as they were, and the server's resident memory never
 * passes 250 MB. The peak is the kernel's high-water mark (VmHWM), so the
 * assertion does not depend on when memory is sampled. The mark is reset
 * (`clear_refs`) before each upload: start-up and the admin's login (scrypt
 * alone takes 128 MiB for a moment) are not what is measured here.
 */

const MiB = 1024 * 1024;
const RSS_LIMIT = 250 * 1000 * 1000;

/**
 * A `.sql.gz` of about 510 KB that inflates to `head` plus 512 MiB of `fill`:
 * one gzip member for the head, then the same compressed MiB 512 times (gzip
 * allows concatenated members), so building it takes milliseconds.
 */
function bomb(head: string, fill: string): Uint8Array {
  const mib = zlib.gzipSync(Buffer.alloc(MiB, fill), { level: 9 });
  return Buffer.concat([zlib.gzipSync(head), ...Array.from({ length: 512 }, () => mib)]);
}

/** Starts a new high-water mark at the process's current resident size (Linux ≥ 4.0). */
function resetHighWaterMark(pid: number): void {
  fs.writeFileSync(`/proc/${pid}/clear_refs`, "5");
}

function highWaterMark(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(status)![1]) * 1024;
}

const CASES = [
  { name: "comment", head: "CREATE TABLE t(a);\n/*", fill: "a", message: "line 2: a statement is larger than the limit of 33554432 bytes" },
  { name: "string", head: "CREATE TABLE t(a);\nINSERT INTO t VALUES('", fill: "b", message: "line 2: a statement is larger than the limit of 33554432 bytes" },
  { name: "newlines", head: "CREATE TABLE t(a);\n", fill: "\n", message: `line ${64 * MiB - 19 + 2}: the file holds more than the limit of ${64 * MiB} bytes` },
];

/**
 * One server per bomb, started as `npm start` runs it (plain JavaScript, see
 * test/support/bundle.ts): each case measures what one bomb costs a server
 * that has just signed its admin in.
 */
describe("gzip bombs stay under 250 MB of server memory", () => {
  it.each(CASES)("refuses an unterminated $name bomb with a 422 naming the line", async (c) => {
    const { proc, base, dataDir } = await serveEntry(NODE_ENTRY, {
      LOG_LEVEL: "warn",
      ADMIN_USERNAME: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      // The newline flood is valid SQL; the inflated-size limit stops it (the statement limit stays at its default).
      MAX_IMPORT_BYTES: String(64 * MiB),
    });
    const auth = await signInOverHttp(base);
    const dbPath = path.join(dataDir, "app.db");
    const dumpBefore = execFileSync("sqlite3", [dbPath, ".dump"], { encoding: "utf8" });
    const list = async () => (await (await fetch(`${base}/api/backups`, { headers: auth })).json()) as unknown;
    const listBefore = await list();
    const pid = proc.child.pid!;
    const file = bomb(c.head, c.fill);
    expect(file.length).toBeLessThan(600_000);
    resetHighWaterMark(pid);
    const idle = highWaterMark(pid);
    const res = await fetch(`${base}/api/backups/import`, {
      method: "POST",
      headers: { ...auth, "Content-Type": MULTIPART_TYPE },
      body: multipartBody(file, { filename: `${c.name}.sql.gz`, type: "application/gzip" }),
    });
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(422);
    expect(body.error.code).toBe("invalid_backup");
    expect(body.error.message).toContain(c.message);
    const peak = highWaterMark(pid);
    console.log(`gzip bomb (${c.name}): server VmHWM ${Math.round(peak / 1e6)} MB (${Math.round(idle / 1e6)} MB before the upload)`);
    expect(peak, `peak RSS ${peak} bytes`).toBeLessThan(RSS_LIMIT);
    expect(execFileSync("sqlite3", [dbPath, ".dump"], { encoding: "utf8" })).toBe(dumpBefore);
    expect(await list()).toEqual(listBefore);
  }, 120_000);
});
