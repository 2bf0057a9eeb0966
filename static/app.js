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
