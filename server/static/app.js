// Steward: small progressive enhancements. Every page works without this file.
"use strict";
(function () {
  // Search as you type: fetch the result page and swap the main content, keeping focus.
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
})();
