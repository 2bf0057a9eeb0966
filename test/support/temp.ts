import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEachTest } from "./cleanup.ts";

const made: string[] = [];

/** A fresh temp folder, removed after the current test. */
export async function tempDir(prefix = "lifeboat-test-"): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterEachTest(async () => {
  while (made.length) {
    const dir = made.pop()!;
    await fs.chmod(dir, 0o700).catch(() => {});
    await fs.rm(dir, { recursive: true, force: true });
  }
}, { last: true });
