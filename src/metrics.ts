import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { BackupEngine } from "./backups/engine.ts";
import { BACKUP_TRIGGERS } from "./backups/types.ts";

export interface MetricsDeps {
  backups: Pick<BackupEngine, "events" | "listBackups">;
  version: string;
}

/** Lifeboat's metrics: what `/metrics` exposes. */
export interface Metrics {
  registry: Registry;
  /** Stops following the engine's events. */
  close(): void;
}

// Backups and imports run from well under a second to many minutes (≈80 s per GB here).
const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const TRIGGERS = [...BACKUP_TRIGGERS, "unknown"] as const;

/**
 * Builds the Prometheus registry, every name prefixed `lifeboat_`. The state of
 * the backup folder (newest backup per trigger, count, bytes) is read from the
 * folder at each scrape, so it is right after a restart too; durations and
 * failures count from this process's start. No HTTP here: the route serves
 * `registry.metrics()`.
 */
export function createMetrics(deps: MetricsDeps): Metrics {
  const registry = new Registry();

  new Gauge({
    name: "lifeboat_build_info",
    help: "Always 1; the labels say which Lifeboat runs on which runtime.",
    labelNames: ["version", "runtime"] as const,
    registers: [registry],
  }).set({ version: deps.version, runtime: runtimeName() }, 1);

  // One listing per scrape, shared by the gauges below (a scrape starts all their collect()s at once).
  let listing: Promise<Awaited<ReturnType<typeof deps.backups.listBackups>>> | null = null;
  const listOnce = () => {
    listing ??= deps.backups.listBackups().finally(() => (listing = null));
    return listing;
  };

  new Gauge({
    name: "lifeboat_last_backup_timestamp_seconds",
    help: "When the newest backup on disk of each trigger was created (Unix time); alert on its age.",
    labelNames: ["trigger"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [trigger, b] of newestPerTrigger(await listOnce())) this.set({ trigger }, Date.parse(b.createdAt) / 1000);
    },
  });
  new Gauge({
    name: "lifeboat_last_backup_size_bytes",
    help: "Size of the newest backup on disk of each trigger.",
    labelNames: ["trigger"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const [trigger, b] of newestPerTrigger(await listOnce())) this.set({ trigger }, b.size);
    },
  });
  new Gauge({
    name: "lifeboat_backups",
    help: "Backups on disk (in BACKUP_DIR), by trigger.",
    labelNames: ["trigger"] as const,
    registers: [registry],
    async collect() {
      const list = await listOnce();
      for (const trigger of TRIGGERS) this.set({ trigger }, list.filter((b) => b.trigger === trigger).length);
    },
  });
  new Gauge({
    name: "lifeboat_backups_bytes",
    help: "Bytes of all backups on disk (in BACKUP_DIR).",
    registers: [registry],
    async collect() {
      this.set((await listOnce()).reduce((sum, b) => sum + b.size, 0));
    },
  });

  const backupDuration = new Histogram({
    name: "lifeboat_backup_duration_seconds",
    help: "Time taken by backups (successful or not), by trigger.",
    labelNames: ["trigger", "outcome"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const backupFailures = new Counter({
    name: "lifeboat_backup_failures_total",
    help: "Backups that failed, by trigger.",
    labelNames: ["trigger"] as const,
    registers: [registry],
  });
  const importDuration = new Histogram({
    name: "lifeboat_import_duration_seconds",
    help: "Time taken by imports (restores), safety backup included, by outcome.",
    labelNames: ["outcome"] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const importFailures = new Counter({
    name: "lifeboat_import_failures_total",
    help: "Imports that failed and were rolled back (the database unchanged).",
    registers: [registry],
  });
  // Zero series from the start, so `increase()` and alerts see the first failure.
  for (const trigger of BACKUP_TRIGGERS) backupFailures.inc({ trigger }, 0);
  importFailures.inc(0);

  // Off-site copies (issue 11) add their gauges and counters here, on this registry.

  const off = deps.backups.events.on((e) => {
    switch (e.type) {
      case "backup.created":
        backupDuration.observe({ trigger: e.trigger, outcome: "success" }, e.durationMs / 1000);
        break;
      case "backup.failed":
        backupDuration.observe({ trigger: e.trigger, outcome: "failure" }, e.durationMs / 1000);
        backupFailures.inc({ trigger: e.trigger });
        break;
      case "import.completed":
        importDuration.observe({ outcome: "success" }, e.durationMs / 1000);
        break;
      case "import.failed":
        importDuration.observe({ outcome: "failure" }, e.durationMs / 1000);
        importFailures.inc();
        break;
    }
  });

  return { registry, close: off };
}

function newestPerTrigger<T extends { trigger: string; createdAt: string }>(list: T[]): Map<string, T> {
  const newest = new Map<string, T>();
  for (const b of list) {
    const seen = newest.get(b.trigger);
    if (!seen || Date.parse(b.createdAt) > Date.parse(seen.createdAt)) newest.set(b.trigger, b);
  }
  return newest;
}

/** `node v20.20.2` or `deno 2.9.6`. */
function runtimeName(): string {
  const deno = (globalThis as { Deno?: { version: { deno: string } } }).Deno;
  return deno ? `deno ${deno.version.deno}` : `node ${process.version}`;
}
