import { randomBytes } from "node:crypto";
import os from "node:os";
import type { Client } from "@libsql/client";
import type { OffsiteStatus } from "../backups/offsite.ts";
import type { BackupEngineEvent, BackupMeta, CreateBackupOptions, EngineActivity, ListedBackup } from "../backups/types.ts";
import { stopwatch, systemTimers, type Clock, type TimerHandle, type Timers } from "../clock.ts";
import type { Config } from "../config.ts";
import type { WriteGate } from "../db/write-gate.ts";
import { BusyError, ConflictError } from "../errors.ts";
import type { EventBus } from "../events.ts";
import type { ReadinessCheck } from "../health.ts";
import type { Logger } from "../logger.ts";
import type { UserChangeEvent } from "../users/events.ts";
import { createChangeCoalescer, type ChangeBackupOptions } from "./change-backups.ts";
import {
  claimPeriod,
  DEFAULT_LEASE_MS,
  finishPeriod,
  forgetPeriodsBefore,
  latestFinishedRun,
  readPeriod,
  readScheduleSince,
  recordForcedRun,
  releaseClaim,
  renewClaim,
  scheduleSince,
  type RunSource,
} from "./lease.ts";
import { createSchedule, DAILY_EXPRESSION, type Schedule } from "./periods.ts";
import { createPruner } from "./prune.ts";
import { createRunLog, errorMessage, mergeLastRuns, type RunOutcome, type ScheduleStatus } from "./status.ts";
import { createWebhookNotifier, type WebhookNotifier } from "./webhook.ts";

/** The engine verbs the scheduler calls (src/backups/engine.ts provides them). */
interface SchedulerEngine {
  createBackup(options: CreateBackupOptions): Promise<BackupMeta>;
  listBackups(): Promise<ListedBackup[]>;
  deleteBackup(name: string, options: { from: "here" | "offsite" }): Promise<unknown>;
  /** What runs now, or null. */
  activity(): EngineActivity | null;
  /** The off-site part of the status (absent or null without off-site storage). */
  offsiteStatus?(): OffsiteStatus | null;
}

export interface SchedulerDeps {
  config: Pick<Config, "backup" | "offsite">;
  db: Client;
  writeGate: WriteGate;
  logger: Logger;
  clock: Clock;
  timers: Timers;
  engine: SchedulerEngine;
  /**
   * The engine's announcements: every finished backup (any trigger, manual
   * ones included) feeds retention and the status.
   */
  engineEvents: { on(listener: (event: BackupEngineEvent) => void): () => void };
  /** User-change events (accounts); each burst leads to one `change` backup. */
  userChanges?: EventBus<UserChangeEvent>;
  /** Identifies this process in claims, logs and webhooks; generated when absent. */
  instanceId?: string;
}

export interface SchedulerOptions {
  change?: ChangeBackupOptions;
  /** How long a period claim lasts without renewal (default 30 min); renewed while the backup runs. */
  leaseMs?: number;
  /** While another backup or import runs, try again this often (default 1 s, real time). */
  busyRetryMs?: number;
  /** Timers for those retries (default: the system's; see pauseWhileBusy). */
  retryTimers?: Timers;
  /** Give up waiting for a busy engine after this long (default 30 min). */
  maxBusyWaitMs?: number;
  /**
   * During stop(), a pending change backup waits this long at most for a busy
   * engine (default 15 s, inside the 30 s shutdown grace of the entries); then
   * it is reported as failed (log, webhook) instead of holding the shutdown.
   */
  shutdownBusyWaitMs?: number;
  /**
   * The timer never sleeps longer than this (default 10 min) before looking at
   * the clock again: setTimeout caps at 2^31-1 ms and does not count time the
   * machine was suspended, so a long sleep could fire late.
   */
  maxSleepMs?: number;
  /** /readyz turns degraded this long after a slot with no scheduled backup (default 2 h). */
  graceMs?: number;
  /** Webhook back-off tuning (defaults: 6 attempts, 2 s doubling). */
  webhook?: { attempts?: number; baseDelayMs?: number; timeoutMs?: number };
}

/** The answer of the external trigger: the period's backup and whether this call made it. */
interface TriggerResult {
  backup: BackupMeta;
  created: boolean;
  periodKey: string;
}

