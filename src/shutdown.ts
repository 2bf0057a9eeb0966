import type { Lifeboat } from "./lifeboat.ts";

export interface GracefulShutdownOptions {
  lifeboat: Pick<Lifeboat, "config" | "logger" | "backups" | "close">;
  /** Stops accepting connections; resolves once the requests in flight have been answered. */
  stopServer(): Promise<void>;
  exit(code: number): void;
}

/**
 * Returns the signal handler both runtime entries install for SIGTERM and SIGINT.
 * It stops accepting connections, lets requests in flight finish (an import
 * request included), then finishes pending work and closes the database. An
 * import (or verification) still running when most of `SHUTDOWN_GRACE_SECONDS`
 * has passed is stopped and rolled back (its worker process is killed, its
 * request answers 503), so a runaway import never holds the process past the
 * grace. If all that still takes longer than the grace the process exits with 1.
 */
export function gracefulShutdown(options: GracefulShutdownOptions): (signal: string) => void {
  const { lifeboat, stopServer, exit } = options;
  const { logger, config } = lifeboat;
  let stopping = false;
  return (signal) => {
    if (stopping) {
      logger.info("already shutting down", { signal });
      return;
    }
    stopping = true;
    const graceMs = config.shutdownGraceMs;
    logger.info("shutting down", { signal, graceSeconds: graceMs / 1000 });
    // An import that cannot finish in time is rolled back while there is still time to answer its request.
    const rollback = setTimeout(() => {
      const running = lifeboat.backups.activity();
      if (running?.kind === "import") logger.warn("stopping the running import for the shutdown; it is rolled back", { signal });
      lifeboat.backups.stopForShutdown();
    }, rollbackAfterMs(graceMs));
    const force = setTimeout(() => {
      const running = lifeboat.backups.activity();
      logger.error("shutdown grace passed; exiting", {
        graceSeconds: graceMs / 1000,
        ...(running ? { running: running.kind } : {}),
        ...(running?.kind === "import"
          ? { effect: "the import is not committed: the database keeps its state from before the import" }
          : {}),
      });
      exit(1);
    }, graceMs);
    (async () => {
      await stopServer();
      await lifeboat.close();
    })().then(
      () => {
        clearTimeout(rollback);
        clearTimeout(force);
        exit(0);
      },
      (err: unknown) => {
        clearTimeout(rollback);
        clearTimeout(force);
        logger.error("shutdown failed", { error: err });
        exit(1);
      },
    );
  };
}

/** When a running import is given up: 3 s before the grace ends (half of it for a short grace), time to roll back and answer. */
function rollbackAfterMs(graceMs: number): number {
  return Math.max(graceMs / 2, graceMs - 3000);
}

type FetchHandler<A extends unknown[]> = (request: Request, ...rest: A) => Response | Promise<Response>;

/** A fetch handler that knows its requests in flight and can be drained. */
export interface DrainableFetch<A extends unknown[]> {
  fetch: FetchHandler<A>;
  /** From now on new requests get 503; resolves once the requests in flight have been answered. */
  drain(): Promise<void>;
}

/**
 * Counts the requests in flight through `fetch` so a stop can wait for them
 * before closing the server. Deno needs it: on Deno 2.9 `server.shutdown()`
 * makes the bodies of requests in flight unreadable (denoland/deno#36809), which
 * would turn an upload in progress into a 500. While draining, new requests are
 * answered 503 with `Connection: close` and `Retry-After`.
 */
export function drainableFetch<A extends unknown[]>(fetch: FetchHandler<A>): DrainableFetch<A> {
  let inFlight = 0;
  let draining = false;
  let idle: (() => void) | undefined;
  const settle = () => {
    inFlight--;
    if (draining && inFlight === 0) idle?.();
  };
  return {
    async fetch(request, ...rest) {
      if (draining) {
        return Response.json(
          { error: { code: "shutting_down", message: "Lifeboat is shutting down; try again in a moment." } },
          { status: 503, headers: { Connection: "close", "Retry-After": "5" } },
        );
      }
      inFlight++;
      try {
        return await fetch(request, ...rest);
      } finally {
        settle();
      }
    },
    drain() {
      draining = true;
      return inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve));
    },
  };
}
