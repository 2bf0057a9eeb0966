// Lifeboat's small page script: no inline handlers (the CSP forbids them).
//
// What it does, in order:
// - times in the viewer's own zone, with relative hints that keep up;
// - messages next to the action that caused them (the #status region only announces);
// - focus that never falls to <body> after a row is swapped or removed;
// - never stuck: every htmx request has a failure path (network error, timeout,
//   5xx, 401) that says so next to the action, re-enables the buttons and, when
//   the server cannot be reached, retries with back-off until the page recovers;
// - the backups page: busy state, upload progress and "checking the file…",
//   the restore preview <dialog>, bulk selection.
"use strict";

// ---------------------------------------------------------------------------
// Times

const RELATIVE_UNITS = [
  ["year", 31536000], ["month", 2592000], ["week", 604800],
  ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1],
];
const VIEWER_TZ = (() => {
  try { return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC"; } catch { return "UTC"; }
})();

/** Shows <time datetime data-local> in the viewer's zone, with a relative hint ("4 minutes ago"). */
function formatTimes(root) {
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const scope = root && root.querySelectorAll ? root : document;
  scope.querySelectorAll("time[data-local]").forEach((el) => {
    const d = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(d.getTime())) return;
    el.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    const diff = (d.getTime() - Date.now()) / 1000;
    const [unit, secs] = RELATIVE_UNITS.find(([, s]) => Math.abs(diff) >= s) || ["second", 1];
    const relative = rtf.format(Math.round(diff / secs), unit);
    el.title = `${d.toLocaleString(undefined, { dateStyle: "full", timeStyle: "long" })} (${relative})`;
    const hint = el.parentElement && el.parentElement.querySelector(".relative");
    if (hint) hint.textContent = relative;
  });
  // Where the page says which zone its times are in, name the viewer's.
  scope.querySelectorAll("[data-viewer-tz]").forEach((el) => { el.textContent = VIEWER_TZ; });
}

document.addEventListener("DOMContentLoaded", () => formatTimes(document));
document.addEventListener("htmx:afterSettle", (e) => formatTimes(e.target));
document.addEventListener("htmx:oobAfterSwap", (e) => formatTimes((e.detail && e.detail.target) || document));
// Relative hints keep up with the clock ("just now" becomes "2 minutes ago").
setInterval(() => formatTimes(document), 30_000);

// ---------------------------------------------------------------------------
// Messages next to the action
//
// Responses put their message into the layout's #status region (aria-live: it
// is what screen readers announce). The region itself is not shown; a copy of
// the message appears next to the control that asked — after its table row,
// under its form or buttons — and stays there across the re-renders that
// follow (the table and the status card refresh themselves after a change).

