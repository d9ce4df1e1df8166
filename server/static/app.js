// Steward: small progressive enhancements. Every page works without this file.
// Loaded without `defer`, so the theme is applied before the page paints; the rest waits
// for the document.
"use strict";
applyTheme(storedTheme());
// Controls that need this script (`.js` in style.css) show only when it runs.
document.documentElement.classList.add("js");
if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", enhance);
} else {
  enhance();
}

function enhance() {
  menu();
  themeSwitch();
  queueKeys();
  liveSearch();
}

// The theme: "light" or "dark" as chosen in the header, kept in this browser's local
// storage; none (the system's setting) by default.
function storedTheme() {
  try { return localStorage.getItem("steward-theme") || "system"; } catch (_) { return "system"; }
}

function applyTheme(theme) {
  if (theme === "light" || theme === "dark") {
    document.documentElement.dataset.theme = theme;
  } else {
    delete document.documentElement.dataset.theme;
  }
}

function themeSwitch() {
  const select = document.getElementById("theme");
  if (!select) return;
  select.value = storedTheme();
  select.closest(".theme").hidden = false;
  select.addEventListener("change", function () {
    try {
      if (select.value === "system") localStorage.removeItem("steward-theme");
      else localStorage.setItem("steward-theme", select.value);
    } catch (_) { /* storage off: the choice lasts for this page */ }
    applyTheme(select.value);
  });
}

// The header's Menu button (shown on narrow screens only) folds the navigation away.
function menu() {
  const button = document.querySelector(".top .menu-toggle");
  if (!button) return;
  button.addEventListener("click", function () {
    const open = button.closest(".top").classList.toggle("open");
    button.setAttribute("aria-expanded", String(open));
  });
}

// Search as you type: fetch the result page and swap the main content, keeping focus.
function liveSearch() {
  const input = document.querySelector("input[data-live-search]");
  if (!input || !window.fetch) return;
  let timer = null;
  let seq = 0;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(async function () {
      const mine = ++seq;
      const url = new URL(input.form.action, location.href);
      url.searchParams.set("q", input.value);
      try {
        const resp = await fetch(url, { headers: { "Accept": "text/html" } });
        if (!resp.ok || mine !== seq) return;
        const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
        const fresh = doc.querySelector("main");
        const current = document.querySelector("main");
        if (!fresh || !current) return;
        const pos = input.selectionStart;
        for (const el of Array.from(current.children)) {
          if (!el.contains(input)) el.remove();
        }
        for (const el of Array.from(fresh.children)) {
          if (!el.querySelector("input[data-live-search]")) current.appendChild(el);
        }
        history.replaceState(null, "", url);
        input.setSelectionRange(pos, pos);
      } catch (_) { /* offline: the form still works */ }
    }, 200);
  });
}

// The technician's queue and the asset list from the keyboard: j/k move between rows,
// o (or Enter on the row's link) opens one, x ticks its box for "with selected", / goes
// to the search box.
function queueKeys() {
  if (!document.querySelector("table[data-queue]")) return;
  // Read afresh on each key: search as you type swaps the table.
  let rows = [];
  let at = -1;
  function move(to) {
    if (!rows.length) return;
    if (at >= 0) rows[at].classList.remove("kb-current");
    at = Math.max(0, Math.min(rows.length - 1, to));
    rows[at].classList.add("kb-current");
    const link = rows[at].querySelector("a");
    if (link) link.focus();
  }
  const help = keysHelp();
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    const now = Array.from(document.querySelectorAll("table[data-queue] tbody tr"));
    if (now.length !== rows.length || now.some((r, i) => r !== rows[i])) { rows = now; at = -1; }
    if (e.key === "j") { move(at + 1); e.preventDefault(); }
    else if (e.key === "k") { move(at - 1); e.preventDefault(); }
    else if (e.key === "o" && at >= 0) {
      const link = rows[at].querySelector("a");
      if (link) { location.href = link.href; e.preventDefault(); }
    } else if (e.key === "x" && at >= 0) {
      const box = rows[at].querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; e.preventDefault(); }
    } else if (e.key === "?") {
      help(); e.preventDefault();
    } else if (e.key === "/") {
      const search = document.querySelector("form.search input[type=search]");
      if (search) { search.focus(); e.preventDefault(); }
    }
  });
}

// The shortcuts' help (`?`, or its button): a modal dialog, so the focus stays inside it;
// Esc or Close shuts it and the focus goes back where it was. Looked up when used, as
// search as you type swaps the page's content.
function keysHelp() {
  let before = null;
  function open() {
    const dialog = document.getElementById("keys-help");
    if (!dialog || !dialog.showModal || dialog.open) return;
    before = document.activeElement;
    dialog.showModal();
    dialog.querySelector("[data-close]").focus();
  }
  document.addEventListener("click", function (e) {
    const t = e.target.closest && e.target.closest("[data-keys-help], #keys-help [data-close]");
    if (!t) return;
    if (t.matches("[data-close]")) t.closest("dialog").close();
    else open();
  });
  // `close` does not bubble: listen while it goes down.
  document.addEventListener("close", function (e) {
    if (e.target.id === "keys-help" && before && before.isConnected) before.focus();
  }, true);
  return open;
}
