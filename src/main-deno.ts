// Deno entry: parse config, boot, listen with Deno.serve. No logic lives here.
/// <reference lib="deno.ns" />
import process from "node:process";
import { ConfigError } from "./config.ts";
import { redactCredentials } from "./redact.ts";
import { bootLifeboat } from "./lifeboat.ts";
import { drainableFetch, gracefulShutdown } from "./shutdown.ts";

let lifeboat;
try {
  lifeboat = await bootLifeboat({ env: process.env });
} catch (err) {
  // The driver's errors quote DATABASE_URL whole, credentials included.
  console.error(
    redactCredentials(err instanceof ConfigError ? `lifeboat: ${err.message}` : `lifeboat: failed to start: ${(err as Error).stack ?? err}`),
  );
  Deno.exit(1);
}
const { config, logger } = lifeboat;
const handler = drainableFetch(lifeboat.app.fetch);
const server = Deno.serve(
  {
    port: config.port,
    hostname: config.host,
    onListen: ({ port }) => {
      const shown = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
      logger.info("listening", { url: `http://${shown}:${port}`, runtime: `deno ${Deno.version.deno}` });
    },
  },
  handler.fetch,
);

// shutdown(), unlike an abort signal, lets responses in flight finish; the drain first
// waits for the handlers, which may still be reading a request body.
const stop = gracefulShutdown({
  lifeboat,
  stopServer: async () => {
    await handler.drain();
    await server.shutdown();
  },
  exit: (code) => Deno.exit(code),
});
Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
