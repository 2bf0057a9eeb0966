// Lifeboat's small page script: no inline handlers (the CSP forbids them).
"use strict";

// Show <time datetime="..."> in the viewer's own time zone, with a relative hint.
function formatTimes(root) {
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  const units = [
    ["year", 31536000], ["month", 2592000], ["week", 604800],
    ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1],
  ];
  root.querySelectorAll("time[data-local]").forEach((el) => {
    const d = new Date(el.getAttribute("datetime"));
    if (Number.isNaN(d.getTime())) return;
    el.textContent = d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
    const diff = (d.getTime() - Date.now()) / 1000;
    const [unit, secs] = units.find(([, s]) => Math.abs(diff) >= s) || ["second", 1];
    el.title = rtf.format(Math.round(diff / secs), unit);
    const hint = el.parentElement && el.parentElement.querySelector(".relative");
    if (hint) hint.textContent = el.title;
  });
}

document.addEventListener("DOMContentLoaded", () => formatTimes(document));
document.addEventListener("htmx:afterSettle", (e) => formatTimes(e.target));

// Out-of-band swaps (status messages, the status card) get their times formatted too.
document.addEventListener("htmx:oobAfterSwap", (e) => formatTimes((e.detail && e.detail.target) || document));

// Backups page: while a request that starts a backup or an import (or an upload)
// is on its way, say so and disable the buttons that would conflict with it.
// The server renders them disabled too whenever its engine is busy, so the page
// stays right after the status card or the table refreshes.
document.addEventListener("htmx:beforeRequest", (e) => {
  const elt = e.detail && e.detail.elt;
  if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-busy-label")) return;
  document.querySelectorAll("button[data-conflicts]").forEach((b) => { b.disabled = true; });
  // Until the server's next status card says otherwise, the page counts as busy.
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
  }
});

// Upload progress: htmx 2 sends with XMLHttpRequest, which reports upload progress.
// htmx reports the response's download progress under the same event name, after
// the upload has completed: once the body is sent, later events are ignored.
document.addEventListener("htmx:xhr:progress", (e) => {
  const elt = e.target;
  const form = elt && elt.closest && elt.closest("#upload-form");
  const progress = form && form.querySelector("progress");
  if (!progress || !e.detail || !e.detail.lengthComputable || progress.dataset.sent === "true") return;
  progress.max = e.detail.total;
  progress.value = e.detail.loaded;
  if (e.detail.loaded >= e.detail.total) progress.dataset.sent = "true";
});

document.addEventListener("htmx:afterRequest", (e) => {
  const elt = e.detail && e.detail.elt;
  if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-busy-label")) return;
  const form = elt.closest && elt.closest("#upload-form");
  const progress = form && form.querySelector("progress");
  if (progress) progress.hidden = true;
  if (form && e.detail.successful) form.reset();
  // A refused request changed nothing on the server, so no refresh was announced:
  // ask for one, which also re-enables the buttons if nothing runs.
  if (!e.detail.successful) document.body.dispatchEvent(new CustomEvent("backups-changed"));
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

// A new action replaces the last one's result or error next to it.
document.addEventListener("htmx:beforeRequest", (e) => {
  const elt = e.detail && e.detail.elt;
  if (!elt || elt.tagName !== "BUTTON" || !elt.closest) return;
  const area = elt.closest("#backup-table") ? document.getElementById("backup-result")
    : elt.closest("#upload-form") ? document.getElementById("upload-result") : null;
  if (area) area.replaceChildren();
});
