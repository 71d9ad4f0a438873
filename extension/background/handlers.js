"use strict";
// One map from message type to handler. Messages are typed requests, never "fetch this URL":
// the background decides which server and path each one touches.
const EXTENSION_ORIGIN = new URL(browser.runtime.getURL("/")).origin;

// "page" = one of our own pages (options, popup); "content" = one of our content scripts.
function senderKind(sender) {
  if (!sender || sender.id !== browser.runtime.id) return null;
  const origin = originOf(sender.url || "");
  if (origin === EXTENSION_ORIGIN) return "page";
  if (sender.tab) return "content";
  return null;
}

const HANDLERS = {
  lookup: { from: ["content", "page"], run: handleLookup },
  log: { from: ["content", "page"], run: handleLog },
  undo: { from: ["content", "page"], run: (msg) => handleUndo(msg) },
  clear: { from: ["content"], run: (msg, sender) => setTabState(sender.tab.id, null).then(() => ({ ok: true })) },
  gmailAccount: { from: ["content"], run: handleGmailAccount },
  connect: { from: ["content"], run: handleConnect },
  setCollapsed: { from: ["content", "page"], run: handleSetCollapsed },
  openOptions: { from: ["content", "page"], run: () => browser.runtime.openOptionsPage().then(() => ({ ok: true })) },
  getState: { from: ["page"], run: handleGetState },
  saveSettings: { from: ["page"], run: handleSaveSettings },
  savePrefs: { from: ["page"], run: (msg) => savePrefs(msg.settings).then(() => ({ ok: true })) },
  testConnection: { from: ["page"], run: handleTestConnection },
  disconnect: { from: ["page"], run: handleDisconnect },
  flushOutbox: { from: ["page", "content"], run: () => flushOutbox() },
  syncNow: { from: ["page"], run: () => syncChanges(true).then(() => ({ ok: true })) },
  findContacts: { from: ["page"], run: handleFindContacts },
  sameAs: { from: ["page"], run: handleSameAs },
};

function onMessage(msg, sender, sendResponse) {
  const kind = senderKind(sender);
  const handler = isPlainObject(msg) && Object.hasOwn(HANDLERS, msg.type) ? HANDLERS[msg.type] : null;
  if (!kind || !handler || !handler.from.includes(kind)) {
    sendResponse({ ok: false, error: "rejected" });
    return false;
  }
  Promise.resolve()
    .then(() => handler.run(msg, sender))
    .then(sendResponse, (err) => sendResponse({ ok: false, state: "error", error: String((err && err.message) || err) }));
  return true; // answer asynchronously
}

async function uiPrefs() {
  const { ui } = await browser.storage.local.get("ui");
  const settings = await getSettings();
  return { collapsed: !!(ui && ui.collapsed), defaultKind: settings.defaultKind };
}

