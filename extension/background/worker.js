"use strict";
// Entry point. Chrome runs this file as the service worker and pulls in the others with
// importScripts; Firefox loads all of them, in order, as background.scripts.
if (typeof importScripts === "function" && typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
  importScripts("util.js", "settings.js", "api.js", "cache.js", "outbox.js", "tabs.js", "handlers.js");
}

// Listeners at top level: the worker is stopped when idle and wakes up for these events.
browser.runtime.onMessage.addListener(onMessage);

browser.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name !== ALARM) return;
  flushOutbox()
    .then(() => syncChanges())
    // Only once the server answered again do overlays still showing "offline" refresh (not while
    // it is down and the feed merely was not due: that would drop an optimistic score).
    .then((answered) => answered && refreshTabs(true))
    .catch(() => {});
});

browser.runtime.onStartup.addListener(() => {
  flushSoon();
  syncConnectScript();
});

browser.runtime.onInstalled.addListener(async () => {
  await ensureAlarm();
  await syncConnectScript();
  await browser.storage.local.remove("gmailAccounts"); // see handleGmailAccount
});

browser.storage.onChanged.addListener((changes, area) => {
  if (area !== "local" || !changes.settings) return;
  const before = changes.settings.oldValue || {};
  const after = changes.settings.newValue || {};
  if (before.retryMinutes !== after.retryMinutes) ensureAlarm().catch(() => {});
  if (before.server !== after.server) syncConnectScript();
  if (after.token && before.token !== after.token) flushSoon();
});

if (browser.permissions.onAdded) browser.permissions.onAdded.addListener(() => syncConnectScript());

browser.tabs.onRemoved.addListener((tabId) => {
  setTabState(tabId, null).catch(() => {});
});

// Every wake-up: make sure the retry alarm exists and try whatever is queued.
ensureAlarm().catch(() => {});
flushSoon();
