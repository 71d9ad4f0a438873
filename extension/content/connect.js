"use strict";
// On the server's /connect page: tell the page the extension is here, and on the button's click
// hand its one-time pairing code to the background, which pairs this browser with the server.
(() => {
  globalThis.browser ??= globalThis.chrome;
  document.documentElement.dataset.strongtiesExtension = "present";

  function setStatus(text) {
    const el = document.querySelector("[data-status]");
    if (!el) return;
    el.setAttribute("data-status", text);
    el.textContent = text;
  }

  document.addEventListener(
    "click",
    async (e) => {
      const button = e.target instanceof Element ? e.target.closest('button[data-action="connect"]') : null;
      if (!button || button.dataset.strongtiesBusy) return;
      const code = (button.getAttribute("data-pairing-code") || "").trim();
      if (!code) return setStatus("failed: no pairing code on this page (reload it)");
      button.dataset.strongtiesBusy = "1";
      setStatus("connecting");
      let res = null;
      try {
        res = await browser.runtime.sendMessage({ type: "connect", server: location.origin, code });
      } catch (err) {
        res = { ok: false, error: String((err && err.message) || err) };
      }
      delete button.dataset.strongtiesBusy;
      setStatus(res && res.ok ? "connected" : `failed: ${(res && res.error) || "no answer from the extension"}`);
    },
    true,
  );
})();
