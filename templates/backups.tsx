import { formatBytes as formatByteSize } from "../src/bytes.ts";
import type { BulkDeleteResult, FolderUsage } from "../src/backups/engine.ts";
import type { BackupPage } from "../src/backups/list-query.ts";
import type { BackupMeta, BackupPreview, EngineActivity, ImportResult, ListedBackup } from "../src/backups/types.ts";
import type { LastRun, ScheduleStatus } from "../src/schedule/status.ts";
import { FilterSelect, type Options } from "./filter.tsx";
import { Layout, type Viewer } from "./layout.tsx";
import { StatusError, StatusMessage } from "./status.tsx";

/**
 * The backups page and its fragments. `BackupRow` renders a row both in the
 * full page and in the fragments htmx swaps in; the table and the status card
 * re-fetch themselves on the `backups-changed` event the action responses send
 * (HX-Trigger). Buttons that would start a second backup or import carry
 * `data-conflicts`: rendered disabled while the engine is busy, and disabled by
 * static/app.js the moment such a request starts.
 */

/**
 * Requests that run a backup or an import answer when the work is done, which
 * can take long for a large database: no client-side timeout for those (the
 * page's default is short, so a dead server is noticed quickly elsewhere).
 */
const LONG_REQUEST = JSON.stringify({ timeout: 6 * 60 * 60 * 1000 });

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
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

export const TRIGGER_LABELS: Record<string, string> = {
  scheduled: "scheduled",
  change: "after a change",
  manual: "manual",
  upload: "upload",
  "pre-import": "before an import",
  "pre-migration": "before an upgrade",
  unknown: "added by hand",
};

/** A time shown in the viewer's zone by static/app.js, UTC until then, with a relative hint. */
export function LocalTime(props: { iso: string }) {
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
  /** A listed backup (with where it is), or a local one just stored. */
  backup: BackupMeta & Partial<Pick<ListedBackup, "location" | "offsite">>;
  /** Something runs: conflicting buttons are disabled. */
  busy: boolean;
  /** Off-site storage is on: the row says where the backup's copies are. */
  where?: boolean | undefined;
}

const LOCATION_LABELS: Record<ListedBackup["location"], string> = { here: "here", offsite: "off-site", both: "here + off-site" };

/** What a delete removes, in words (the confirmation says it before anything goes). */
function deleteWarning(b: BackupRowProps["backup"]): string {
  if (b.location === "both") return `Delete ${b.name}? Both copies are removed: the one here and the off-site one. This cannot be undone.`;
  if (b.location === "offsite") return `Delete ${b.name}? The off-site copy (its only copy) is removed from the bucket. This cannot be undone.`;
  return `Delete ${b.name}? The file is removed from the backup folder; this cannot be undone.`;
}

/** Where the copies are, and for a backup on its way off-site, how that goes. */
function LocationCell({ b }: { b: BackupRowProps["backup"] }) {
  const pending = b.offsite;
  return (
    <td data-label="Where">
      <span class={`badge location-${b.location ?? "here"}`}>{LOCATION_LABELS[b.location ?? "here"]}</span>
      {pending && (
        <span class={pending.state === "failed" ? "offsite-pending error" : "offsite-pending muted"} title={pending.error ?? undefined}>
          {" "}
          {pending.state === "failed"
            ? `not off-site yet: ${pending.error ?? "upload failed"} (attempt ${pending.attempts}, retrying)`
            : pending.state === "uploading"
              ? "copying off-site…"
              : "waiting to go off-site"}
        </span>
      )}
    </td>
  );
}