async function handleLookup(msg, sender) {
  const identities = cleanIdentities(msg.identities);
  if (!identities.length) return { ok: false, state: "error", error: "No identity to look up" };
  const settings = await getSettings();
  const ui = await uiPrefs();
  const tabId = sender.tab ? sender.tab.id : -1;
  const name = cleanText(msg.name, 200);
  if (SITES.includes(msg.site) && settings.sites[msg.site] === false) {
    await setTabState(tabId, null);
    return { state: "disabled", ui };
  }
  if (!settings.token) {
    await setTabState(tabId, { state: "unconfigured", name });
    return { state: "unconfigured", revoked: settings.revoked, ui };
  }
  const keys = identities.map(identityKey);
  const queued = await queuedFor(keys);
  let view = null;
  try {
    const free = []; // looked up before the contact was found: nobody holds them
    for (const identity of identities) {
      const body = await lookupIdentity(identity);
      if (isPlainObject(body) && isPlainObject(body.contact)) {
        await cachePut(body.contact, body.tie, keys, body.seq);
        view = { state: "known", contact: compactContact(body.contact), tie: compactTie(body.tie) };
        view.linkable = free.length > 0 || (await anyFree(identities.slice(identities.indexOf(identity) + 1), view.contact));
        break;
      }
      if (heldByNobody(body)) free.push(identity);
    }
    if (!view) {
      await cacheForget(keys);
      view = { state: "unknown", contact: null, tie: null };
    }
    syncChanges().catch(() => {});
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    // A refused token has just been forgotten and marked revoked (as the options page shows it).
    // Any other 401 (challenged) is an error the card shows as it is: the token stays.
    if (err.kind === "unauthorized" || err.kind === "unconfigured") view = { state: "unconfigured", revoked: (await getSettings()).revoked };
    else if (err.kind === "offline") {
      const cached = await cacheGet(keys);
      // Fold in every queued log the cached tie does not count. The server holds a queued log
      // only if the answer to its send was lost; the outbox sends in order, so that log is this
      // browser's latest for the person, hence the tie's last interaction (if someone logged the
      // person later elsewhere, the tie cannot tell: the log counts twice until the server answers).
      const lastId = cached?.tie?.last_interaction?.id;
      const unseen = cached ? queued.filter((q) => q.id !== lastId).map(({ kind, favor }) => ({ kind, favor })) : [];
      view = { state: "offline", stale: true, contact: cached ? cached.contact : null, tie: cached ? cached.tie : null, cachedAt: cached ? cached.at : null, queued: unseen, error: err.message };
    } else view = { state: "error", error: err.message };
  }
  view = { ...view, pending: queued.length, ui };
  // The page's identities stay with the tab, for the popup's "same person as...".
  await setTabState(tabId, { ...view, name: (view.contact && view.contact.name) || name, site: msg.site, identities });
  return view;
}

// The popup's search for the contact the person on a tab may already be: best ties first.
async function handleFindContacts(msg) {
  const query = new URLSearchParams({ sort: "score", page_size: "8" });
  const q = cleanText(msg.q, 200);
  if (q) query.set("q", q);
  try {
    const body = await apiRequest("GET", `/api/v1/contacts?${query}`);
    const found = isPlainObject(body) && Array.isArray(body.contacts) ? body.contacts.filter(isPlainObject) : [];
    return { ok: true, contacts: found.map((c) => ({ ...compactContact(c), tie: compactTie(c.tie) })) };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { ok: false, error: err.message };
  }
}

// The person on a tab is `contactId`, whom the ledger knows by another name or address: the
// page's identities join that contact, or, when they are a contact of their own, that contact
// is merged into it. The tab's card then shows the one contact.
async function handleSameAs(msg) {
  const tab = Number.isInteger(msg.tabId) ? await getTabState(msg.tabId) : null;
  const identities = cleanIdentities(tab && tab.identities);
  const into = msg.contactId;
  if (!identities.length || !Number.isInteger(into) || into < 1) return { ok: false, error: "No person on this tab to link." };
  const own = tab.state === "known" && tab.contact ? tab.contact.id : null;
  if (own === into) return { ok: true, contact: tab.contact };
  try {
    const contact = own
      ? await apiRequest("POST", `/api/v1/contacts/${into}/merge`, { body: { contact_id: own } })
      : await apiRequest("POST", `/api/v1/contacts/${into}/identities`, { body: { identities } });
    await cacheForget(identities.map(identityKey), own ?? undefined);
    await browser.tabs.sendMessage(msg.tabId, { type: "refresh" }).catch(() => {});
    return { ok: true, contact: compactContact(contact) };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { ok: false, error: err.message };
  }
}

function lookupIdentity(identity) {
  return apiRequest("GET", `/api/v1/lookup?${identity.kind}=${encodeURIComponent(identity.value)}`);
}

const heldByNobody = (lookedUp) => isPlainObject(lookedUp) && lookedUp.contact === null;

// Does the page name this contact by an identity it does not hold yet and nobody else holds (a
// profile's member id, say)? The next log then sends the page's identities, and the server adds
// the free ones to the contact.
async function anyFree(identities, contact) {
  const held = new Set(contact.identities.map(identityKey));
  for (const identity of identities.filter((i) => !held.has(identityKey(i)))) {
    try {
      if (heldByNobody(await lookupIdentity(identity))) return true;
    } catch {} // a best effort: the log goes by the contact's id as before
  }
  return false;
}

