"use strict";
// What each tab shows (for the popup and the toolbar badge), kept in storage.session so it
// survives the service worker being stopped. Falls back to memory where session storage is missing.
const BAND_COLOURS = { strong: "#15803d", medium: "#0369a1", weak: "#b45309", dormant: "#64748b" };
const memoryTabs = new Map();
const session = browser.storage.session;

async function getTabState(tabId) {
  if (!session) return memoryTabs.get(tabId) || null;
  const key = `tab:${tabId}`;
  return (await session.get(key))[key] || null;
}

async function setTabState(tabId, state) {
  if (typeof tabId !== "number" || tabId < 0) return;
  if (!state) {
    if (session) await session.remove(`tab:${tabId}`);
    memoryTabs.delete(tabId);
  } else if (session) {
    await session.set({ [`tab:${tabId}`]: state });
  } else {
    memoryTabs.set(tabId, state);
  }
  await paintBadge(tabId, state);
}

async function paintBadge(tabId, state) {
  const score = state && state.tie && Number.isFinite(state.tie.score) ? String(Math.round(state.tie.score)) : "";
  try {
    await browser.action.setBadgeText({ tabId, text: score });
    if (score) {
      const colour = state.stale ? "#94a3b8" : BAND_COLOURS[state.tie.band] || "#475569";
      await browser.action.setBadgeBackgroundColor({ tabId, color: colour });
      if (browser.action.setBadgeTextColor) await browser.action.setBadgeTextColor({ tabId, color: "#ffffff" });
    }
  } catch {
    // The tab went away meanwhile.
  }
}

async function tabIdsWithState() {
  if (!session) return [...memoryTabs.keys()];
  const all = await session.get(null);
  return Object.keys(all).filter((k) => k.startsWith("tab:")).map((k) => Number(k.slice(4)));
}

// After queued logs went through (or the server answers again), overlays fetch the fresh tie.
async function refreshTabs(onlyOffline = false) {
  for (const tabId of await tabIdsWithState()) {
    if (onlyOffline && ((await getTabState(tabId)) || {}).state !== "offline") continue;
    browser.tabs.sendMessage(tabId, { type: "refresh" }).catch(() => setTabState(tabId, null));
  }
}