/** One backup: what it is, and download / import / pin / delete. */
export function BackupRow({ backup: b, busy, where }: BackupRowProps) {
  const id = `backup-${b.name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const base = `${PAGE}/${enc(b.name)}`;
  return (
    <tr id={id} data-name={b.name}>
      <td class="select">
        <input
          type="checkbox"
          name="names"
          value={b.name}
          form="bulk-form"
          data-action="select"
          aria-label={`Select ${b.name}`}
          disabled={b.pinned}
          title={b.pinned ? "Pinned backups cannot be deleted" : undefined}
        />
      </td>
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
      {where && <LocationCell b={b} />}
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
            aria-label={`Import ${b.name}`}
            aria-haspopup="dialog"
            data-preview={b.name}
            data-result-target="#backup-result"
            data-action="import"
            data-conflicts
            disabled={busy}
          >
            Import…
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
            data-action="pin"
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
            hx-confirm={deleteWarning(b)}
            data-action="delete"
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

/** Rows per page of the table ("Load more" fetches the next ones). */
export const PAGE_SIZE = 25;

/** The list's filter and sort, kept by "Load more" and the table's refresh. */
export interface ListView {
  trigger?: string | undefined;
  location?: string | undefined;
  sort?: string | undefined;
  order?: string | undefined;
}

function viewQuery(view: ListView, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...view, ...extra })) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** The table's columns: select, name, created, size, trigger, (where,) checksum, actions. */
const columns = (where: boolean | undefined) => (where ? 8 : 7);

/** The row at the end of the table that fetches the next page, or says that all are shown. */
function LoadMoreRow(props: { page: BackupPage; view: ListView; shown: number; where?: boolean | undefined }) {
  const { page, view, shown } = props;
  return (
    <tr id="load-more-row" class="load-more-row">
      <td colspan={columns(props.where)}>
        <span class="muted" id="shown-count">
          {shown.toLocaleString("en-US")} of {page.total.toLocaleString("en-US")} shown
        </span>{" "}
        {page.nextCursor && (
          <button
            type="button"
            id="load-more"
            class="secondary"
            hx-get={`${PAGE}/table${viewQuery(view, { cursor: page.nextCursor, shown: String(shown) })}`}
            hx-target="#load-more-row"
            hx-swap="outerHTML"
            aria-describedby="shown-count"
          >
            Load {Math.min(PAGE_SIZE, page.total - shown).toLocaleString("en-US")} more
          </button>
        )}
      </td>
    </tr>
  );
}

/** The next page's rows and the next "Load more" (the answer to "Load more"). */
export function BackupRows(props: {
  page: BackupPage<ListedBackup>;
  busy: boolean;
  view: ListView;
  shown: number;
  where?: boolean | undefined;
}) {
  const shown = props.shown + props.page.items.length;
  return (
    <>
      {props.page.items.map((b) => (
        <BackupRow backup={b} busy={props.busy} where={props.where} />
      ))}
      <LoadMoreRow page={props.page} view={props.view} shown={shown} where={props.where} />
    </>
  );
}

/** How many backups, their size, the room left on the disk. */
function UsageLine(props: { usage: FolderUsage }) {
  const u = props.usage;
  return (
    <p class="usage" id="backup-usage">
      <strong>{u.backups.toLocaleString("en-US")}</strong> backup{u.backups === 1 ? "" : "s"},{" "}
      <strong>{formatBytes(u.totalBytes)}</strong> in total
      {u.freeBytes !== null && (
        <>
          {" "}
          · <strong>{formatBytes(u.freeBytes)}</strong> free on the backup disk
          {u.diskBytes ? <span class="muted"> (of {formatBytes(u.diskBytes)})</span> : null}
        </>
      )}
    </p>
  );
}

const TRIGGER_FILTER: Options = [
  ["", "All triggers"],
  ["scheduled", "Scheduled"],
  ["change", "After a change"],
  ["manual", "Manual"],
  ["upload", "Upload"],
  ["pre-import", "Before an import"],
  ["pre-migration", "Before an upgrade"],
  ["unknown", "Added by hand"],
];

const LOCATION_FILTER: Options = [
  ["", "Anywhere"],
  ["here", "Here only (not off-site yet)"],
  ["offsite", "Off-site only"],
  ["both", "Here and off-site"],
];

const SORT_OPTIONS: Options = [
  ["time", "Time"],
  ["size", "Size"],
];
const ORDER_OPTIONS: Options = [
  ["desc", "Newest or largest first"],
  ["asc", "Oldest or smallest first"],
];

/** Filter and sort; changing either fetches the table again. With off-site storage on, also where the copies are. */
function ListControls(props: { view: ListView; where?: boolean | undefined }) {
  const v = props.view;
  return (
    <form
      id="list-controls"
      class="list-controls"
      hx-get={`${PAGE}/table`}
      hx-target="#backup-table"
      hx-swap="outerHTML"
      hx-trigger="change"
      role="search"
      aria-label="Filter and sort backups"
    >
      <FilterSelect id="filter-trigger" name="trigger" label="Trigger" value={v.trigger} options={TRIGGER_FILTER} />
      {props.where && <FilterSelect id="filter-location" name="location" label="Where" value={v.location} options={LOCATION_FILTER} />}
      <FilterSelect id="sort-by" name="sort" label="Sort by" value={v.sort ?? "time"} options={SORT_OPTIONS} />
      <FilterSelect id="sort-order" name="order" label="Order" value={v.order ?? "desc"} options={ORDER_OPTIONS} />
      <noscript>
        <button type="submit">Apply</button>
      </noscript>
    </form>
  );
}

/**
 * The table of backups (or the empty state), a page at a time, with the
 * folder's usage and the bulk-delete bar; refreshes itself after each action
 * (keeping the filter, the sort and how many rows are shown).
 */
export function BackupTable(props: {
  page: BackupPage<ListedBackup> & { usage: FolderUsage };
  busy: boolean;
  view?: ListView;
  /** Off-site storage is on: a Where column, and a bulk delete that says which copies go. */
  where?: boolean | undefined;
}) {
  const view = props.view ?? {};
  const { page, where } = props;
  const filtered = Boolean(view.trigger || view.location);
  return (
    <div
      id="backup-table"
      class="table-wrap"
      hx-get={`${PAGE}/table${viewQuery(view)}`}
      hx-trigger={`${BACKUPS_CHANGED} from:body`}
      hx-swap="outerHTML"
    >
      <UsageLine usage={page.usage} />
      {page.items.length === 0 ? (
        <p class="empty">
          {filtered
            ? view.location
              ? "No backups match this filter."
              : "No backups with this trigger."
            : <>No backups yet. Use <strong>Back up now</strong>, upload a dump below, or wait for the scheduled backup.</>}
        </p>
      ) : (
        <>
          <form
            id="bulk-form"
            class="bulk-bar"
            hx-post={`${PAGE}/delete`}
            hx-swap="none"
            hx-confirm="Delete the selected backups? The files are removed from the backup folder; this cannot be undone."
            data-flash-anchor="bulk"
          >
            <button type="button" class="secondary" data-select-all aria-controls="backup-rows">
              Select all shown
            </button>
            {where && (
              <>
                <label for="bulk-from" class="visually-hidden">
                  Which copies to delete
                </label>
                <select id="bulk-from" name="from">
                  <option value="all" data-confirm="Every copy is removed, here and off-site" selected>
                    Every copy
                  </option>
                  <option value="here" data-confirm="Only the copies in the backup folder are removed; the off-site ones stay">
                    Only the copies here
                  </option>
                  <option value="offsite" data-confirm="Only the off-site copies are removed; the ones here stay">
                    Only the off-site copies
                  </option>
                </select>
              </>
            )}
            <button type="submit" class="danger" data-bulk-delete disabled>
              Delete selected
            </button>
            <span class="muted" id="selected-count" aria-live="polite">
              None selected
            </span>
          </form>
          <table class="backups-table">
            <caption class="visually-hidden">Backups</caption>
            <thead>
              <tr>
                <th scope="col" class="select">
                  <span class="visually-hidden">Select</span>
                </th>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
                <th scope="col" class="num">
                  Size
                </th>
                <th scope="col">Trigger</th>
                {where && <th scope="col">Where</th>}
                <th scope="col" class="hide-narrow">
                  Checksum
                </th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody id="backup-rows">
              <BackupRows page={page} busy={props.busy} view={view} shown={0} where={where} />
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

/** What a bulk delete did, for the status region (and next to the bar). */
export function BulkDeleteMessage(props: { result: BulkDeleteResult }) {
  const { deleted, refused } = props.result;
  const parts: string[] = [];
  parts.push(`Deleted ${deleted.length} backup${deleted.length === 1 ? "" : "s"}.`);
  if (refused.length) parts.push(`Not deleted: ${refused.map((r) => r.reason).join(" ")}`);
  return refused.length && !deleted.length ? <StatusError message={parts.join(" ")} /> : <StatusMessage message={parts.join(" ")} />;
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
      <div class="status-head" data-flash-anchor="backup-now">
        <h1 id="backups-title">Backups</h1>
        <button
          type="button"
          hx-post={PAGE}
          hx-swap="none"
          hx-request={LONG_REQUEST}
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
        {status.offsite && <OffsiteLine offsite={status.offsite} />}
      </ul>
      <p>
        <a href="/admin/runs">Run history</a> <span class="muted">— every backup and import, with results and errors</span>
      </p>
    </section>
  );
}

/** Off-site storage in one line: where, whether it answers, what is still on its way. */
function OffsiteLine({ offsite }: { offsite: NonNullable<ScheduleStatus["offsite"]> }) {
  const waiting = offsite.pending.length;
  const failing = offsite.pending.filter((p) => p.state === "failed");
  return (
    <li id="offsite-status" class={offsite.reachable && failing.length === 0 ? undefined : "error"}>
      Off-site copies: <code>{offsite.location}</code>{" "}
      {!offsite.reachable ? (
        <strong class="error">unavailable: {offsite.error}</strong>
      ) : waiting === 0 ? (
        <span>every backup is off-site</span>
      ) : (
        <span>
          {waiting} backup{waiting === 1 ? "" : "s"} not off-site yet
          {failing[0]?.error ? ` (last error: ${failing[0].error})` : ""}
        </span>
      )}
    </li>
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
        hx-request={LONG_REQUEST}
      >
        <label for="upload-file">Dump file (.sql or .sql.gz, or either encrypted with age as .age; at most {formatBytes(props.maxUploadBytes)})</label>
        <input
          id="upload-file"
          type="file"
          name="file"
          accept=".sql,.gz,.age,application/sql,application/gzip"
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
            hx-post={`${PAGE}/upload?then=preview`}
            hx-validate="true"
            data-busy-label="Uploading…"
            aria-describedby="import-help"
          >
            Store and import…
          </button>
        </div>
        <p id="import-help" class="muted">
          <strong>Store and import…</strong> stores the file, then shows what it holds next to the live database before
          anything is replaced.
        </p>
        <progress id="upload-progress" max="100" value="0" hidden aria-label="Upload progress"></progress>
        <p id="upload-phase" class="muted" role="status"></p>
        <div id="upload-result" aria-live="polite"></div>
      </form>
    </section>
  );
}

/** What an import did, shown where it was started, with the way back: Undo restores the safety backup (previewed first). */
export function ImportResultView(props: { result: ImportResult; resultTarget?: string }) {
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
          <code>{r.safetyBackup}</code> <span class="muted">(the database as it was just before)</span>
        </dd>
        {r.migrated.length > 0 && (
          <>
            <dt>Upgraded</dt>
            <dd>Lifeboat migrations {r.migrated.join(", ")} applied after the import</dd>
          </>
        )}
      </dl>
      <p class="actions">
        <button
          type="button"
          class="secondary"
          data-preview={r.safetyBackup}
          data-purpose="undo"
          data-result-target={props.resultTarget ?? "#backup-result"}
          data-conflicts
          aria-haspopup="dialog"
        >
          Undo this import…
        </button>
      </p>
    </div>
  );
}

/** Confirmation that an upload was stored; with "Store and import" its preview opens next. */
export function StoredUploadView(props: { backup: BackupMeta; thenPreview?: boolean }) {
  const b = props.backup;
  return (
    <div class="alert success" role="status">
      Stored <code>{b.name}</code> ({formatBytes(b.size)}).{" "}
      {props.thenPreview
        ? "Check what it holds before importing it; if you cancel, it stays in the list."
        : "It is in the list below; use its Import button to restore it."}
    </div>
  );
}

const KIND_LABELS = {
  lifeboat: "Lifeboat backup (application data and Lifeboat's accounts)",
  plain: "Application data only (no Lifeboat accounts in it)",
} as const;

function signed(n: number): string {
  return n > 0 ? `+${n.toLocaleString("en-US")}` : `−${Math.abs(n).toLocaleString("en-US")}`;
}

/** A table's row count after the restore next to now, the difference in words. */
function TableDiffRow(props: { table: BackupPreview["tables"][number]; known: boolean }) {
  const t = props.table;
  const after = props.known ? t.backupRows : null;
  let change: string;
  let cls = "";
  if (!props.known) change = "not known";
  else if (after === null) {
    change = "removed by the restore";
    cls = "differs gone";
  } else if (t.liveRows === null) {
    change = "new";
    cls = "differs";
  } else if (after === t.liveRows) change = "same";
  else {
    change = `${signed(after - t.liveRows)} rows`;
    cls = "differs";
  }
  return (
    <tr class={cls || undefined}>
      <th scope="row">
        <code>{t.name}</code>
      </th>
      <td class="num">{after === null ? <span class="muted">{props.known ? "—" : "?"}</span> : after.toLocaleString("en-US")}</td>
      <td class="num">{t.liveRows === null ? <span class="muted">—</span> : t.liveRows.toLocaleString("en-US")}</td>
      <td>{cls ? <strong>{change}</strong> : <span class="muted">{change}</span>}</td>
    </tr>
  );
}

/**
 * The restore preview, shown in the page's dialog: what the backup is, what
 * the database will hold afterwards next to what it holds now, and who can
 * still sign in. The import is confirmed here (or refused in words).
 */
export function PreviewView(props: { preview: BackupPreview; purpose: "restore" | "undo" }) {
  const p = props.preview;
  const b = p.backup;
  const changed = p.tables.filter(
    (t) => p.tablesKnown && (t.backupRows === null || t.liveRows === null || t.backupRows !== t.liveRows),
  ).length;
  const adminsAfter = p.admins.after;
  const lost = adminsAfter ? p.admins.now.filter((a) => !adminsAfter.includes(a)) : [];
  const checksum = {
    matches: <span class="badge ok">matches</span>,
    differs: <span class="badge failed">differs</span>,
    "not-recorded": <span class="badge running">not recorded</span>,
    unreadable: <span class="badge failed">unreadable</span>,
  }[p.checksum.state];
  return (
    <>
      <h2 id="preview-title">{props.purpose === "undo" ? "Undo the import?" : `Restore ${b.name}?`}</h2>
      <p id="preview-summary">
        {props.purpose === "undo" ? (
          <>
            This restores <code>{b.name}</code>, the safety backup taken just before the import.{" "}
          </>
        ) : null}
        {p.restorable
          ? "The current database will be replaced by this backup, all or nothing. A safety backup of the current database is taken first."
          : "This backup cannot be restored; nothing would change."}
      </p>
      {!p.restorable && (
        <div class="alert error">
          <strong>The import would refuse it:</strong> {p.problem}
        </div>
      )}
      <dl class="facts">
        <dt>Kind</dt>
        <dd>{KIND_LABELS[p.kind]}</dd>
        <dt>Taken</dt>
        <dd>
          <LocalTime iso={b.createdAt} /> <span class="muted">· {TRIGGER_LABELS[b.trigger] ?? b.trigger}</span>
        </dd>
        <dt>Size</dt>
        <dd>
          {formatBytes(b.size)}
          {b.compressed && b.encrypted ? " (gzip, encrypted with age)" : b.compressed ? " (gzip)" : b.encrypted ? " (encrypted with age)" : ""}
        </dd>
        {b.location === "offsite" && (
          <>
            <dt>Where</dt>
            <dd>Off-site only: the import downloads it into the backup folder first and checks its SHA-256</dd>
          </>
        )}
        <dt>Checksum</dt>
        <dd>
          {checksum}{" "}
          <span class="muted">
            {p.checksum.state === "matches" && "the file is exactly as it was written"}
            {p.checksum.state === "differs" && "the file changed since the backup was taken"}
            {p.checksum.state === "not-recorded" && "none was recorded (a file added by hand)"}
            {p.checksum.state === "unreadable" && "the file could not be read"}
          </span>
        </dd>
        {p.migrations.length > 0 && (
          <>
            <dt>Upgrade</dt>
            <dd>From an older Lifeboat: migrations {p.migrations.join(", ")} run after the import</dd>
          </>
        )}
      </dl>
      <h3 id="preview-tables-title">Tables</h3>
      <p class="muted" id="preview-tables-summary">
        {!p.tablesKnown
          ? "The file could not be read far enough to list its tables."
          : changed === 0
            ? "Every table would have the same number of rows as now."
            : `${changed} of ${p.tables.length} table${p.tables.length === 1 ? "" : "s"} would change (highlighted).`}
      </p>
      <div class="table-wrap" tabindex={0} role="region" aria-labelledby="preview-tables-title">
        <table class="preview-table" aria-describedby="preview-tables-summary">
          <thead>
            <tr>
              <th scope="col">Table</th>
              <th scope="col" class="num">
                After restore
              </th>
              <th scope="col" class="num">
                Now
              </th>
              <th scope="col">Change</th>
            </tr>
          </thead>
          <tbody>
            {/* The application's tables first: those are what a restore is usually about. */}
            {[...p.tables]
              .sort((x, y) => Number(x.name.toLowerCase().startsWith("lifeboat_")) - Number(y.name.toLowerCase().startsWith("lifeboat_")))
              .map((t) => (
                <TableDiffRow table={t} known={p.tablesKnown} />
              ))}
          </tbody>
        </table>
      </div>
      <h3>Admin accounts afterwards</h3>
      {adminsAfter === null ? (
        <p class="muted">Not known: the file could not be restored far enough to read them.</p>
      ) : adminsAfter.length === 0 ? (
        <p class="error-text">None: nobody could sign in as an admin.</p>
      ) : (
        <ul class="admins">
          {adminsAfter.map((a) => (
            <li>
              <code>{a}</code>
              {!p.admins.now.includes(a) && <span class="badge running">not an admin now</span>}
            </li>
          ))}
        </ul>
      )}
      {lost.length > 0 && (
        <p class="warning-text">
          No longer admins afterwards: {lost.map((a, i) => (
            <>
              {i > 0 ? ", " : ""}
              <code>{a}</code>
            </>
          ))}
        </p>
      )}
      <div id="preview-error" aria-live="assertive"></div>
      <div class="actions dialog-actions">
        {p.restorable && (
          <button
            type="button"
            class="danger-solid"
            hx-post={`${PAGE}/${enc(b.name)}/import`}
            hx-swap="innerHTML"
            hx-headers={JSON.stringify({ "HX-Error-Target": "#preview-error" })}
            hx-request={LONG_REQUEST}
            data-confirm-import
            data-conflicts
            data-busy-label={`Importing ${b.name}…`}
          >
            {props.purpose === "undo" ? "Undo the import" : "Import this backup"}
          </button>
        )}
        <button type="button" class="secondary" data-close-dialog autofocus>
          {p.restorable ? "Cancel" : "Close"}
        </button>
      </div>
    </>
  );
}

/** The dialog the preview opens in (static/app.js fills and opens it). */
function PreviewDialog() {
  return (
    <dialog id="preview-dialog" aria-labelledby="preview-title" aria-describedby="preview-summary" class="preview-dialog">
      <div id="preview-body" hx-request={LONG_REQUEST}>
        <h2 id="preview-title">Restore preview</h2>
        <p id="preview-summary" class="muted">
          Choose Import on a backup to see what it holds.
        </p>
      </div>
    </dialog>
  );
}

export interface BackupsPageProps {
  page: BackupPage<ListedBackup> & { usage: FolderUsage };
  status: ScheduleStatus;
  maxUploadBytes: number;
  viewer: Viewer;
  assetVersion?: string;
}

/** The main content of /admin/backups (also the htmx fragment of that URL). */
export function BackupsContent(props: Omit<BackupsPageProps, "viewer" | "assetVersion">) {
  const busy = props.status.running !== null;
  const where = props.status.offsite !== null;
  return (
    <>
      <BackupStatusCard status={props.status} />
      <UploadForm busy={busy} maxUploadBytes={props.maxUploadBytes} />
      <section
        class="card"
        aria-labelledby="list-title"
        hx-headers={JSON.stringify({ "HX-Error-Target": "#status" })}
      >
        <h2 id="list-title">All backups</h2>
        <ListControls view={{}} where={where} />
        <p class="muted tz-note">
          Times are shown in your time zone, <span data-viewer-tz>UTC</span>.
        </p>
        <div id="backup-result" aria-live="polite"></div>
        <BackupTable page={props.page} busy={busy} where={where} />
      </section>
      <PreviewDialog />
    </>
  );
}

/** The full /admin/backups page. */
export function BackupsPage(props: BackupsPageProps) {
  return (
    <Layout title="Backups" current={PAGE} viewer={props.viewer} assetVersion={props.assetVersion}>
      <BackupsContent page={props.page} status={props.status} maxUploadBytes={props.maxUploadBytes} />
    </Layout>
  );
}
