"use strict";
// Settings and the device token live in storage.local under one key, "settings".
const SETTINGS_DEFAULTS = Object.freeze({
  server: DEFAULT_SERVER,
  token: "",
  deviceName: "",
  deviceId: null,
  revoked: false, // the server refused the token: the options page says so, not "not connected"
  defaultKind: "message",
  sites: { linkedin: true, gmail: true, outlook: true },
  retryMinutes: 1, // outbox retry alarm (Chrome clamps packed extensions to >= 0.5)
  syncSeconds: 60, // minimum gap between two pulls of the changes feed
});

async function getSettings() {
  const { settings } = await browser.storage.local.get("settings");
  const s = isPlainObject(settings) ? settings : {};
  return {
    ...SETTINGS_DEFAULTS,
    ...s,
    sites: { ...SETTINGS_DEFAULTS.sites, ...(isPlainObject(s.sites) ? s.sites : {}) },
  };
}

function updateSettings(patch) {
  return serial("settings", async () => {
    const current = await getSettings();
    const next = { ...current, ...patch };
    if (patch.sites) next.sites = { ...current.sites, ...patch.sites };
    await browser.storage.local.set({ settings: next });
    return next;
  });
}

// "localhost:5151" -> "http://localhost:5151"; keeps a path prefix for servers behind a proxy.
function normaliseServer(input) {
  let text = typeof input === "string" ? input.trim() : "";
  if (!text) throw new Error("Enter the server address");
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `http://${text}`;
  let u;
  try {
    u = new URL(text);
  } catch {
    throw new Error("That is not a valid server address");
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("The server address must start with http:// or https://");
  if (u.username || u.password) throw new Error("Leave the user name and password out of the server address");
  return (u.origin + u.pathname).replace(/\/+$/, "");
}

function serverMatchPattern(server, path = "/*") {
  const u = new URL(server);
  return `${u.protocol}//${u.hostname}${path}`;
}

async function describeDevice() {
  let name = "";
  try {
    if (browser.runtime.getBrowserInfo) name = (await browser.runtime.getBrowserInfo()).name;
  } catch {}
  if (!name) {
    const ua = navigator.userAgent;
    name = /Edg\//.test(ua) ? "Edge" : /OPR\//.test(ua) ? "Opera" : /Firefox\//.test(ua) ? "Firefox" : "Chrome";
  }
  let os = "";
  try {
    os = (await browser.runtime.getPlatformInfo()).os;
  } catch {}
  const osNames = { linux: "Linux", mac: "macOS", win: "Windows", android: "Android", cros: "ChromeOS", openbsd: "OpenBSD", fuchsia: "Fuchsia" };
  return `${name} on ${osNames[os] || os || "an unknown system"}`;
}