const statusRegion = () => document.getElementById("status");
const escapeCss = (s) => (window.CSS && CSS.escape ? CSS.escape(s) : s.replace(/["\\]/g, "\\$&"));

/**
 * The person's requests now running, by their XMLHttpRequest (the element may
 * be gone from the page when the answer comes: a deleted row), and where each
 * one's message should go.
 */
const actions = new WeakMap();
/** The message shown next to the last action: { node, anchor }. */
let flash = null;

/**
 * Where a message about `elt`'s action goes: after its table row (the row
 * after it when the row is removed), or after the closest element marked
 * `data-flash-anchor` (found again by its value after a re-render).
 */
function anchorOf(elt) {
  const row = elt.closest && elt.closest("tr[id]");
  if (row) {
    let next = row.nextElementSibling;
    while (next && (!next.id || next.classList.contains("flash-row"))) next = next.nextElementSibling;
    let prev = row.previousElementSibling;
    while (prev && (!prev.id || prev.classList.contains("flash-row"))) prev = prev.previousElementSibling;
    const table = row.closest("[id]:not(tr)");
    return { row: row.id, next: next ? next.id : null, prev: prev ? prev.id : null, within: table ? table.id : null, columns: row.children.length };
  }
  const marked = elt.closest && elt.closest("[data-flash-anchor]");
  if (marked) return { key: marked.getAttribute("data-flash-anchor") };
  return { element: (elt.closest && elt.closest(".actions, form")) || elt };
}

function removeFlash() {
  if (flash && flash.node.isConnected) flash.node.remove();
  flash = null;
}

/** Puts the flash where its anchor says; false when the anchor is gone from the page. */
function placeFlash() {
  if (!flash) return false;
  const { node, anchor } = flash;
  if (anchor.row) {
    const row = document.getElementById(anchor.row);
    if (row) { row.after(node); return true; }
    const next = anchor.next && document.getElementById(anchor.next);
    if (next) { next.before(node); return true; }
    const prev = anchor.prev && document.getElementById(anchor.prev);
    if (prev) { prev.after(node); return true; }
    const within = anchor.within && document.getElementById(anchor.within);
    if (within) {
      // No row left to sit next to: the message goes above the table.
      flash.node = flash.box;
      within.prepend(flash.box);
      return true;
    }
    return false;
  }
  if (anchor.key) {
    const el = document.querySelector(`[data-flash-anchor="${escapeCss(anchor.key)}"]`);
    if (el) { el.after(node); return true; }
    return false;
  }
  if (anchor.element && anchor.element.isConnected) { anchor.element.after(node); return true; }
  return false;
}

/**
 * Shows `content` (nodes or text) next to the anchor; `kind` is "success" or
 * "error". `focus`: move focus to it (when the control that had it is gone).
 */
function showFlash(anchor, content, kind, focus) {
  removeFlash();
  const box = document.createElement("div");
  box.className = `alert ${kind} flash`;
  box.tabIndex = -1;
  if (typeof content === "string") box.textContent = content;
  else box.append(...content);
  let node = box;
  if (anchor.row) {
    // Inside a table the message is a row of its own.
    const tr = document.createElement("tr");
    tr.className = "flash-row";
    const td = document.createElement("td");
    td.colSpan = anchor.columns || 1;
    td.append(box);
    tr.append(td);
    node = tr;
  }
  flash = { node, box, anchor };
  if (!placeFlash()) {
    // The anchor is gone: the message stays readable at the top of the content.
    const main = document.getElementById("main");
    if (main) main.prepend(node);
  }
  if (focus) box.focus();
  return box;
}

/** Announces a message through #status (screen readers) — without showing it twice. */
function announce(content, kind) {
  const region = statusRegion();
  if (!region) return;
  const box = document.createElement("div");
  box.className = `alert ${kind}`;
  if (kind === "error") box.setAttribute("role", "alert");
  if (typeof content === "string") box.textContent = content;
  else box.append(...content.map((n) => n.cloneNode(true)));
  region.replaceChildren(box);
}

/** Copies what a response put into #status next to the action (links and all, minus the live-region roles). */
function flashFromStatus(anchor, focus) {
  const region = statusRegion();
  if (!region || !region.firstElementChild) return null;
  const source = region.firstElementChild;
  const kind = source.classList.contains("error") ? "error" : "success";
  const copy = [...source.childNodes].map((n) => n.cloneNode(true));
  return showFlash(anchor, copy, kind, focus);
}

// Keep the flash in place when what it sits next to is re-rendered.
document.addEventListener("htmx:afterSettle", () => {
  if (flash && !flash.node.isConnected) placeFlash();
});

// ---------------------------------------------------------------------------
// Focus that survives swaps

/** What had focus before a swap, to find its twin in the new content. */
let focusBeforeSwap = null;

function describeFocus() {
  const active = document.activeElement;
  if (!active || active === document.body) return null;
  const row = active.closest && active.closest("tr[id]");
  return {
    id: active.id || null,
    row: row ? row.id : null,
    action: active.getAttribute("data-action"),
    name: active.getAttribute("name"),
  };
}

function restoreFocus(saved) {
  if (!saved) return false;
  const active = document.activeElement;
  if (active && active !== document.body && active.isConnected) return true;
  let el = saved.id ? document.getElementById(saved.id) : null;
  if (!el && saved.row) {
    const row = document.getElementById(saved.row);
    if (row && saved.action) el = row.querySelector(`[data-action="${escapeCss(saved.action)}"]`);
  }
  if (el && !el.disabled) { el.focus(); return true; }
  if (el && el.disabled && saved.row) {
    const row = document.getElementById(saved.row);
    const first = row && row.querySelector("button:not([disabled]), a[href], input:not([disabled])");
    if (first) { first.focus(); return true; }
  }
  return false;
}

document.addEventListener("htmx:beforeSwap", () => { focusBeforeSwap = focusBeforeSwap || describeFocus(); });
document.addEventListener("htmx:afterSettle", () => {
  const saved = focusBeforeSwap;
  focusBeforeSwap = null;
  if (!restoreFocus(saved) && saved && flash && flash.node.isConnected) flash.box.focus();
});

// ---------------------------------------------------------------------------
// Never stuck: failures of every kind, and recovering when the server is back

/** Requests that a person started (not polls or self-refreshes). */
function isAction(elt) {
  if (!elt || !elt.tagName) return false;
  if (elt.tagName === "BUTTON" || elt.tagName === "FORM" || elt.tagName === "INPUT" || elt.tagName === "A") return true;
  return elt.hasAttribute("data-action");
}

const connection = {
  /** Signed out (a 401): background requests stop until the person signs in again. */
  signedOut: false,
  /** Retrying to reach the server. */
  offline: false,
  delay: 2000,
  timer: null,
  nextAt: 0,
  countdown: null,
};
const MAX_RETRY_MS = 30_000;

function signInLink() {
  const a = document.createElement("a");
  a.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
  a.textContent = "Sign in again";
  return a;
}

/** The connection notice at the top of the page while the server cannot be reached. */
function connectionNotice() {
  let box = document.getElementById("connection");
  if (!box) {
    box = document.createElement("div");
    box.id = "connection";
    box.className = "alert error connection";
    const main = document.getElementById("main");
    (main || document.body).prepend(box);
  }
  return box;
}

function renderConnectionNotice() {
  if (!connection.offline) {
    const box = document.getElementById("connection");
    if (box) box.remove();
    return;
  }
  const box = connectionNotice();
  const seconds = Math.max(0, Math.ceil((connection.nextAt - Date.now()) / 1000));
  let text = box.querySelector(".connection-text");
  let button = box.querySelector("button");
  if (!text) {
    text = document.createElement("span");
    text.className = "connection-text";
    button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = "Try now";
    button.addEventListener("click", () => probe());
    box.replaceChildren(text, " ", button);
  }
  text.textContent = seconds > 0
    ? `Lifeboat cannot be reached. Trying again in ${seconds} s…`
    : "Lifeboat cannot be reached. Trying again…";
}

/** Starts retrying with back-off (2 s, 4 s, 8 s … 30 s) until the server answers. */
function goOffline() {
  if (connection.offline) return;
  connection.offline = true;
  connection.delay = 2000;
  scheduleProbe();
  connection.countdown = setInterval(renderConnectionNotice, 1000);
}

function scheduleProbe() {
  clearTimeout(connection.timer);
  connection.nextAt = Date.now() + connection.delay;
  connection.timer = setTimeout(probe, connection.delay);
  renderConnectionNotice();
}

/** One attempt to reach the server; on success the page refreshes what it shows. */
async function probe() {
  clearTimeout(connection.timer);
  connection.nextAt = 0;
  renderConnectionNotice();
  let ok = false;
  try {
    const res = await fetch("/healthz", { cache: "no-store", credentials: "same-origin" });
    ok = res.status < 500;
  } catch {
    ok = false;
  }
  if (!connection.offline) return;
  if (!ok) {
    connection.delay = Math.min(connection.delay * 2, MAX_RETRY_MS);
    scheduleProbe();
    return;
  }
  connection.offline = false;
  clearInterval(connection.countdown);
  renderConnectionNotice();
  announce("Connected to Lifeboat again.", "success");
  // Everything the page shows may be out of date: the status card and the table fetch themselves again.
  refreshBackups(true);
}

/** Asks the backups page's status card and table to fetch themselves again. */
function refreshBackups(wasRunning) {
  const card = document.getElementById("backup-status");
  if (card && wasRunning) {
    // The server then also refreshes the table once it sees nothing runs (the card's own rule).
    card.setAttribute("hx-headers", JSON.stringify({ "X-Lifeboat-Was-Running": "true" }));
  }
  document.body.dispatchEvent(new CustomEvent("backups-changed"));
}

/** The buttons a failed request may have left disabled work again; the server's next status card decides after. */
function releaseButtons() {
  const card = document.getElementById("backup-status");
  if (card) card.setAttribute("data-busy", "false");
  document.querySelectorAll("button[data-conflicts]").forEach((b) => { b.disabled = false; });
  const activity = document.getElementById("activity");
  if (activity && activity.classList.contains("running")) {
    activity.classList.remove("running");
    const note = document.createElement("span");
    note.className = "muted";
    note.textContent = "Not known right now: the server did not answer.";
    activity.replaceChildren(note);
  }
}

// Background requests wait while the server is unreachable or the session is gone
// (the retries above bring the page back); the person's own actions always go out.
document.addEventListener("htmx:beforeRequest", (e) => {
  const elt = e.detail && e.detail.elt;
  if (isAction(elt)) {
    if (e.detail.xhr) actions.set(e.detail.xhr, { elt, anchor: anchorOf(elt), failure: null });
    return;
  }
  if (connection.offline || connection.signedOut) e.preventDefault();
});

// A 401 (the session ended) or a 5xx that is not Lifeboat's own error page (a
// proxy's "502 Bad Gateway") is not swapped into the page: it is said in words.
document.addEventListener("htmx:beforeOnLoad", (e) => {
  const xhr = e.detail && e.detail.xhr;
  if (!xhr) return;
  const record = actions.get(xhr) || { elt: e.detail.elt, anchor: null, failure: null };
  // Lifeboat's own refusals name where they go (HX-Retarget: a wrong password at sign-in); a
  // 401 without that is the session ending (the server also asks to redirect to the sign-in page).
  if (xhr.status === 401 && !xhr.getResponseHeader("HX-Retarget")) {
    connection.signedOut = true;
    record.failure = { kind: "signed-out" };
  } else if (xhr.status >= 500 && !xhr.getResponseHeader("HX-Retarget")) {
    record.failure = { kind: "server", status: xhr.status, statusText: xhr.statusText };
  } else {
    return;
  }
  actions.set(xhr, record);
  e.preventDefault();
});

document.addEventListener("htmx:timeout", (e) => {
  const xhr = e.detail && e.detail.xhr;
  if (!xhr) return;
  const record = actions.get(xhr) || { elt: e.detail.elt, anchor: null, failure: null };
  record.failure = { kind: "timeout" };
  actions.set(xhr, record);
});

document.addEventListener("htmx:afterRequest", (e) => {
  const elt = e.detail && e.detail.elt;
  const xhr = e.detail && e.detail.xhr;
  // htmx:sendError / htmx:timeout fire right after this event: decide once they have.
  setTimeout(() => finishRequest(elt, xhr, e.detail), 0);
});

function failureMessage(failure, xhr) {
  if (failure && failure.kind === "signed-out") {
    return ["Your session has ended, so nothing was done. ", signInLink(), " to continue."];
  }
  if (failure && failure.kind === "timeout") {
    return "Lifeboat did not answer in time. The page will show what happened once it answers again.";
  }
  if (failure && failure.kind === "server") {
    return `The server answered ${failure.status}${failure.statusText ? ` ${failure.statusText}` : ""} instead of Lifeboat. The page will try again by itself.`;
  }
  if (!xhr || xhr.status === 0) {
    return "Lifeboat could not be reached, so the page does not know whether this was done. It will show what happened once the server answers again.";
  }
  return null;
}

function finishRequest(eventElt, xhr, detail) {
  const record = xhr ? actions.get(xhr) : null;
  if (record) actions.delete(xhr);
  // The element that asked (htmx names its closest remaining parent when it was swapped away).
  const elt = record ? record.elt : eventElt;
  const status = xhr ? xhr.status : 0;
  const failure = record ? record.failure : null;
  const networkFailure = status === 0 || (failure && failure.kind !== "signed-out");
  if (!detail.successful && (networkFailure || (failure && failure.kind === "signed-out"))) {
    const message = failureMessage(failure, xhr);
    if (message) {
      releaseButtons();
      if (!inDialog(elt)) {
        const anchor = (record && record.anchor) || backgroundAnchor();
        const box = showFlash(anchor, typeof message === "string" ? message : message, "error", false);
        if (box) announce([...box.childNodes], "error");
      } else {
        showDialogError(message);
      }
      if (networkFailure) goOffline();
      return;
    }
  }
  if (connection.signedOut && status > 0 && status !== 401) connection.signedOut = false;
  if (!record || inDialog(elt)) return;
  // What the response said (success or Lifeboat's own error) goes next to the action.
  const focusFlash = !elt.isConnected && !(record.anchor && record.anchor.row && document.getElementById(record.anchor.row));
  flashFromStatus(record.anchor, focusFlash && document.activeElement === document.body);
}

/** Where a failure of a background request (a poll) is said: under the status card's heading, or at the top. */
function backgroundAnchor() {
  if (document.querySelector('[data-flash-anchor="backup-now"]')) return { key: "backup-now" };
  return { element: document.getElementById("main") ? document.getElementById("main").firstElementChild : document.body };
}

// Every new action replaces the last one's message.
document.addEventListener("htmx:beforeRequest", (e) => {
  const elt = e.detail && e.detail.elt;
  if (!isAction(elt)) return;
  removeFlash();
  const region = statusRegion();
  if (region) region.replaceChildren();
});

// ---------------------------------------------------------------------------
// Sign-in: after a refused attempt, focus goes back to the password field.

document.addEventListener("htmx:afterSettle", (e) => {
  const target = e.detail && e.detail.target;
  if (!target || target.id !== "login-error" || !target.querySelector(".alert")) return;
  const password = document.getElementById("login-password");
  if (password) {
    password.value = "";
    password.setAttribute("aria-describedby", "login-error");
    password.focus();
  }
});

// ---------------------------------------------------------------------------
// Backups page: busy state and upload progress

// While a request that starts a backup or an import (or an upload) is on its
// way, say so and disable the buttons that would conflict with it. The server
// renders them disabled too whenever its engine is busy, so the page stays
// right after the status card or the table refreshes.
document.addEventListener("htmx:beforeRequest", (e) => {
  const elt = e.detail && e.detail.elt;
  if (e.defaultPrevented || !elt || !elt.hasAttribute || !elt.hasAttribute("data-busy-label")) return;
  document.querySelectorAll("button[data-conflicts]").forEach((b) => { b.disabled = true; });
  const card = document.getElementById("backup-status");
  if (card) card.setAttribute("data-busy", "true");
  const activity = document.getElementById("activity");
  if (activity) {
    activity.classList.add("running");
    activity.replaceChildren();
    const badge = document.createElement("span");
    badge.className = "badge running";
    badge.textContent = "running";
    activity.append(badge, " ", elt.getAttribute("data-busy-label"));
  }
  const form = elt.closest && elt.closest("#upload-form");
  const progress = form && form.querySelector("progress");
  if (progress) {
    progress.hidden = false;
    progress.dataset.sent = "false";
    progress.removeAttribute("value"); // indeterminate until the first progress event
    setUploadPhase("Uploading…");
  }
});

/** The upload's phase in words (announced): uploading, then checking the file. */
function setUploadPhase(text) {
  const phase = document.getElementById("upload-phase");
  if (phase) phase.textContent = text;
}

// Upload progress: htmx 2 sends with XMLHttpRequest, which reports upload progress.
// htmx reports the response's download progress under the same event name, after
// the upload has completed: once the body is sent, later events are ignored. Once
// every byte is sent the server reads the file through: "Checking the file…".
document.addEventListener("htmx:xhr:progress", (e) => {
  const elt = e.target;
  const form = elt && elt.closest && elt.closest("#upload-form");
  const progress = form && form.querySelector("progress");
  if (!progress || !e.detail || !e.detail.lengthComputable || progress.dataset.sent === "true") return;
  progress.max = e.detail.total;
  progress.value = e.detail.loaded;
  if (e.detail.loaded >= e.detail.total) {
    progress.dataset.sent = "true";
    setUploadPhase("Checking the file…");
  }
});

document.addEventListener("htmx:afterRequest", (e) => {
  const elt = e.detail && e.detail.elt;
  if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-busy-label")) return;
  const form = elt.closest && elt.closest("#upload-form");
  const progress = form && form.querySelector("progress");
  if (progress) progress.hidden = true;
  if (form) setUploadPhase("");
  if (form && e.detail.successful) form.reset();
  // A refused request changed nothing on the server, so no refresh was announced:
  // ask for one, which also re-enables the buttons if nothing runs.
  if (!e.detail.successful && e.detail.xhr && e.detail.xhr.status > 0 && e.detail.xhr.status !== 401) {
    document.body.dispatchEvent(new CustomEvent("backups-changed"));
  }
});

// The status card is the server's word on whether a backup or import runs: each
// time it is (re)rendered, the conflicting buttons follow it — re-enabled after a
// refused request, kept disabled while another job runs.
function syncConflictingButtons() {
  const card = document.getElementById("backup-status");
  if (!card) return;
  const busy = card.getAttribute("data-busy") === "true";
  document.querySelectorAll("button[data-conflicts]").forEach((b) => { b.disabled = busy; });
}
document.addEventListener("htmx:afterSettle", syncConflictingButtons);

// htmx checks the upload form (hx-validate) but does not say what is missing:
// let the browser point at the field (focus and its own message).
document.addEventListener("htmx:validation:halted", (e) => {
  const form = e.target && e.target.closest && e.target.closest("form");
  if (form) form.reportValidity();
});

// The upload form's own result area says what the upload did; clear it for a new one.
document.addEventListener("htmx:beforeRequest", (e) => {
  const elt = e.detail && e.detail.elt;
  if (!elt || elt.tagName !== "BUTTON" || !elt.closest) return;
  const area = elt.closest("#upload-form") ? document.getElementById("upload-result") : null;
  if (area) area.replaceChildren();
});

// ---------------------------------------------------------------------------
// The restore preview: an in-page <dialog>

function previewDialog() {
  return document.getElementById("preview-dialog");
}
function inDialog(elt) {
  return !!(elt && elt.closest && elt.closest("#preview-dialog"));
}
let previewOpener = null;

function showDialogError(message) {
  const area = document.getElementById("preview-error");
  if (!area) return;
  const box = document.createElement("div");
  box.className = "alert error";
  box.setAttribute("role", "alert");
  if (typeof message === "string") box.textContent = message;
  else box.append(...message);
  area.replaceChildren(box);
}

/**
 * Opens the preview of backup `name` (what it holds next to the live
 * database) in the dialog; `purpose` "undo" words it as undoing an import.
 * The import result lands in `resultTarget` once confirmed there.
 */
function openPreview(name, purpose, resultTarget, opener) {
  const dialog = previewDialog();
  if (!dialog || !window.htmx) return;
  previewOpener = opener || document.activeElement;
  dialog.setAttribute("hx-target", resultTarget || "#backup-result");
  const body = document.getElementById("preview-body");
  const loading = document.createElement("p");
  loading.className = "muted";
  loading.setAttribute("role", "status");
  loading.textContent = `Reading ${name} and comparing it with the live database…`;
  const heading = document.createElement("h2");
  heading.id = "preview-title";
  heading.textContent = purpose === "undo" ? "Undo the import?" : `Restore ${name}?`;
  const error = document.createElement("div");
  error.id = "preview-error";
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "secondary";
  cancel.setAttribute("data-close-dialog", "");
  cancel.textContent = "Cancel";
  body.replaceChildren(heading, loading, error, cancel);
  if (!dialog.open) dialog.showModal();
  cancel.focus();
  const url = `/admin/backups/${encodeURIComponent(name)}/preview${purpose === "undo" ? "?purpose=undo" : ""}`;
  htmx.ajax("GET", url, { source: body, target: "#preview-body", swap: "innerHTML", headers: { "HX-Error-Target": "#preview-error" } });
}

function closePreview() {
  const dialog = previewDialog();
  if (dialog && dialog.open) dialog.close();
}

document.addEventListener("click", (e) => {
  const opener = e.target && e.target.closest && e.target.closest("[data-preview]");
  if (opener) {
    e.preventDefault();
    // Undo answers where the import's result is shown.
    const target = opener.closest("#upload-result") ? "#upload-result" : opener.getAttribute("data-result-target");
    openPreview(opener.getAttribute("data-preview"), opener.getAttribute("data-purpose"), target, opener);
    return;
  }
  const closer = e.target && e.target.closest && e.target.closest("[data-close-dialog]");
  if (closer) closePreview();
});

// Back to where the person was when the dialog closes (Esc, Cancel, or after the import).
document.addEventListener("close", (e) => {
  if (!e.target || e.target.id !== "preview-dialog") return;
  const opener = previewOpener;
  previewOpener = null;
  if (e.target.dataset.closedBy === "import") {
    delete e.target.dataset.closedBy;
    return;
  }
  if (opener && opener.isConnected && !opener.disabled) opener.focus();
}, true);

// The preview arrived: focus its safe choice (Cancel), never the import.
document.addEventListener("htmx:afterSettle", (e) => {
  const target = e.detail && e.detail.target;
  if (!target || target.id !== "preview-body") return;
  const cancel = target.querySelector("[data-close-dialog]");
  if (cancel) cancel.focus();
});

// An upload stored for "Store and import" opens the preview of the stored copy (HX-Trigger).
document.addEventListener("open-preview", (e) => {
  const name = e.detail && (e.detail.name || e.detail.value);
  if (name) openPreview(name, null, "#upload-result", document.getElementById("upload-file"));
});

// The import confirmed in the dialog finished: close it and show the result where it belongs.
document.addEventListener("htmx:afterRequest", (e) => {
  const elt = e.detail && e.detail.elt;
  if (!inDialog(elt) || !elt.hasAttribute("data-confirm-import") || !e.detail.successful) return;
  const dialog = previewDialog();
  if (dialog) dialog.dataset.closedBy = "import";
  closePreview();
  const result = document.querySelector(`${dialog.getAttribute("hx-target")} .import-result`);
  if (result) {
    result.tabIndex = -1;
    result.focus();
    result.scrollIntoView({ block: "nearest" });
  }
});

// ---------------------------------------------------------------------------
// Backups list: the refresh keeps what was shown, and bulk selection

// The table refreshes itself after every change: keep as many rows as "Load more" had shown.
document.addEventListener("htmx:configRequest", (e) => {
  const elt = e.detail && e.detail.elt;
  if (!elt || elt.id !== "backup-table") return;
  const shown = elt.querySelectorAll("tr[data-name]").length;
  if (shown > 25) e.detail.parameters.limit = String(Math.min(shown, 1000));
});

function selectedBoxes() {
  return [...document.querySelectorAll('#backup-table input[name="names"]:checked')];
}

/** The bulk bar says how many are selected; Delete works only with a selection. */
function syncSelection() {
  const count = selectedBoxes().length;
  const label = document.getElementById("selected-count");
  if (label) label.textContent = count === 0 ? "None selected" : `${count} selected`;
  const del = document.querySelector("[data-bulk-delete]");
  if (del) {
    del.disabled = count === 0;
    del.textContent = count === 0 ? "Delete selected" : `Delete ${count} selected`;
  }
}

document.addEventListener("change", (e) => {
  if (e.target && e.target.matches && e.target.matches('#backup-table input[name="names"]')) syncSelection();
});
document.addEventListener("click", (e) => {
  const all = e.target && e.target.closest && e.target.closest("[data-select-all]");
  if (!all) return;
  const boxes = [...document.querySelectorAll('#backup-table input[name="names"]:not(:disabled)')];
  const every = boxes.length > 0 && boxes.every((b) => b.checked);
  boxes.forEach((b) => { b.checked = !every; });
  all.textContent = every ? "Select all shown" : "Select none";
  syncSelection();
});
document.addEventListener("htmx:afterSettle", syncSelection);

// One confirmation for the whole selection, naming how many (htmx's own text cannot count).
document.addEventListener("htmx:confirm", (e) => {
  const elt = e.detail && e.detail.elt;
  if (!elt || elt.id !== "bulk-form") return;
  e.preventDefault();
  const boxes = selectedBoxes();
  if (boxes.length === 0) return;
  const names = boxes.map((b) => b.value);
  const list = names.length <= 5 ? `\n\n${names.join("\n")}` : "";
  // With off-site storage on, the bar's "which copies" choice says what goes.
  const scope = elt.querySelector('select[name="from"]');
  const what = scope && scope.selectedOptions[0] ? scope.selectedOptions[0].dataset.confirm : "The files are removed from the backup folder";
  if (window.confirm(`Delete ${names.length} backup${names.length === 1 ? "" : "s"}? ${what}; this cannot be undone.${list}`)) {
    e.detail.issueRequest(true);
  }
});