function cleanInteraction(raw, settings) {
  const i = isPlainObject(raw) ? raw : {};
  const body = { kind: KINDS.includes(i.kind) ? i.kind : settings.defaultKind };
  body.occurred_at = new Date().toISOString();
  if (INITIATORS.includes(i.initiated_by)) body.initiated_by = i.initiated_by;
  const closeness = Number(i.closeness);
  if (Number.isInteger(closeness) && closeness >= 1 && closeness <= 5) body.closeness = closeness;
  if (isPlainObject(i.favor) && ["given", "received"].includes(i.favor.direction)) {
    const value = Number(i.favor.value);
    body.favor = { direction: i.favor.direction, value: Number.isInteger(value) && value >= 1 && value <= 5 ? value : 1 };
  }
  const note = cleanText(i.note, 2000);
  if (note) body.note = note;
  const ref = cleanText(i.external_ref, 500);
  if (ref) body.external_ref = ref;
  return body;
}

async function handleLog(msg, sender) {
  const settings = await getSettings();
  if (!settings.token) return { status: "unconfigured", revoked: settings.revoked };
  const person = isPlainObject(msg.person) ? msg.person : {};
  const identities = cleanIdentities(person.identities);
  const contactId = Number.isInteger(msg.contactId) || (typeof msg.contactId === "string" && /^[\w-]{1,64}$/.test(msg.contactId)) ? msg.contactId : null;
  if (!identities.length && contactId === null) return { status: "error", message: "Nobody to log this for" };
  const body = cleanInteraction(msg.interaction, settings);
  const name = cleanText(person.name, 200) || identities.map((i) => i.value)[0] || "";
  // A known contact goes by its id, unless the page names it by a free identity it lacks: then by
  // the page's identities, which the server links to it (by its id after all if one was taken).
  const byId = contactId !== null ? { ...body, contact_id: contactId } : null;
  const linking = byId && msg.link === true && identities.length > 0;
  const sent = byId && !linking ? byId : { ...body, contact: { name, identities } };
  const id = crypto.randomUUID();
  const keys = identities.map(identityKey);
  const result = await submitLog(id, sent, keys, name, linking ? byId : null);
  if (sender.tab && result.tie) await setTabState(sender.tab.id, { state: "known", contact: result.contact, tie: result.tie, name, site: msg.site });
  return result;
}

function handleUndo(msg) {
  if (typeof msg.id !== "string" || !/^[0-9a-f-]{36}$/i.test(msg.id)) return { status: "error", message: "Bad id" };
  return submitUndo(msg.id);
}

// Each signed-in Gmail account's address (/mail/u/N/, or /mail/u/<address>/; a mailbox delegated
// to it, /mail/u/N/d/<id>/, apart), as its main window shows it: a thread popped out into a
// window of its own may show neither. Kept under "gmailAddresses": earlier versions kept the
// addresses under "gmailAccounts", a delegated mailbox's (its owner's) as the account's own,
// which a pop-out would take for mine; those are dropped (worker.js), and relearned from each
// account's main window.
async function handleGmailAccount(msg, sender) {
  const account = String(msg.account);
  if (originOf(sender.url || "") !== "https://mail.google.com" || !/^[\w.@+-]{1,100}$/.test(account)) return { address: null };
  const { gmailAddresses: known = {} } = await browser.storage.local.get("gmailAddresses");
  const address = typeof msg.address === "string" && EMAIL_RE.test(msg.address) ? msg.address.toLowerCase() : null;
  if (address && known[account] !== address) await browser.storage.local.set({ gmailAddresses: { ...known, [account]: address } });
  return { address: address || known[account] || null };
}

async function handleSetCollapsed(msg) {
  await browser.storage.local.set({ ui: { collapsed: !!msg.collapsed } });
  return { ok: true };
}

