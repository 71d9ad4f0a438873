"use strict";
globalThis.browser ??= globalThis.chrome;

document.getElementById("options").addEventListener("click", (e) => {
  e.preventDefault();
  browser.runtime.openOptionsPage();
  window.close();
});

(async () => {
  const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
  const state = await browser.runtime.sendMessage({ type: "getState", tabId: tab ? tab.id : -1 }).catch(() => null);
  const main = document.querySelector("main");
  const note = document.getElementById("note");
  if (!state || !state.ok) return;
  if (!state.hasToken) {
    note.textContent = "Not connected to a server yet.";
    document.getElementById("options").textContent = "Connect";
    return;
  }
  const t = state.tab;
  if (!t) {
    if (state.pending) note.textContent = `${state.pending} log(s) waiting to be sent.`;
    return;
  }
  document.getElementById("name").textContent = t.name || "";
  const tie = t.tie;
  if (tie && Number.isFinite(Number(tie.score))) {
    main.dataset.band = t.stale ? "stale" : String(tie.band);
    document.getElementById("score").textContent = String(Math.round(Number(tie.score)));
    document.getElementById("band").textContent = `${tie.band} · top ${tie.layer}`;
    note.textContent = t.stale ? "Last known score (server unreachable)." : "";
  } else {
    note.textContent = t.state === "unknown" ? "Not in your ledger yet." : t.state === "offline" ? "Server unreachable." : "";
  }
  if (state.pending) note.textContent += ` ${state.pending} log(s) waiting.`;
})();
