// Deno entry: parse config, boot, listen with Deno.serve. No logic lives here.
/// <reference lib="deno.ns" />
import process from "node:process";
import { ConfigError } from "./config.ts";
import { bootLifeboat } from "./lifeboat.ts";

let lifeboat;
try {
  lifeboat = await bootLifeboat({ env: process.env });
} catch (err) {
  console.error(err instanceof ConfigError ? `lifeboat: ${err.message}` : `lifeboat: failed to start: ${(err as Error).stack ?? err}`);
  Deno.exit(1);
}
const { config, logger } = lifeboat;
const abort = new AbortController();
const server = Deno.serve(
  {
    port: config.port,
    hostname: config.host,
    signal: abort.signal,
    onListen: ({ port }) => {
      const shown = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
      logger.info("listening", { url: `http://${shown}:${port}`, runtime: `deno ${Deno.version.deno}` });
    },
  },
  lifeboat.app.fetch,
);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info("shutting down", { signal });
  lifeboat.backups.stopForShutdown(); // a running import is rolled back, not awaited
  abort.abort(); // stop accepting; in-flight requests finish
  await server.finished;
  await lifeboat.close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGTERM", () => void stop("SIGTERM"));
Deno.addSignalListener("SIGINT", () => void stop("SIGINT"));
