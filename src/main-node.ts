// Node entry: parse config, boot, listen. No logic lives here.
import { serve } from "@hono/node-server";
import { ConfigError } from "./config.ts";
import { bootLifeboat } from "./lifeboat.ts";

const SHUTDOWN_GRACE_MS = 30_000;

async function main(): Promise<void> {
  let lifeboat;
  try {
    lifeboat = await bootLifeboat({ env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`lifeboat: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`lifeboat: failed to start: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  }
  const { config, logger } = lifeboat;
  const server = serve({ fetch: lifeboat.app.fetch, port: config.port, hostname: config.host }, (info) => {
    const shown = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
    logger.info("listening", { url: `http://${shown}:${info.port}`, runtime: `node ${process.version}` });
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    const force = setTimeout(() => {
      logger.error("shutdown took too long; exiting", { graceMs: SHUTDOWN_GRACE_MS });
      process.exit(1);
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    // A running import is stopped and rolled back (its request answers 503) rather than awaited.
    lifeboat.backups.stopForShutdown();
    // Stop accepting, let in-flight requests finish, then finish pending work and close the database.
    server.close(() => {
      lifeboat.close().then(
        () => process.exit(0),
        (err) => {
          logger.error("shutdown failed", { error: err });
          process.exit(1);
        },
      );
    });
    // Idle keep-alive sockets would hold close() open.
    (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

void main();
