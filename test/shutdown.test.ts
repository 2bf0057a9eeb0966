import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import Database from "libsql";
import { describe, expect, it } from "vitest";
import { DENO_ENTRY, NODE_ENTRY, serveEntry, signInOverHttp, type Entry, type ServedEntry } from "./support/entries.ts";
import { MULTIPART_TYPE, multipartBody } from "./support/multipart.ts";
import { freePort, start, waitForHttp, type Started } from "./support/process.ts";
import { tempDir } from "./support/temp.ts";
import { ADMIN } from "./support/auth.ts";


const runtimes = [
  { ...NODE_ENTRY, refusesNewConnections: true },
  // Deno drains its handlers before closing the listener (denoland/deno#36809): new requests get 503.
  { ...DENO_ENTRY, refusesNewConnections: false },
];

function logLines(proc: Started): { msg: string; [k: string]: unknown }[] {
  return proc
    .output()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { msg: string });
}

async function until(what: string, check: () => boolean, proc: Started, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the server is streaming an upload into the backup folder (its request is in flight). */
function uploadStarted(dataDir: string, proc: Started): Promise<void> {
  const dir = path.join(dataDir, "backups");
  return until("the upload to reach the server", () => fs.readdirSync(dir).some((f) => f.startsWith(".lifeboat-tmp.")), proc);
}

/** Starts a POST whose body is sent in two halves; `finish()` sends the rest and resolves with the answer. */
function slowPost(url: string, headers: Record<string, string>, body: Uint8Array) {
  const half = Math.floor(body.length / 2);
  let answered: (r: { status: number; body: string }) => void;
  let failed: (e: Error) => void;
  const response = new Promise<{ status: number; body: string }>((res, rej) => ((answered = res), (failed = rej)));
  const req = http.request(url, { method: "POST", headers: { ...headers, "Content-Length": String(body.length) } }, (res) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (d) => (text += d));
    res.on("end", () => answered({ status: res.statusCode ?? 0, body: text }));
  });
  req.on("error", (e) => failed(e));
  response.catch(() => {}); // a test that never finishes the body does not await the answer
  req.write(body.subarray(0, half));
  return {
    finish() {
      req.end(body.subarray(half));
      return response;
    },
  };
}

/** Starts the server through `entry` with the first admin, no schedule and the given grace. */
function serve(entry: Entry, graceSeconds: number): Promise<ServedEntry> {
  return serveEntry(entry, {
    LOG_LEVEL: "info",
    ADMIN_USERNAME: ADMIN.username,
    ADMIN_PASSWORD: ADMIN.password,
    BACKUP_SCHEDULE: "off",
    SHUTDOWN_GRACE_SECONDS: String(graceSeconds),
  });
}

describe.each(runtimes)("SIGTERM to the $name entry", ({ refusesNewConnections, ...entry }) => {
  it("lets an import request in flight finish and commit, turns new requests away, then exits 0", async () => {
    const { dataDir, base, proc } = await serve(entry, 60);
    const auth = await signInOverHttp(base);
    const created = await fetch(`${base}/api/backups`, { method: "POST", headers: auth });
    expect(created.status).toBe(201);
    const { name } = (await created.json()) as { name: string };
    const dump = new Uint8Array(await (await fetch(`${base}/api/backups/${name}`, { headers: auth })).arrayBuffer());
    // A user added after that backup: the import must remove it again.
    const ann = await fetch(`${base}/api/users`, {
      method: "POST",
      headers: { ...auth, "Content-Type": "application/json" },
      body: JSON.stringify({ username: "ann", password: "ann's long password", role: "user" }),
    });
    expect(ann.status).toBe(201);

    const upload = slowPost(`${base}/api/backups/import`, { ...auth, "Content-Type": MULTIPART_TYPE }, multipartBody(dump));
    // The request is in flight (half its body streamed to disk) when the signal arrives.
    await uploadStarted(dataDir, proc);
    proc.child.kill("SIGTERM");
    await until("the shutdown to begin", () => logLines(proc).some((l) => l.msg === "shutting down"), proc);
    if (refusesNewConnections) {
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    } else {
      const late = await fetch(`${base}/healthz`);
      expect(late.status).toBe(503);
      expect(((await late.json()) as { error: { code: string } }).error.code).toBe("shutting_down");
    }

    const answer = await upload.finish();
    expect(answer.status, proc.output()).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ safetyBackup: expect.stringMatching(/-pre-import(-\d+)?\.sql$/) });
    expect(await proc.exited).toBe(0);
    expect(logLines(proc).map((l) => l.msg)).toEqual(expect.arrayContaining(["shutting down", "lifeboat stopped"]));
    expect(logLines(proc).map((l) => l.msg)).not.toContain("shutdown grace passed; exiting");

    const db = new Database(path.join(dataDir, "app.db"), { readonly: true });
    const users = db.prepare("SELECT username FROM lifeboat_users ORDER BY username").all() as { username: string }[];
    db.close();
    expect(users.map((u) => u.username)).toEqual(["admin"]);
  }, 180_000);

  it("exits 1 once SHUTDOWN_GRACE_SECONDS pass with a request still in flight", async () => {
    const { dataDir, base, proc } = await serve(entry, 1);
    const auth = await signInOverHttp(base);
    // Never finished: the client stalls, the grace runs out.
    slowPost(`${base}/api/backups/upload`, { ...auth, "Content-Type": MULTIPART_TYPE }, multipartBody(new Uint8Array(512 * 1024).fill(0x2d)));
    await uploadStarted(dataDir, proc);
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(1);
    expect(logLines(proc).find((l) => l.msg === "shutdown grace passed; exiting")).toMatchObject({ graceSeconds: 1 });
  }, 180_000);
});

describe("SIGTERM to the PID of `npx deno task start` (what a supervisor signals)", () => {
  it("stops the server gracefully and leaves no process behind", async () => {
    const dataDir = await tempDir();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const proc = start("npx", ["deno", "task", "start"], { PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dataDir, LOG_LEVEL: "info", BACKUP_SCHEDULE: "off" });
    await waitForHttp(`${base}/healthz`, 60_000, proc);
    proc.child.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    expect(logLines(proc).map((l) => l.msg)).toEqual(expect.arrayContaining(["shutting down", "lifeboat stopped"]));
    // The server itself is gone, not orphaned behind the wrapper.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  }, 180_000);
});
