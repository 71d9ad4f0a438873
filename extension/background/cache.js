"use strict";
// Last known tie per identity ("ties" in storage.local), so an overlay opened offline still shows
// the last score, marked stale. Filled by lookups, logs and the server's changes feed.
const CACHE_LIMIT = 5000;

function compactContact(c) {
  if (!isPlainObject(c)) return null;
  return { id: c.id, name: typeof c.name === "string" ? c.name : "", identities: cleanIdentities(c.identities) };
}

function compactTie(t) {
  if (!isPlainObject(t)) return null;
  const { score, band, layer, rank, last_interaction, reciprocity, interaction_count, trend_30d, computed_at } = t;
  return { score, band, layer, rank, last_interaction, reciprocity, interaction_count, trend_30d, computed_at };
}

// Day counts in a cached tie age with the cache: recompute them from the timestamps.
function freshenTie(t) {
  if (!t || !isPlainObject(t.last_interaction)) return t;
  const days = daysSince(t.last_interaction.occurred_at);
  return days === null ? t : { ...t, last_interaction: { ...t.last_interaction, days_ago: days } };
}

async function cacheGet(keys) {
  const { ties = {} } = await browser.storage.local.get("ties");
  for (const k of keys) if (ties[k]) return { ...ties[k], tie: freshenTie(ties[k].tie) };
  return null;
}

// seq: the changes feed's position the tie is as of, when the server said (a lookup does).
function cachePut(contact, tie, extraKeys = [], seq = null) {
  const c = compactContact(contact);
  if (!c) return Promise.resolve();
  return serial("ties", async () => {
    const { ties = {} } = await browser.storage.local.get("ties");
    const entry = { contact: c, tie: compactTie(tie), at: Date.now(), seq: Number.isInteger(seq) ? seq : null };
    for (const k of new Set([...c.identities.map(identityKey), ...extraKeys])) ties[k] = entry;
    await browser.storage.local.set({ ties: trimCache(ties) });
  });
}

function cacheForget(keys, contactId) {
  return serial("ties", async () => {
    const { ties = {} } = await browser.storage.local.get("ties");
    for (const [k, v] of Object.entries(ties)) {
      if (keys.includes(k) || (contactId !== undefined && v.contact && v.contact.id === contactId)) delete ties[k];
    }
    await browser.storage.local.set({ ties });
  });
}

function trimCache(ties) {
  const entries = Object.entries(ties);
  if (entries.length <= CACHE_LIMIT) return ties;
  entries.sort((a, b) => b[1].at - a[1].at);
  return Object.fromEntries(entries.slice(0, CACHE_LIMIT));
}

async function resetCache() {
  await browser.storage.local.set({ ties: {}, sync: { cursor: 0, at: 0 } });
}

// Follow GET /api/v1/changes?since=<cursor>: contact upserts carry the tie at that moment.
let syncRunning = null;
function syncChanges(force = false) {
  syncRunning ??= runSync(force).finally(() => (syncRunning = null));
  return syncRunning;
}

// Resolves true once the server answered (false: not connected, or the feed is not due yet).
async function runSync(force) {
  const settings = await getSettings();
  if (!settings.token) return false;
  const { sync = { cursor: 0, at: 0 } } = await browser.storage.local.get("sync");
  if (!force && Date.now() - sync.at < settings.syncSeconds * 1000) return false;
  let cursor = sync.cursor || 0;
  for (let page = 0; page < 20; page++) {
    let body;
    try {
      body = await apiRequest("GET", `/api/v1/changes?since=${encodeURIComponent(cursor)}&limit=500`, { fromOutbox: true });
    } catch (err) {
      // 410: the server's feed ends before our cursor (its ledger was restored from a backup,
      // say). What we cached from it may never have happened there: start again from 0.
      if (err.status !== 410 || !cursor) throw err;
      await resetCache();
      cursor = 0;
      continue;
    }
    if (!isPlainObject(body) || !Array.isArray(body.changes)) break;
    await applyChanges(body.changes);
    if (body.cursor !== undefined && body.cursor !== null) cursor = body.cursor;
    await browser.storage.local.set({ sync: { cursor, at: Date.now() } });
    if (!body.has_more || !body.changes.length) break;
  }
  return true;
}

function applyChanges(changes) {
  return serial("ties", async () => {
    const { ties = {} } = await browser.storage.local.get("ties");
    const keysById = new Map(); // the feed's ids are strings, the contacts' numbers
    for (const [k, v] of Object.entries(ties)) {
      const id = String(v.contact && v.contact.id);
      keysById.set(id, [...(keysById.get(id) || []), k]);
    }
    // Does the tie cached under k reflect the change seq? Not known without its own seq.
    const reflects = (k, seq) => Number.isInteger(ties[k]?.seq) && ties[k].seq >= seq;
    for (const ch of changes) {
      if (!isPlainObject(ch)) continue;
      if (ch.entity === "settings") {
        // Every score was recomputed: ties scored before are wrong, not merely old. Only ties
        // known to be scored since (looked up after the change) stay.
        for (const k of Object.keys(ties)) if (!reflects(k, ch.seq)) delete ties[k];
        continue;
      }
      if (ch.entity !== "contact") continue;
      const id = String(ch.id);
      // A lookup since this change answered already: its tie is the newer one.
      if ((keysById.get(id) || []).some((k) => reflects(k, ch.seq))) continue;
      for (const k of keysById.get(id) || []) delete ties[k];
      keysById.delete(id);
      if (ch.op === "delete" || !isPlainObject(ch.data)) continue;
      const c = compactContact({ id: ch.id, ...ch.data });
      const entry = { contact: c, tie: compactTie(ch.data.tie), at: Date.now(), seq: ch.seq };
      for (const i of c.identities) ties[identityKey(i)] = entry;
      keysById.set(id, c.identities.map(identityKey));
    }
    await browser.storage.local.set({ ties: trimCache(ties) });
  });
}