export interface Scheduler {
  readonly instanceId: string;
  /**
   * Starts automatic backups: subscribes to user changes and finished backups,
   * arms the timer (unless BACKUP_SCHEDULE=off) and, in the background, takes
   * a missed scheduled backup (catch-up). Called once by bootLifeboat.
   */
  start(): Promise<void>;
  /**
   * Graceful stop: no new timer, a pending change backup is written, running
   * work ends, undelivered webhooks get one last try. Idempotent.
   */
  stop(): Promise<void>;
  /**
   * The external trigger (`POST /api/cron/backup`): takes the current period's
   * scheduled backup unless some instance already has (then returns that one
   * with `created: false`). `force` makes a new one anyway. Throws `BusyError`
   * when another backup or import runs, or another instance is taking it now.
   */
  triggerScheduled(options: { actor: string; force?: boolean }): Promise<TriggerResult>;
  /** Next run, last run of each kind, what runs now; for GET /api/backups/status and the page. */
  scheduleStatus(): Promise<ScheduleStatus>;
  /** /readyz: degraded when the last scheduled backup failed or is overdue (only with the schedule on). */
  readinessCheck(): ReadinessCheck;
  /** /readyz: degraded when the newest scheduled backup is still not off-site once its period is over (only with BACKUP_S3_BUCKET). */
  offsiteReadinessCheck(): ReadinessCheck;
  /** Resolves once catch-up, timer runs, change backups, pruning and webhooks in flight have settled (tests). */
  idle(): Promise<void>;
}

/** A process id that stays unique with several instances on one host or in containers. */
function newInstanceId(): string {
  return `${os.hostname()}/${process.pid}/${randomBytes(3).toString("hex")}`;
}

/**
 * Builds the scheduler: the in-process timer (croner computes the slots in
 * BACKUP_TIMEZONE), the once-per-period claim shared through the database, the
 * coalesced change backups, retention after every backup, the status and the
 * failure alerts. Starts nothing until `start()`.
 */
