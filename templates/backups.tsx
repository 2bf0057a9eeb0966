import { formatBytes as formatByteSize } from "../src/bytes.ts";
import type { BackupMeta, EngineActivity, ImportResult } from "../src/backups/types.ts";
import type { LastRun, ScheduleStatus } from "../src/schedule/status.ts";
import { Layout, type Viewer } from "./layout.tsx";

/**
 * The backups page and its fragments. `BackupRow` renders a row both in the
 * full page and in the fragments htmx swaps in; the table and the status card
 * re-fetch themselves on the `backups-changed` event the action responses send
 * (HX-Trigger). Buttons that would start a second backup or import carry
 * `data-conflicts`: rendered disabled while the engine is busy, and disabled by
 * static/app.js the moment such a request starts.
 */

/** Event name (HX-Trigger) after which the table and the status card refresh. */
export const BACKUPS_CHANGED = "backups-changed";

/** Sent by the status card's polls while something runs (see the status handler). */
export const WAS_RUNNING_HEADER = "X-Lifeboat-Was-Running";

/** The page's own URLs (the htmx face of the same handlers as /api/backups). */
export const PAGE = "/admin/backups";
const enc = encodeURIComponent;

/** Bytes for people: SI units with one decimal (what file managers show). */
const formatBytes = (n: number) => formatByteSize(n, "decimal");

/** Milliseconds for people: `850 ms`, `12.3 s`, `4 min 5 s`. */
function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

const TRIGGER_LABELS: Record<string, string> = {
  scheduled: "scheduled",
  change: "after a change",
  manual: "manual",
  upload: "upload",
  "pre-import": "before an import",
  "pre-migration": "before an upgrade",
  unknown: "added by hand",
};

/** A time shown in the viewer's zone by static/app.js, UTC until then, with a relative hint. */
function LocalTime(props: { iso: string }) {
  return (
    <span class="when">
      <time datetime={props.iso} data-local>
        {props.iso.replace("T", " ").replace(/\.\d+Z$/, " UTC").replace(/Z$/, " UTC")}
      </time>{" "}
      <span class="relative muted"></span>
    </span>
  );
}

const LAST_RUN_LABELS = {
  change: "Last backup after a user change",
  manual: "Last manual backup",
  upload: "Last upload",
  "pre-import": "Last safety backup before an import",
} as const;

function activityLabel(a: EngineActivity): string {
  if (a.kind === "import") return "An import is running";
  return `A ${a.trigger ? `${TRIGGER_LABELS[a.trigger] ?? a.trigger} ` : ""}backup is running`;
}

export interface BackupRowProps {
  backup: BackupMeta;
  /** Something runs: conflicting buttons are disabled. */
  busy: boolean;
}

