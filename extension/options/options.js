"use strict";
globalThis.browser ??= globalThis.chrome;

const form = document.getElementById("settings");
const statusEl = document.getElementById("status");
const detailEl = document.getElementById("detail");
const permissionEl = document.getElementById("permission");
const DEFAULT_SERVER = "http://localhost:5151";
let grantedPattern = null; // the server pattern known to be granted (checked ahead of the click)
let hasToken = false;
let latest = 0; // the newest check started: an older one's answer must not replace its status
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

const CONNECT_HINT = "open your server’s Connect page and click Connect, or paste a pairing code (from “strongties pair”) or a device token above.";

// What the person sees for each connection state the background reports: where things stand,
// then what to do next.
function showResult(res) {
  const server = (res && res.server) || form.server.value.trim() || DEFAULT_SERVER;
  const state = res && res.state;
  if (state === "connected") {
    const device = res.device && res.device.name ? ` as “${res.device.name}”` : "";
    const version = res.version ? ` (server ${res.version})` : "";
    if (res.saved === false) setStatus("connected", `This token works: ${server} knows it${device}`, `Click ${hasToken ? "Save" : "Connect"} to use it in this browser${version}.`);
    else setStatus("connected", `Connected to ${server}${device}`, `The card shows on the sites switched on below${version}.`);
  } else if (state === "offline") {
    const waiting = hasToken ? " Logs made meanwhile wait in this browser and are sent once it answers." : "";
    setStatus("offline", `Cannot reach ${server}`, `Is the server running? Start it with “strongties serve”.${waiting}`);
  } else if (state === "revoked") {
    const device = res.deviceName ? ` (“${res.deviceName}”)` : "";
    setStatus("revoked", `Disconnected: ${server} revoked this browser${device}`, `To use Strong Ties here again, ${CONNECT_HINT}`);
  } else if (state === "challenged") {
    // A 401 that did not refuse the token: pairing again would not help, the proxy has to change.
    const kept = hasToken ? "This browser stays connected and its logs wait here. " : "";
    setStatus("error", res.error, `${kept}Ask whoever runs the proxy in front of ${server} to let the extension’s requests to /api/ through: Strong Ties checks them itself.`);
  } else if (state === "unconfigured") {
    setStatus("unconfigured", "Not connected yet", `${res.reachable ? `${server} answers. ` : ""}To connect, ${CONNECT_HINT}`);
  } else if (state === "needsPairing") {
    setStatus("error", res.error, "Or open your server’s Connect page and click Connect.");
  } else if (state === "refused") {
    setStatus("error", res.error, "Paste a new pairing code or token, or open your server’s Connect page and click Connect.");
  } else if (state === "codeRefused") {
    setStatus("error", res.error, res.status === 401 ? "Get a fresh code: open your server’s Connect page, or run “strongties pair”." : "");
  } else {
    setStatus("error", (res && res.error) || "No answer from the extension", "");
  }
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  // The permission prompt (if any) runs alongside: the API also answers extension origins (CORS).
  requestPermission();
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  const message = { type: "saveSettings", settings: prefs(), code: form.code.value.trim(), token: form.token.value.trim() };
  await ask("Connecting…", message, (res) => {
    button.disabled = false;
    if (res && res.ok) {
      form.code.value = "";
      form.token.value = "";
    }
  });
});

form.querySelector('[data-action="test"]').addEventListener("click", async () => {
  requestPermission();
  await ask("Testing…", { type: "testConnection", server: form.server.value, token: form.token.value.trim() });
});

// Ask the background about the connection and show its answer, unless the person started
// something newer meanwhile. `answered` runs first, with the answer.
async function ask(working, message, answered = () => {}) {
  const mine = ++latest;
  setStatus("working", working);
  const res = await send(message);
  answered(res);
  await refresh(); // a saved token the server refused is gone now
  if (mine === latest) showResult(res);
}

permissionEl.querySelector("button").addEventListener("click", () => requestPermission());

form.querySelector('[data-action="flush"]').addEventListener("click", async () => {
  const res = await send({ type: "flushOutbox" });
  const why = res && res.error ? ` ${res.error.replace(/\.$/, "")}.` : "";
  document.getElementById("queue").textContent = res && typeof res.delivered === "number" ? `Sent ${res.delivered}; ${res.pending} still waiting.${why}` : "Could not send now.";
});

form.querySelector('[data-action="disconnect"]').addEventListener("click", async () => {
  latest++;
  await send({ type: "disconnect" });
  await refresh();
  setStatus("disconnected", "Disconnected", `This browser no longer uses ${form.server.value.trim() || DEFAULT_SERVER}. To connect it again, ${CONNECT_HINT}`);
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
  form.querySelector("button[type=submit]").textContent = hasToken ? "Save" : "Connect";
  form.querySelector('[data-action="disconnect"]').disabled = !hasToken;
  const { server, deviceName, revoked } = state.settings;
  document.getElementById("device").textContent = hasToken
    ? `Connected to ${server}${deviceName ? ` as “${deviceName}”` : ""}.`
    : revoked
      ? `Not connected: ${server} revoked this browser.`
      : "Not connected.";
  const last = state.failed[0];
  const failed = last ? ` ${state.failed.length} recent log(s) were refused by the server (the last: ${last.op === "delete" ? "undo" : "log"} of “${last.name || "someone"}”: ${last.error}).` : "";
  const waiting = hasToken || !state.pending ? `${state.pending} log(s) waiting to be sent.` : `${state.pending} log(s) wait in this browser until it is connected again.`;
  document.getElementById("queue").textContent = `${waiting}${failed}`;
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
  if (!state || latest) return; // the person acted meanwhile
  const { server, deviceName, revoked } = state.settings;
  if (!state.hasToken) return showResult({ state: revoked ? "revoked" : "unconfigured", server, deviceName });
  await ask(`Checking the connection to ${server}…`, { type: "testConnection" });
})();