export function createScheduler(deps: SchedulerDeps, options: SchedulerOptions = {}): Scheduler {
  const { config, db, writeGate, clock, timers, engine } = deps;
  const logger = deps.logger.child({ component: "scheduler" });
  const instanceId = deps.instanceId ?? newInstanceId();
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const busyRetryMs = options.busyRetryMs ?? 1000;
  const retryTimers = options.retryTimers ?? systemTimers;
  const maxBusyWaitMs = options.maxBusyWaitMs ?? 30 * 60_000;
  const shutdownBusyWaitMs = options.shutdownBusyWaitMs ?? 15_000;
  const maxSleepMs = options.maxSleepMs ?? 10 * 60_000;
  const graceMs = options.graceMs ?? 2 * 60 * 60_000;
  const timezone = config.backup.timezone;
  const timerSchedule: Schedule | null = config.backup.schedule ? createSchedule(config.backup.schedule, timezone) : null;
  // With the timer off, the external trigger still needs periods: one per day.
  const periods: Schedule = timerSchedule ?? createSchedule(DAILY_EXPRESSION, timezone);

  const runLog = createRunLog();
  // Retention per location: the folder keeps BACKUP_KEEP_*, the bucket BACKUP_S3_KEEP_*. A backup
  // not yet off-site is never pruned here, so a small disk cannot lose the only copy.
  const offsiteOn = config.offsite !== null;
  const pruner = createPruner({
    listBackups: async () =>
      (await engine.listBackups()).filter((b) => b.location !== "offsite" && !(offsiteOn && b.location === "here")),
    deleteBackup: async (name) => void (await engine.deleteBackup(name, { from: "here" })),
    policy: {
      keepScheduled: config.backup.keepScheduled,
      keepChange: config.backup.keepChange,
      keepOtherDays: config.backup.keepOtherDays,
    },
    clock,
    logger,
  });
  const offsitePruner = config.offsite
    ? createPruner({
        listBackups: async () => (await engine.listBackups()).filter((b) => b.location !== "here"),
        deleteBackup: async (name) => void (await engine.deleteBackup(name, { from: "offsite" })),
        policy: {
          keepScheduled: config.offsite.keepScheduled,
          keepChange: config.offsite.keepChange,
          keepOtherDays: config.offsite.keepOtherDays,
        },
        clock,
        logger: logger.child({ location: "offsite" }),
      })
    : null;
  const webhook: WebhookNotifier | null = config.backup.webhookUrl
    ? createWebhookNotifier({ url: config.backup.webhookUrl, logger, timers, ...options.webhook })
    : null;

  let started = false;
  let stopped = false;
  let stopping: Promise<void> | undefined;
  /** Real-time limit (a `performance.now()` value) for a change backup waiting on a busy engine during stop(). */
  let stopDeadline: number | null = null;
  let timer: TimerHandle | null = null;
  let nextSlot: Date | null = null;
  const unsubscribe: (() => void)[] = [];
  /** Work in flight, awaited by stop() and idle(). */
  const inFlight = new Set<Promise<unknown>>();
  /** Scheduled periods this process is taking now, by period key. */
  const takingPeriod = new Map<string, Promise<BackupMeta>>();
  /** Pending busy-waits, woken by stop(). */
  const sleepers = new Set<{ handle: TimerHandle; wake: () => void }>();

  function track<T>(p: Promise<T>): Promise<T> {
    inFlight.add(p);
    void p.then(
      () => inFlight.delete(p),
      () => inFlight.delete(p),
    );
    return p;
  }

  /**
   * Waits `busyRetryMs` of real time (stop() wakes every waiter). Real, not the
   * injected timers: the job being waited for runs in real time even when a
   * test moves the schedule's clock, and it may belong to another process
   * sharing the backup folder, so no event of ours announces its end.
   */
  function pauseWhileBusy(): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        handle: null as TimerHandle,
        wake: () => {
          retryTimers.clearTimeout(entry.handle);
          sleepers.delete(entry);
          resolve();
        },
      };
      entry.handle = retryTimers.setTimeout(entry.wake, busyRetryMs);
      sleepers.add(entry);
    });
  }

  /** Runs an engine verb, retrying while another backup or import holds the engine or the folder (BusyError). */
  async function whenFree<T>(fn: () => Promise<T>, what: string, giveUp: () => boolean): Promise<T> {
    const waited = stopwatch();
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof BusyError) || giveUp() || waited() >= maxBusyWaitMs) throw err;
        if (attempt === 1) logger.info(`${what} waits for the running backup or import to finish`, { detail: err.message });
        await pauseWhileBusy();
      }
    }
  }

  /** Logs at error level, records for the status and tells the webhook. Never throws. */
  function reportFailure(trigger: "scheduled" | "change", err: unknown, startedAt: Date, periodKey: string | null): void {
    const at = clock.now();
    const message = errorMessage(err);
    logger.error("automatic backup failed", { trigger, periodKey, instance: instanceId, error: message, webhook: webhook !== null });
    runLog.record({ trigger, startedAt, finishedAt: at, error: err, periodKey });
    webhook?.notify({ event: "backup.failed", trigger, error: message, at: at.toISOString(), instance: instanceId, periodKey });
  }

  /**
   * Takes the backup of a period this instance has claimed, keeping the claim
   * alive meanwhile, and records the outcome in the database. On a busy engine
   * it waits (timer, catch-up) or releases the claim and throws (external trigger).
   */
  function takeClaimed(periodKey: string, actor: string, waitIfBusy: boolean): Promise<BackupMeta> {
    const run = (async () => {
      const startedAt = clock.now();
      let heartbeat: TimerHandle | null = null;
      let finished = false;
      const renew = () => {
        heartbeat = timers.setTimeout(async () => {
          if (finished) return;
          const kept = await writeGate
            .run(() => renewClaim(db, periodKey, instanceId, clock.now(), leaseMs))
            .catch((err: unknown) => {
              logger.warn("could not renew the period claim", { periodKey, error: errorMessage(err) });
              return true;
            });
          if (finished) return;
          if (kept) renew();
          else logger.warn("period claim lost while the backup ran", { periodKey });
        }, Math.max(1000, Math.floor(leaseMs / 3)));
      };
      renew();
      try {
        const create = () => engine.createBackup({ trigger: "scheduled", actor, periodKey });
        const backup = waitIfBusy ? await whenFree(create, "scheduled backup", () => stopped) : await create();
        finished = true;
        timers.clearTimeout(heartbeat);
        const now = clock.now();
        const recorded = await writeGate.run(async () => {
          const ok = await finishPeriod(db, { periodKey, holder: instanceId, now, backupName: backup.name });
          await forgetPeriodsBefore(db, new Date(now.getTime() - 400 * 24 * 60 * 60_000));
          return ok;
        });
        if (!recorded) logger.warn("period claim had expired and was taken over; this backup stays as well", { periodKey, name: backup.name });
        logger.info("scheduled backup taken", { periodKey, name: backup.name, size: backup.size });
        return backup;
      } catch (err) {
        finished = true;
        timers.clearTimeout(heartbeat);
        if (err instanceof BusyError && (!waitIfBusy || stopped)) {
          // Not a failure of the backup: give the period back so the next attempt can take it.
          await writeGate
            .run(() => releaseClaim(db, periodKey, instanceId))
            .catch((e: unknown) =>
              logger.warn("could not give the period claim back; it expires by itself", { periodKey, error: errorMessage(e) }),
            );
          if (stopped) logger.warn("scheduled backup not taken: shutting down while another backup or import ran", { periodKey });
          throw err;
        }
        await writeGate
          .run(() => finishPeriod(db, { periodKey, holder: instanceId, now: clock.now(), error: errorMessage(err) }))
          .catch((e: unknown) => logger.warn("could not record the failed run", { periodKey, error: errorMessage(e) }));
        reportFailure("scheduled", err, startedAt, periodKey);
        throw err;
      }
    })();
    takingPeriod.set(periodKey, run);
    void run.then(
      () => takingPeriod.delete(periodKey),
      () => takingPeriod.delete(periodKey),
    );
    return track(run);
  }

  /** Claims the slot's period and takes its backup, unless another run (any instance) has it. */
  async function runSlot(slot: Date, source: Exclude<RunSource, "cron" | "forced">): Promise<void> {
    const periodKey = periods.periodKey(slot);
    try {
      const claimed = await writeGate.run(() =>
        claimPeriod(db, { periodKey, slotAt: slot, holder: instanceId, source, now: clock.now(), leaseMs }),
      );
      if (!claimed) {
        const run = await readPeriod(db, periodKey);
        logger.info("scheduled backup already taken for this period", {
          periodKey,
          status: run?.status,
          by: run?.holder === instanceId ? "this instance" : run?.holder,
        });
        return;
      }
    } catch (err) {
      reportFailure("scheduled", err, clock.now(), periodKey);
      return;
    }
    await takeClaimed(periodKey, "scheduler", true).catch(() => {
      // reported inside takeClaimed
    });
  }

  /**
   * Sleeps until `slot` in chunks (see maxSleepMs), then runs it and arms the
   * next one. Returns the run's promise so a test's manual timers can let it
   * finish before moving time on (the system timers ignore it).
   */
  function waitFor(slot: Date): Promise<void> | undefined {
    if (stopped) return undefined;
    nextSlot = slot;
    const delay = slot.getTime() - clock.now().getTime();
    if (delay > 0) {
      timer = timers.setTimeout(() => waitFor(slot), Math.min(delay, maxSleepMs));
      return undefined;
    }
    timer = null;
    return track(
      runSlot(slot, "timer")
        .then(() => arm())
        .catch((err: unknown) => logger.error("the backup timer could not be re-armed", { error: err })),
    );
  }

  function arm(): void {
    nextSlot = null;
    if (stopped || !timerSchedule) return;
    const next = timerSchedule.nextSlot(clock.now());
    if (!next) {
      nextSlot = null;
      logger.warn("the backup schedule has no further runs", { schedule: timerSchedule.expression });
      return;
    }
    void waitFor(next);
  }

  async function catchUp(since: Date): Promise<void> {
    if (!timerSchedule) return;
    const slot = timerSchedule.latestSlot(clock.now());
    if (!slot || slot.getTime() < since.getTime()) return;
    const periodKey = periods.periodKey(slot);
    const run = await readPeriod(db, periodKey);
    if (run?.status === "done") return;
    if (run?.status === "running" && Date.parse(run.leaseExpiresAt) > clock.now().getTime()) return;
    logger.info("taking a missed scheduled backup (catch-up)", { periodKey, slotAt: slot.toISOString() });
    await runSlot(slot, "catch-up");
  }

  async function onEngineEvent(event: BackupEngineEvent): Promise<void> {
    if (event.type === "backup.offsite_failed") {
      // Once per backup: later attempts are logged and shown in the status, not re-sent.
      if (event.attempts === 1) {
        webhook?.notify({
          event: "backup.offsite_failed",
          name: event.name,
          trigger: event.trigger,
          error: event.error,
          at: event.at,
          instance: instanceId,
          nextAttemptAt: event.nextAttemptAt,
        });
      }
      return;
    }
    if (event.type === "backup.offsite_copied") {
      if (!stopped) {
        await offsitePruner?.prune();
        await pruner.prune();
      }
      return;
    }
    if (event.type !== "backup.created" && event.type !== "backup.failed") return;
    const outcome: RunOutcome = {
      trigger: event.trigger,
      startedAt: new Date(event.startedAt),
      finishedAt: new Date(event.finishedAt),
      periodKey: event.periodKey,
      ...(event.ok ? { backup: event.backup } : { error: new Error(event.error.message) }),
    };
    runLog.record(outcome);
    if (event.ok && !stopped) await pruner.prune();
  }

  const coalescer = createChangeCoalescer(
    {
      clock,
      timers,
      logger,
      takeBackup: (actor) =>
        track(
          (async () => {
            const startedAt = clock.now();
            try {
              // While shutting down, wait for a busy engine only so long (the runtime entry's grace is 30 s).
              const giveUp = () => stopDeadline !== null && performance.now() >= stopDeadline;
              const backup = await whenFree(() => engine.createBackup({ trigger: "change", actor }), "change backup", giveUp);
              logger.info("change backup taken", { name: backup.name, size: backup.size });
            } catch (err) {
              reportFailure("change", err, startedAt, null);
            }
          })(),
        ),
    },
    options.change,
  );

  const scheduler: Scheduler = {
    instanceId,

    async start() {
      if (started) return;
      started = true;
      unsubscribe.push(deps.engineEvents.on((e) => void track(onEngineEvent(e))));
      if (deps.userChanges) unsubscribe.push(deps.userChanges.on((e) => coalescer.notify(e)));
      if (!timerSchedule) {
        logger.info("in-process backup schedule is off (BACKUP_SCHEDULE=off); POST /api/cron/backup still works");
        return;
      }
      const since = await writeGate.run(() => scheduleSince(db, clock.now()));
      arm();
      logger.info("backup schedule armed", {
        schedule: timerSchedule.expression,
        timezone,
        nextRun: nextSlot?.toISOString() ?? null,
      });
      void track(
        catchUp(since).catch((err: unknown) => logger.error("catch-up failed", { error: err })),
      );
    },

    stop() {
      stopping ??= (async () => {
        stopped = true;
        stopDeadline = performance.now() + shutdownBusyWaitMs;
        if (timer !== null) timers.clearTimeout(timer);
        timer = null;
        nextSlot = null;
        for (const s of [...sleepers]) s.wake();
        await Promise.allSettled([...inFlight]);
        await coalescer.close();
        await Promise.allSettled([...inFlight]);
        for (const u of unsubscribe.splice(0)) u();
        await pruner.idle();
        await offsitePruner?.idle();
        await webhook?.close();
      })();
      return stopping;
    },

    async triggerScheduled({ actor, force = false }) {
      const now = clock.now();
      const slot = periods.latestSlot(now);
      if (!slot) throw new ConflictError("The backup schedule has no run at or before now, so there is no period to back up.");
      const periodKey = periods.periodKey(slot);

      if (force) {
        const startedAt = clock.now();
        let backup: BackupMeta;
        try {
          backup = await engine.createBackup({ trigger: "scheduled", actor, periodKey });
        } catch (err) {
          if (!(err instanceof BusyError)) reportFailure("scheduled", err, startedAt, periodKey);
          throw err;
        }
        await writeGate.run(() =>
          recordForcedRun(db, { periodKey, slotAt: slot, holder: instanceId, startedAt, now: clock.now(), backupName: backup.name }),
        );
        logger.info("scheduled backup taken (forced)", { periodKey, name: backup.name, actor });
        return { backup, created: true, periodKey };
      }

      for (let round = 0; round < 3; round++) {
        const mine = takingPeriod.get(periodKey);
        if (mine) {
          const backup = await mine.catch(() => null);
          if (backup) return { backup, created: false, periodKey };
          continue; // it failed: the period is claimable again
        }
        const existing = await readPeriod(db, periodKey);
        let missing: string | null = null;
        if (existing?.status === "done" && existing.backupName) {
          const backup = (await engine.listBackups()).find((b) => b.name === existing.backupName);
          if (backup) return { backup, created: false, periodKey };
          missing = existing.backupName; // deleted since: take a new one
        }
        if (existing?.status === "running" && Date.parse(existing.leaseExpiresAt) > clock.now().getTime()) {
          throw new BusyError(
            `The backup for period ${periodKey} is being taken by ${existing.holder === instanceId ? "this instance" : `instance ${existing.holder}`} since ${existing.startedAt}; try again shortly.`,
          );
        }
        const claimed = await writeGate.run(() =>
          claimPeriod(db, { periodKey, slotAt: slot, holder: instanceId, source: "cron", now: clock.now(), leaseMs, replaceMissing: missing }),
        );
        if (claimed) {
          const backup = await takeClaimed(periodKey, actor, false);
          return { backup, created: true, periodKey };
        }
        // Someone else claimed it between our read and our write: look again.
      }
      throw new BusyError(`The backup for period ${periodKey} is contended; try again shortly.`);
    },

    async scheduleStatus() {
      const [backups, latestScheduledRun] = await Promise.all([engine.listBackups(), latestFinishedRun(db)]);
      return {
        schedule: timerSchedule?.expression ?? null,
        timezone,
        nextRun: nextSlot?.toISOString() ?? (timerSchedule && !stopped ? timerSchedule.nextSlot(clock.now())?.toISOString() ?? null : null),
        nextPeriodKey: nextSlot ? periods.periodKey(nextSlot) : null,
        lastRuns: mergeLastRuns({ runLog, backups, latestScheduledRun }),
        running: engine.activity(),
        pendingChange: coalescer.pending(),
        instance: instanceId,
        offsite: engine.offsiteStatus?.() ?? null,
      };
    },

    readinessCheck() {
      return {
        name: "scheduledBackups",
        async run() {
          if (!timerSchedule) return { ok: true };
          const last = await latestFinishedRun(db);
          if (last?.status === "failed") {
            return {
              ok: false,
              degraded: true,
              reason: `the last scheduled backup (period ${last.periodKey}) failed: ${last.error ?? "unknown error"}`,
            };
          }
          const now = clock.now();
          const since = await readScheduleSince(db);
          const due = timerSchedule.latestSlot(new Date(now.getTime() - graceMs));
          if (!since || !due || due.getTime() < since.getTime()) return { ok: true };
          const dueKey = periods.periodKey(due);
          const done = await readPeriod(db, dueKey);
          if (done?.status === "done") return { ok: true };
          const newest = (await engine.listBackups()).find((b) => b.trigger === "scheduled");
          if (newest && Date.parse(newest.createdAt) >= due.getTime()) return { ok: true };
          return {
            ok: false,
            degraded: true,
            reason: `no scheduled backup since the run due at ${dueKey} (${timezone}); the newest is ${newest ? `from ${newest.createdAt}` : "missing"}`,
          };
        },
      };
    },

    offsiteReadinessCheck() {
      return {
        name: "offsiteBackups",
        async run() {
          if (!config.offsite) return { ok: true };
          const newest = (await engine.listBackups()).find((b) => b.trigger === "scheduled");
          if (!newest || newest.location !== "here") return { ok: true };
          const taken = new Date(newest.createdAt);
          // Its period ends at the next slot (a day when the in-process schedule is off).
          const periodEnd = timerSchedule?.nextSlot(taken) ?? new Date(taken.getTime() + 24 * 60 * 60_000);
          if (clock.now().getTime() < periodEnd.getTime()) return { ok: true };
          const why = newest.offsite?.error ? `: ${newest.offsite.error}` : "";
          return {
            ok: false,
            degraded: true,
            reason: `the last scheduled backup ${newest.name} is not off-site yet${why}`,
          };
        },
      };
    },

    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      await pruner.idle();
      await offsitePruner?.idle();
    },
  };
  return scheduler;
}
