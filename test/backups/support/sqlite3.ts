import { spawn } from "node:child_process";
import fs from "node:fs";

const SQLITE3 = "/usr/bin/sqlite3";

/** Runs the sqlite3 CLI on `dbFile` with `args`, feeding `stdinFile` when given. */
export function sqlite3(
  dbFile: string,
  args: string[] = [],
  stdinFile?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(SQLITE3, ["-batch", "-bail", dbFile, ...args], {
      stdio: [stdinFile ? "pipe" : "ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    if (stdinFile) fs.createReadStream(stdinFile).pipe(child.stdin!);
  });
}

/** `sqlite3 db .dump > out`. */
export function sqlite3Dump(dbFile: string, outFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = fs.createWriteStream(outFile);
    const child = spawn(SQLITE3, [dbFile, ".dump"], { stdio: ["ignore", "pipe", "inherit"] });
    child.stdout.pipe(out);
    child.on("error", reject);
    child.on("close", (code) => {
      out.close(() => (code === 0 ? resolve() : reject(new Error(`sqlite3 .dump exited ${code}`))));
    });
  });
}
