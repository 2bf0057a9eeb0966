import { formatBytes } from "../src/bytes.ts";
import type { RunQuery, RunRecord } from "../src/backups/run-history.ts";
import { BACKUP_TRIGGERS } from "../src/backups/types.ts";
import { formatDuration, LocalTime, PAGE as BACKUPS_PAGE, TRIGGER_LABELS } from "./backups.tsx";
import { FilterSelect, type Options } from "./filter.tsx";
import { Layout, type Viewer } from "./layout.tsx";

/** The run history's page (the htmx face of GET /api/runs). */
export const RUNS_PAGE = "/admin/runs";

export interface RunsView {
  runs: RunRecord[];
  /** Runs the history holds in all (before the filter). */
  kept: number;
  query: RunQuery;
}

function queryString(q: RunQuery): string {
  const params = new URLSearchParams();
  if (q.kind) params.set("kind", q.kind);
  if (q.result) params.set("result", q.result);
  if (q.trigger) params.set("trigger", q.trigger);
  const s = params.toString();
  return s ? `?${s}` : "";
}

function BackupName(props: { name: string }) {
  return <code>{props.name}</code>;
}

/** What a run did or why it failed, in a sentence. */
function RunDetails(props: { run: RunRecord }) {
  const r = props.run;
  if (!r.ok) {
    return (
      <>
        {r.backup ? (
          <>
            <BackupName name={r.backup} />:{" "}
          </>
        ) : null}
        <span class="error-text">{r.error?.message ?? "failed"}</span>{" "}
        {r.error ? <span class="muted">({r.error.code})</span> : null}
      </>
    );
  }
  if (r.kind === "backup") return r.backup ? <BackupName name={r.backup} /> : <>—</>;
  return (
    <>
      Restored {r.backup ? <BackupName name={r.backup} /> : "a backup"}: {r.tables ?? 0} tables, {r.rows ?? 0} rows
      {r.safetyBackup ? (
        <>
          ; safety backup <BackupName name={r.safetyBackup} />
        </>
      ) : null}
    </>
  );
}

function RunRow(props: { run: RunRecord }) {
  const r = props.run;
  return (
    <tr class={r.ok ? undefined : "failed"}>
      <td data-label="Finished">
        <LocalTime iso={r.finishedAt} />
      </td>
      <th scope="row" data-label="Run">
        {r.kind === "import" ? "Import" : `Backup, ${TRIGGER_LABELS[r.trigger ?? ""] ?? r.trigger}`}
        {r.actor ? <span class="muted"> by {r.actor}</span> : null}
      </th>
      <td data-label="Result">
        {r.ok ? <span class="badge ok">succeeded</span> : <span class="badge failed">failed</span>}
      </td>
      <td data-label="Took" class="num">
        {formatDuration(r.durationMs)}
      </td>
      <td data-label="Size" class="num">
        {r.size !== null ? formatBytes(r.size, "decimal") : <span class="muted">—</span>}
      </td>
      <td data-label="Details">
        <RunDetails run={r} />
      </td>
    </tr>
  );
}

const KIND_OPTIONS: Options = [
  ["", "Backups and imports"],
  ["backup", "Backups"],
  ["import", "Imports"],
];
const TRIGGER_OPTIONS: Options = [["", "Any"], ...BACKUP_TRIGGERS.map((t) => [t, TRIGGER_LABELS[t] ?? t] as const)];
const RESULT_OPTIONS: Options = [
  ["", "Any"],
  ["ok", "Succeeded"],
  ["failed", "Failed"],
];

/** The filter; changing it fetches the table again (and the URL follows, so it can be shared). */
function RunControls(props: { query: RunQuery }) {
  const q = props.query;
  return (
    <form
      id="run-controls"
      class="list-controls"
      action={RUNS_PAGE}
      method="get"
      hx-get={RUNS_PAGE}
      hx-target="#run-table"
      hx-select="#run-table"
      hx-swap="outerHTML"
      hx-push-url="true"
      hx-trigger="change"
      role="search"
      aria-label="Filter runs"
    >
      <FilterSelect id="runs-kind" name="kind" label="Kind" value={q.kind} options={KIND_OPTIONS} />
      <FilterSelect id="runs-trigger" name="trigger" label="Trigger" value={q.trigger} options={TRIGGER_OPTIONS} />
      <FilterSelect id="runs-result" name="result" label="Result" value={q.result} options={RESULT_OPTIONS} />
      <noscript>
        <button type="submit">Apply</button>
      </noscript>
    </form>
  );
}

/** The table of runs, newest first; refreshes itself every minute and after a backup or import. */
function RunTable(props: RunsView) {
  const { runs, kept, query } = props;
  const filtered = Boolean(query.kind || query.result || query.trigger);
  return (
    <div id="run-table" class="table-wrap" hx-get={`${RUNS_PAGE}${queryString(query)}`} hx-select="#run-table" hx-trigger="every 60s" hx-swap="outerHTML">
      {runs.length === 0 ? (
        <p class="empty">
          {filtered ? "No runs match this filter." : "No backup or import has run yet. Runs appear here as they finish."}
        </p>
      ) : (
        <>
          <p class="muted">
            The {runs.length} newest of {kept} recorded run{kept === 1 ? "" : "s"}
            {filtered ? " that match the filter" : ""}.
          </p>
          <table class="backups-table runs-table">
            <caption class="visually-hidden">Backup and import runs, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Finished</th>
                <th scope="col">Run</th>
                <th scope="col">Result</th>
                <th scope="col" class="num">
                  Took
                </th>
                <th scope="col" class="num">
                  Size
                </th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <RunRow run={r} />
              ))}
            </tbody>
          </table>
        </>
      )}
    </div>
  );
}

export function RunsContent(props: RunsView) {
  return (
    <>
      <h1>Run history</h1>
      <p>
        Every backup (scheduled, after a change, manual, upload, before an import or an upgrade) and every import this
        instance ran, with its result, how long it took, its size and, for a failure, why. Kept beside the database, so a
        restore never rewrites it. <a href={BACKUPS_PAGE}>Back to the backups</a>
      </p>
      <RunControls query={props.query} />
      <RunTable {...props} />
    </>
  );
}

export function RunsPage(props: RunsView & { viewer: Viewer; assetVersion: string }) {
  return (
    <Layout title="Run history" current={RUNS_PAGE} viewer={props.viewer} assetVersion={props.assetVersion}>
      <RunsContent runs={props.runs} kept={props.kept} query={props.query} />
    </Layout>
  );
}

