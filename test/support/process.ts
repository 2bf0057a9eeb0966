import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import { afterEachTest } from "./cleanup.ts";

const running: ChildProcess[] = [];

afterEachTest(() => {
  while (running.length) {
    const child = running.pop()!;
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export interface Started {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
}

/** Starts a command with extra environment, collecting stdout+stderr. Killed after the test. */
export function start(cmd: string, args: string[], env: Record<string, string>): Started {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  running.push(child);
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return { child, output: () => out, exited };
}

/** Polls `url` until it answers (any status) or the timeout passes. */
export async function waitForHttp(url: string, timeoutMs = 30_000, started?: Started): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fetch(url);
    } catch {
      if (started && started.child.exitCode !== null) {
        throw new Error(`process exited (${started.child.exitCode}) before answering:\n${started.output()}`);
      }
      if (Date.now() > deadline) throw new Error(`no answer from ${url}:\n${started?.output() ?? ""}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}
