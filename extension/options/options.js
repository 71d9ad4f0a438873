"use strict";
globalThis.browser ??= globalThis.chrome;

const form = document.getElementById("settings");
const statusEl = document.getElementById("status");
const detailEl = document.getElementById("detail");
const permissionEl = document.getElementById("permission");
const DEFAULT_SERVER = "http://localhost:5151";
let grantedPattern = null; // the server pattern known to be granted (checked ahead of the click)
let hasToken = false;
const touched = new Set(); // fields the user changed before the stored values arrived
form.addEventListener("input", (e) => touched.add(e.target.name));
form.addEventListener("change", (e) => touched.add(e.target.name));

function send(msg) {
  return browser.runtime.sendMessage(msg).catch((err) => ({ ok: false, error: String(err.message || err) }));
}

function setStatus(kind, text, detail = "") {
  statusEl.setAttribute("data-status", kind);
  statusEl.textContent = text;
  detailEl.textContent = detail;
}

// Same rules as the background's normaliseServer, for the permission pattern only.
function serverPattern(value) {
  let text = (value || "").trim() || DEFAULT_SERVER;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `http://${text}`;
  try {
    const u = new URL(text);
    return /^https?:$/.test(u.protocol) ? { origin: u.origin, pattern: `${u.protocol}//${u.hostname}/*` } : null;
  } catch {
    return null;
  }
}

async function checkPermission() {
  const target = serverPattern(form.server.value);
  if (!target) return;
  const ok = await browser.permissions.contains({ origins: [target.pattern] }).catch(() => false);
  grantedPattern = ok ? target.pattern : null;
  permissionEl.hidden = ok;
  document.getElementById("connect-link").href = `${target.origin}/connect`;
}

// Must run inside the click: browsers only show the prompt for a user gesture.
function requestPermission() {
  const target = serverPattern(form.server.value);
  if (!target || grantedPattern === target.pattern) return Promise.resolve(true);
  return browser.permissions
    .request({ origins: [target.pattern] })
    .then((ok) => {
      if (ok) grantedPattern = target.pattern;
      permissionEl.hidden = ok;
      return ok;
    })
    .catch(() => false);
}

function prefs() {
  return {
    server: form.server.value,
    defaultKind: form.default_kind.value,
    sites: { linkedin: form.site_linkedin.checked, gmail: form.site_gmail.checked, outlook: form.site_outlook.checked },
  };
}

function showResult(res, action) {
  if (res && res.ok) {
    const device = res.device && res.device.name ? ` as “${res.device.name}”` : "";
    const version = res.version ? ` · server ${res.version}` : "";
    setStatus("connected", "connected", `${res.server || form.server.value}${device}${version}`);
  } else {
    const error = (res && res.error) || "No answer from the extension";
    setStatus("error", error, action === "test" && res && res.reachable === false ? "Is the server running? Start it with “strongties serve”." : "");
  }
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  // The permission prompt (if any) runs alongside: the API also answers extension origins (CORS).
  requestPermission();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  setStatus("working", "Connecting…");
  const code = form.code.value.trim();
  const token = form.token.value.trim();
  const res = await send({ type: "saveSettings", settings: prefs(), code, token });
  button.disabled = false;
  if (res && res.ok) {
    form.code.value = "";
    form.token.value = "";
  }
  showResult(res, "save");
  await refresh();
});

form.querySelector('[data-action="test"]').addEventListener("click", async () => {
  requestPermission();
  setStatus("working", "Testing…");
  showResult(await send({ type: "testConnection", server: form.server.value, token: form.token.value.trim() }), "test");
});

permissionEl.querySelector("button").addEventListener("click", () => requestPermission());

form.querySelector('[data-action="flush"]').addEventListener("click", async () => {
  const res = await send({ type: "flushOutbox" });
  document.getElementById("queue").textContent = res && typeof res.delivered === "number" ? `Sent ${res.delivered}; ${res.pending} still waiting.` : "Could not send now.";
});

form.querySelector('[data-action="disconnect"]').addEventListener("click", async () => {
  await send({ type: "disconnect" });
  setStatus("", "Disconnected. Pair again to use Strong Ties in this browser.");
  await refresh();
});

for (const name of ["default_kind", "site_linkedin", "site_gmail", "site_outlook"]) {
  form.elements[name].addEventListener("change", () => send({ type: "savePrefs", settings: prefs() }));
}
form.server.addEventListener("input", () => {
  clearTimeout(form.server.timer);
  form.server.timer = setTimeout(checkPermission, 250);
});

async function refresh() {
  const state = await send({ type: "getState" });
  if (!state || !state.ok) return;
  hasToken = state.hasToken;
  form.token.placeholder = hasToken ? "•••••••• (saved; leave empty to keep)" : "from “strongties token create”";
  const device = state.settings.deviceName;
  document.getElementById("device").textContent = hasToken
    ? `Connected to ${state.settings.server}${device ? ` as “${device}”` : ""}.`
    : "Not connected yet.";
  const failed = state.failed.length ? ` ${state.failed.length} recent log(s) were refused by the server.` : "";
  document.getElementById("queue").textContent = `${state.pending} log(s) waiting to be sent.${failed}`;
  return state;
}

(async () => {
  const state = await refresh();
  if (state) {
    if (!touched.has("server")) form.server.value = state.settings.server;
    if (!touched.has("default_kind")) form.default_kind.value = state.settings.defaultKind;
    for (const site of ["linkedin", "gmail", "outlook"]) {
      if (!touched.has(`site_${site}`)) form.elements[`site_${site}`].checked = state.settings.sites[site] !== false;
    }
  }
  await checkPermission();
  if (state && state.hasToken && statusEl.getAttribute("data-status") === "") {
    const res = await send({ type: "testConnection" });
    if (statusEl.getAttribute("data-status") === "") showResult(res, "test");
  }
})();