// The connect page of the configured server (or, before any token, of a local server) hands
// over a one-time pairing code; the page's origin becomes the server.
async function handleConnect(msg, sender) {
  const pageOrigin = originOf(sender.url || "");
  const tabOrigin = sender.tab && sender.tab.url ? originOf(sender.tab.url) : pageOrigin;
  if (!pageOrigin || msg.server !== pageOrigin || tabOrigin !== pageOrigin || sender.frameId) return { ok: false, error: "this page is not the server it claims to be" };
  const code = typeof msg.code === "string" ? msg.code.trim() : "";
  if (!/^[A-Za-z0-9_-]{4,128}$/.test(code)) return { ok: false, error: "no valid pairing code on the page" };
  const settings = await getSettings();
  const configured = originOf(settings.server);
  let server;
  if (pageOrigin === configured && settings.token) {
    // Already paired with this server: keep the working token rather than add a second device.
    try {
      const { device } = await checkConnection(settings.server, settings.token);
      return { ok: true, state: "connected", already: true, server: settings.server, device };
    } catch (err) {
      if (!(err instanceof ApiError) || err.kind !== "unauthorized") return { ok: false, error: err.message };
    }
    server = settings.server;
  } else if (pageOrigin === configured) server = settings.server;
  else if (!settings.token && isLoopbackOrigin(pageOrigin)) server = pageOrigin;
  else return { ok: false, error: `this browser is connected to ${configured}; change the server in the extension's options first` };
  return pairWith(server, code);
}

async function pairWith(server, code) {
  const deviceName = await describeDevice();
  let body;
  try {
    body = await apiRequest("POST", "/api/v1/pair", { server, auth: false, body: { code, device_name: deviceName } });
  } catch (err) {
    if (err instanceof ApiError) {
      const state = err.kind === "offline" || err.kind === "challenged" ? err.kind : "codeRefused";
      return { ok: false, state, server, error: err.message, status: err.status };
    }
    throw err;
  }
  if (!isPlainObject(body) || typeof body.token !== "string" || !body.token) return { ok: false, state: "error", error: "the server sent no token" };
  const device = isPlainObject(body.device) ? body.device : {};
  await saveConnection(server, body.token, { deviceName: device.name || deviceName, deviceId: device.id ?? null });
  return { ok: true, state: "connected", server, device: { id: device.id ?? null, name: device.name || deviceName } };
}

async function saveConnection(server, token, extra = {}) {
  const before = await getSettings();
  await updateSettings({ server, token, revoked: false, ...extra });
  if (originOf(before.server) !== originOf(server) || before.token !== token) await resetCache();
  await syncConnectScript();
  flushSoon();
}

async function handleGetState(msg) {
  const settings = await getSettings();
  const { token, ...rest } = settings;
  const outbox = await outboxList();
  const { outboxFailed = [], sync = {} } = await browser.storage.local.get(["outboxFailed", "sync"]);
  const state = { ok: true, settings: rest, hasToken: !!token, pending: outbox.length, failed: outboxFailed.slice(0, 5), lastSync: sync.at || 0 };
  if (typeof msg.tabId === "number") state.tab = await getTabState(msg.tabId);
  return state;
}

async function handleSaveSettings(msg) {
  const input = isPlainObject(msg.settings) ? msg.settings : {};
  let server;
  try {
    server = normaliseServer(input.server);
  } catch (err) {
    return { ok: false, state: "error", error: err.message };
  }
  await savePrefs(input);

  const code = typeof msg.code === "string" ? msg.code.trim() : "";
  if (code) return pairWith(server, code);
  const before = await getSettings();
  const typed = typeof msg.token === "string" ? msg.token.trim() : "";
  const token = typed || (originOf(before.server) === originOf(server) ? before.token : "");
  if (!token) {
    if (before.server !== server) await saveConnection(server, "");
    return { ok: false, state: "needsPairing", server, error: "Enter a pairing code or a device token first" };
  }
  // A token the server refuses is not kept: the working one (if any) stays.
  const result = await handleTestConnection({ server, token });
  if (result.state === "refused") return result;
  if (before.server !== server || before.token !== token) {
    const device = result.device ? { deviceName: result.device.name || "", deviceId: result.device.id ?? null } : before.token !== token ? { deviceName: "", deviceId: null } : {};
    await saveConnection(server, token, device);
  }
  return { ...result, saved: true };
}

