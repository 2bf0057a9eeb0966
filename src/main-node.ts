// Node entry: parse config, boot, listen. No logic lives here.
import { serve } from "@hono/node-server";
import { ConfigError } from "./config.ts";
import { redactCredentials } from "./redact.ts";
import { bootLifeboat } from "./lifeboat.ts";
import { gracefulShutdown } from "./shutdown.ts";

async function main(): Promise<void> {
  let lifeboat;
  try {
    lifeboat = await bootLifeboat({ env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`lifeboat: ${redactCredentials(err.message)}\n`);
      process.exit(1);
    }
    // The driver's errors quote DATABASE_URL whole, credentials included.
    process.stderr.write(`lifeboat: failed to start: ${redactCredentials(String((err as Error).stack ?? err))}\n`);
    process.exit(1);
  }
  const { config, logger } = lifeboat;
  const server = serve({ fetch: lifeboat.app.fetch, port: config.port, hostname: config.host }, (info) => {
    const shown = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
    logger.info("listening", { url: `http://${shown}:${info.port}`, runtime: `node ${process.version}` });
  });

  const stop = gracefulShutdown({
    lifeboat,
    stopServer: () =>
      new Promise<void>((resolve) => {
        const closeIdle = () => (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
        // A keep-alive socket would hold close() open, also one whose request is answered after this
        // point (Node closes only the sockets idle when close() is called): close them as they go idle.
        const sweep = setInterval(closeIdle, 100);
        server.close(() => {
          clearInterval(sweep);
          resolve();
        });
        closeIdle();
      }),
    exit: (code) => process.exit(code),
  });
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

void main();