/** One backup: what it is, and download / import / pin / delete. */
export function BackupRow({ backup: b, busy }: BackupRowProps) {
  const id = `backup-${b.name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const base = `${PAGE}/${enc(b.name)}`;
  return (
    <tr id={id} data-name={b.name}>
      <th scope="row" class="name">
        <code>{b.name}</code>
        {b.pinned && <span class="badge pinned">pinned</span>}
        {b.restoreProblems && (
          <span class="badge" title={b.restoreProblems.join("\n")}>
            Lifeboat cannot restore this: {b.restoreProblems[0]}
          </span>
        )}
        {b.verification && !b.verification.ok && (
          <span class="badge failed" title={b.verification.message ?? undefined}>
            failed verification
          </span>
        )}
        {b.verification?.ok && (
          <span class="badge ok" title={`Verified ${b.verification.at}`}>
            verified
          </span>
        )}
      </th>
      <td data-label="Created">
        <LocalTime iso={b.createdAt} />
      </td>
      <td class="num" data-label="Size" title={`${b.size} bytes`}>
        {formatBytes(b.size)}
      </td>
      <td data-label="Trigger">{TRIGGER_LABELS[b.trigger] ?? b.trigger}</td>
      <td class="hide-narrow" data-label="Checksum">
        {b.sha256 ? (
          <code title={`SHA-256 ${b.sha256}`}>{b.sha256.slice(0, 12)}</code>
        ) : (
          <span class="muted">unknown</span>
        )}
      </td>
      <td>
        <div class="actions">
          <a class="button secondary" href={`${base}/download`} download={b.name} aria-label={`Download ${b.name}`}>
            Download
          </a>
          <button
            type="button"
            class="secondary"
            hx-post={`${base}/import`}
            hx-target="#backup-result"
            hx-swap="innerHTML"
            hx-confirm={`Import ${b.name}? The current database will be replaced by this backup. A safety backup of the current database is taken first.`}
            data-conflicts
            data-busy-label={`Importing ${b.name}…`}
            disabled={busy}
            aria-label={`Import ${b.name}`}
          >
            Import
          </button>
          <button
            type="button"
            class="secondary"
            hx-post={`${base}/verify`}
            hx-target="closest tr"
            hx-swap="outerHTML"
            data-busy-label={`Verifying ${b.name}…`}
            aria-label={`Verify ${b.name}`}
            title="Check the recorded SHA-256 and restore the file into a scratch database; nothing else changes"
          >
            Verify
          </button>
          <button
            type="button"
            class="secondary"
            hx-post={b.pinned ? undefined : `${base}/pin`}
            hx-delete={b.pinned ? `${base}/pin` : undefined}
            hx-target="closest tr"
            hx-swap="outerHTML"
            aria-pressed={b.pinned ? "true" : "false"}
            aria-label={`${b.pinned ? "Unpin" : "Pin"} ${b.name}`}
            title={b.pinned ? "Let retention remove this backup again" : "Keep this backup: retention never removes pinned backups"}
          >
            {b.pinned ? "Unpin" : "Pin"}
          </button>
          <button
            type="button"
            class="danger"
            hx-delete={base}
            hx-target="closest tr"
            hx-swap="outerHTML"
            hx-confirm={`Delete ${b.name}? The file is removed from the backup folder; this cannot be undone.`}
            aria-label={`Delete ${b.name}`}
            disabled={b.pinned}
            title={b.pinned ? "Pinned backups cannot be deleted; unpin it first" : undefined}
          >
            Delete
          </button>
        </div>
      </td>
    </tr>
  );
}

/** The table of backups (or the empty state); refreshes itself after each action. */
export function BackupTable(props: { backups: BackupMeta[]; busy: boolean }) {
  return (
    <div
      id="backup-table"
      class="table-wrap"
      hx-get={`${PAGE}/table`}
      hx-trigger={`${BACKUPS_CHANGED} from:body`}
      hx-swap="outerHTML"
    >
      {props.backups.length === 0 ? (
        <p class="empty">
          No backups yet. Use <strong>Back up now</strong>, upload a dump below, or wait for the scheduled backup.
        </p>
      ) : (
        <table class="backups-table">
          <caption class="visually-hidden">Backups, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Created</th>
              <th scope="col" class="num">
                Size
              </th>
              <th scope="col">Trigger</th>
              <th scope="col" class="hide-narrow">
                Checksum
              </th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.backups.map((b) => (
              <BackupRow backup={b} busy={props.busy} />
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function LastRunLine(props: { label: string; run: LastRun | null }) {
  const { run } = props;
  if (!run) {
    return (
      <li>
        {props.label}: <span class="muted">none yet</span>
      </li>
    );
  }
  return (
    <li>
      {props.label}: <LocalTime iso={run.at} />
      {run.error ? (
        <span class="badge failed">failed</span>
      ) : (
        <span class="badge ok">ok</span>
      )}{" "}
      {run.error ? (
        <span class="error-text">{run.error}</span>
      ) : (
        <span class="muted">
          {run.name}
          {run.size !== null ? ` · ${formatBytes(run.size)}` : ""}
          {run.durationMs ? ` · took ${formatDuration(run.durationMs)}` : ""}
        </span>
      )}
    </li>
  );
}

/**
 * Schedule, what runs, and "Back up now". Polls itself every 3 s only while
 * something runs; once idle again its response fires `backups-changed`.
 */
export function BackupStatusCard(props: { status: ScheduleStatus }) {
  const { status } = props;
  const running = status.running;
  const others = (["change", "manual", "upload", "pre-import"] as const).filter((t) => status.lastRuns[t]);
  return (
    <section
      id="backup-status"
      class="card"
      aria-labelledby="backups-title"
      hx-get={`${PAGE}/status`}
      hx-trigger={running ? `every 3s, ${BACKUPS_CHANGED} from:body` : `${BACKUPS_CHANGED} from:body`}
      hx-swap="outerHTML"
      hx-headers={running ? JSON.stringify({ [WAS_RUNNING_HEADER]: "true" }) : undefined}
      data-busy={running ? "true" : "false"}
    >
      <div class="status-head">
        <h1 id="backups-title">Backups</h1>
        <button
          type="button"
          hx-post={PAGE}
          hx-swap="none"
          data-conflicts
          data-busy-label="Backing up…"
          disabled={running !== null}
        >
          Back up now
        </button>
      </div>
      <p id="activity" class={running ? "activity running" : "activity"}>
        {running ? (
          <>
            <span class="badge running">running</span> {activityLabel(running)}
            {running.actor ? ` (started by ${running.actor})` : ""}, since <LocalTime iso={running.startedAt} />{" "}
            {running.kind === "import" && (
              <button
                type="button"
                class="danger"
                hx-post={`${PAGE}/import/cancel`}
                hx-target="#backup-result"
                hx-swap="innerHTML"
                hx-confirm="Cancel the running import? It is stopped and rolled back; the database stays as it was."
                data-busy-label="Cancelling…"
              >
                Cancel import
              </button>
            )}
          </>
        ) : (
          <span class="muted">Nothing is running.</span>
        )}
      </p>
      <ul class="runs">
        {status.schedule ? (
          <li>
            Next scheduled backup:{" "}
            {status.nextRun ? <LocalTime iso={status.nextRun} /> : <span class="muted">not planned</span>}{" "}
            <span class="muted">
              (<code>{status.schedule}</code>, {status.timezone})
            </span>
          </li>
        ) : (
          <li>
            Scheduled backups are <strong>off</strong> <span class="muted">(BACKUP_SCHEDULE=off)</span>
          </li>
        )}
        <LastRunLine label="Last scheduled backup" run={status.lastRuns.scheduled} />
        {others.map((t) => (
          <LastRunLine label={LAST_RUN_LABELS[t]} run={status.lastRuns[t]} />
        ))}
        {status.pendingChange && (
          <li>
            A backup after {status.pendingChange.changes} user change{status.pendingChange.changes === 1 ? "" : "s"} is due{" "}
            <LocalTime iso={status.pendingChange.dueAt} />
          </li>
        )}
      </ul>
    </section>
  );
}

/** The upload form: "Store" keeps the file as a backup, "Store and import" also restores it. */
function UploadForm(props: { busy: boolean; maxUploadBytes: number }) {
  return (
    <section class="card" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload a backup</h2>
      <form
        id="upload-form"
        hx-encoding="multipart/form-data"
        hx-target="#upload-result"
        hx-swap="innerHTML"
        hx-headers={JSON.stringify({ "HX-Error-Target": "#upload-result" })}
      >
        <label for="upload-file">Dump file (.sql or .sql.gz, at most {formatBytes(props.maxUploadBytes)})</label>
        <input
          id="upload-file"
          type="file"
          name="file"
          accept=".sql,.gz,application/sql,application/gzip"
          required
          aria-describedby="upload-help"
        />
        <p id="upload-help" class="muted">
          The file is checked before anything is stored: only what a dump contains is accepted.
        </p>
        <div class="actions">
          <button type="submit" hx-post={`${PAGE}/upload`} hx-validate="true" data-busy-label="Uploading…">
            Store
          </button>
          <button
            type="submit"
            class="secondary"
            hx-post={`${PAGE}/import`}
            hx-validate="true"
            hx-confirm="Store this file and import it? The current database will be replaced by the uploaded one. A safety backup of the current database is taken first."
            data-conflicts
            data-busy-label="Uploading and importing…"
            disabled={props.busy}
          >
            Store and import
          </button>
        </div>
        <progress id="upload-progress" max="100" value="0" hidden aria-label="Upload progress"></progress>
        <div id="upload-result" aria-live="polite"></div>
      </form>
    </section>
  );
}

/** What an import did, shown where it was started. */
export function ImportResultView(props: { result: ImportResult }) {
  const r = props.result;
  return (
    <div class="alert success import-result" role="status">
      <p>
        <strong>Imported {r.source}.</strong> The database now holds what this backup holds.
      </p>
      <dl class="facts">
        <dt>Tables</dt>
        <dd>{r.tables.toLocaleString("en-US")}</dd>
        <dt>Rows</dt>
        <dd>{r.rows.toLocaleString("en-US")}</dd>
        <dt>Duration</dt>
        <dd>{formatDuration(r.durationMs)}</dd>
        <dt>Safety backup</dt>
        <dd>
          <code>{r.safetyBackup}</code> <span class="muted">(import it to undo)</span>
        </dd>
        {r.migrated.length > 0 && (
          <>
            <dt>Upgraded</dt>
            <dd>Lifeboat migrations {r.migrated.join(", ")} applied after the import</dd>
          </>
        )}
      </dl>
    </div>
  );
}

/** Confirmation that an upload was stored (not imported). */
export function StoredUploadView(props: { backup: BackupMeta }) {
  const b = props.backup;
  return (
    <div class="alert success" role="status">
      Stored <code>{b.name}</code> ({formatBytes(b.size)}). It is in the list below; use its Import button to restore it.
    </div>
  );
}

export interface BackupsPageProps {
  backups: BackupMeta[];
  status: ScheduleStatus;
  maxUploadBytes: number;
  viewer: Viewer;
  assetVersion?: string;
}

/** The main content of /admin/backups (also the htmx fragment of that URL). */
export function BackupsContent(props: Omit<BackupsPageProps, "viewer" | "assetVersion">) {
  const busy = props.status.running !== null;
  return (
    <>
      <BackupStatusCard status={props.status} />
      <UploadForm busy={busy} maxUploadBytes={props.maxUploadBytes} />
      <section
        class="card"
        aria-labelledby="list-title"
        hx-headers={JSON.stringify({ "HX-Error-Target": "#backup-result" })}
      >
        <h2 id="list-title">All backups</h2>
        <div id="backup-result" aria-live="polite"></div>
        <BackupTable backups={props.backups} busy={busy} />
      </section>
    </>
  );
}

/** The full /admin/backups page. */
export function BackupsPage(props: BackupsPageProps) {
  return (
    <Layout title="Backups" current={PAGE} viewer={props.viewer} assetVersion={props.assetVersion}>
      <BackupsContent backups={props.backups} status={props.status} maxUploadBytes={props.maxUploadBytes} />
    </Layout>
  );
}