// Preferences that need no server: default kind, site switches, retry interval.
function savePrefs(input) {
  input = isPlainObject(input) ? input : {};
  const patch = {};
  if (KINDS.includes(input.defaultKind)) patch.defaultKind = input.defaultKind;
  if (isPlainObject(input.sites)) {
    patch.sites = {};
    for (const s of SITES) if (typeof input.sites[s] === "boolean") patch.sites[s] = input.sites[s];
  }
  const retry = Number(input.retryMinutes);
  if (Number.isFinite(retry) && retry > 0) patch.retryMinutes = retry;
  return updateSettings(patch);
}

// The connection's state, for the options page: connected, offline (the server does not answer),
// revoked (the server refused the saved token, now forgotten), refused (a typed token), challenged
// (a 401 that did not refuse the token: a proxy in front of the server; the token stays),
// unconfigured (no token) or error (anything else).
async function handleTestConnection(msg) {
  const settings = await getSettings();
  let server;
  try {
    server = msg.server ? normaliseServer(msg.server) : settings.server;
  } catch (err) {
    return { ok: false, state: "error", error: err.message };
  }
  const typed = typeof msg.token === "string" ? msg.token.trim() : "";
  const token = typed || (server === settings.server ? settings.token : "");
  const saved = server === settings.server && token === settings.token;
  try {
    const { health, device } = await checkConnection(server, token);
    if (!token) {
      const state = server === settings.server && settings.revoked ? "revoked" : "unconfigured";
      return { ok: false, state, reachable: true, server, version: health.version, deviceName: settings.deviceName, error: "Server reachable; now pair this browser with a code or a token" };
    }
    if (device && saved && device.name) await updateSettings({ deviceName: device.name, deviceId: device.id ?? null });
    flushSoon();
    return { ok: true, state: "connected", saved, server, version: health.version, device };
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.kind === "unauthorized" && saved) {
      await forgetToken(token); // as any other request of this browser would
      return { ok: false, state: "revoked", reachable: true, server, deviceName: settings.deviceName, error: err.message };
    }
    if (err.kind === "unauthorized") return { ok: false, state: "refused", reachable: true, server, error: "The server refused this token (revoked or mistyped)" };
    if (err.kind === "challenged") return { ok: false, state: "challenged", server, error: err.message };
    const offline = err.kind === "offline";
    return { ok: false, state: offline ? "offline" : "error", reachable: !offline, server, error: err.message };
  }
}

async function handleDisconnect() {
  await updateSettings({ token: "", deviceId: null, revoked: false });
  await resetCache();
  return { ok: true };
}

// The connect page of a server other than localhost/127.0.0.1 gets the content script through
// dynamic registration (needs the host permission the options page asked for).
const CONNECT_SCRIPT_ID = "strongties-connect";
async function syncConnectScript() {
  if (!browser.scripting || !browser.scripting.registerContentScripts) return;
  const settings = await getSettings();
  try {
    const registered = await browser.scripting.getRegisteredContentScripts({ ids: [CONNECT_SCRIPT_ID] });
    if (registered.length) await browser.scripting.unregisterContentScripts({ ids: [CONNECT_SCRIPT_ID] });
    const host = new URL(settings.server).hostname;
    if (host === "localhost" || host === "127.0.0.1") return;
    const origins = [serverMatchPattern(settings.server)];
    if (!(await browser.permissions.contains({ origins }))) return;
    await browser.scripting.registerContentScripts([
      { id: CONNECT_SCRIPT_ID, matches: [serverMatchPattern(settings.server, "/connect*")], js: ["content/connect.js"], runAt: "document_idle" },
    ]);
  } catch (err) {
    console.warn("Strong Ties: could not register the connect script", err);
  }
}
