import fs from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterEachTest } from "./cleanup.ts";
import type { TestLifeboat } from "./app.ts";

/** Debian's chromium; playwright-core downloads no browser of its own. */
const CHROMIUM = "/usr/bin/chromium";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where screenshots go (git-ignored; CI can keep them as artifacts). */
const RESULTS_DIR = path.resolve("test-results");

const cleanups: (() => Promise<unknown>)[] = [];

afterEachTest(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => {});
});

export interface ServedLifeboat {
  url: string;
  server: ServerType;
  /** Stops serving (open connections are cut, as when the process dies); the port stays ours to restart on. */
  stop(): Promise<void>;
  /** Serves again on the same port, as a restarted server would. */
  restart(): Promise<void>;
}

function listen(lb: TestLifeboat, port: number): Promise<ServerType> {
  return new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: lb.app.fetch, port, hostname: "127.0.0.1" }, () => resolve(s));
  });
}

function close(server: ServerType): Promise<void> {
  return new Promise<void>((resolve) => {
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    server.close(() => resolve());
  });
}

/**
 * Serves a test Lifeboat on a free 127.0.0.1 port in this process with
 * `@hono/node-server`, as `npm start` would. Stopped after the test.
 */
export async function serveLifeboat(lb: TestLifeboat): Promise<ServedLifeboat> {
  let server: ServerType | null = await listen(lb, 0);
  const port = (server.address() as AddressInfo).port;
  const served: ServedLifeboat = {
    url: `http://127.0.0.1:${port}`,
    server,
    async stop() {
      if (!server) return;
      const s = server;
      server = null;
      await close(s);
    },
    async restart() {
      if (server) return;
      server = await listen(lb, port);
      served.server = server;
    },
  };
  cleanups.push(() => served.stop());
  return served;
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen so far (a CSP violation shows up here). */
  errors: string[];
}

/** Signs in through the form and waits for the page the sign-in leads to. */
export async function signIn(page: Page, url: string, credentials: { username: string; password: string }, landing = "/admin/backups"): Promise<void> {
  await page.goto(`${url}/login?next=${encodeURIComponent(landing)}`);
  await page.getByLabel("Username").fill(credentials.username);
  await page.getByLabel("Password").fill(credentials.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${url}${landing}`);
}

let browser: Promise<Browser> | undefined;

/**
 * Headless chromium, started once per test process (vitest keeps its worker
 * processes for all their files) and shared: each test gets a context of its
 * own, which has its own cookies, storage and cache, as a fresh profile would.
 * The browser ends with the process (Playwright drives it through a pipe).
 */
async function sharedBrowser(): Promise<Browser> {
  const current = await browser;
  if (current?.isConnected()) return current;
  browser = chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
  return browser;
}

/** Opens one page in a new browser context (fresh cookies and storage). Closed after the test. */
export async function openBrowser(options: { bypassCSP?: boolean } = {}): Promise<TestBrowser> {
  const context = await (await sharedBrowser()).newContext({
    viewport: { width: 1200, height: 900 },
    // Only for injecting axe-core: the pages themselves are tested under their strict CSP.
    ...(options.bypassCSP ? { bypassCSP: true } : {}),
  });
  cleanups.push(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") errors.push(msg.text());
  });
  page.on("pageerror", (err) => errors.push(err.message));
  return { context, page, errors };
}

/** Saves a full-page screenshot as test-results/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await fs.mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${name}.png`);
  // A full page of the API reference at 375 px is tall: under load, encoding it takes longer than Playwright's default 30 s.
  await page.screenshot({ path: file, fullPage: true, timeout: 180_000 });
  return file;
}
