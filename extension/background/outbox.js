"use strict";
// The outbox: every log is stored first, then sent as PUT /api/v1/interactions/<uuid> (idempotent),
// so a log made while the server is down is delivered once it is back, exactly once, even if the
// worker was stopped in between. Undo of a log that is still queued just drops it.
//   entry: {key, op: "put"|"delete", id, body, byId, keys, name, createdAt, attempts, lastError}
//   (byId: the same log by the contact's id alone, sent if the server refuses body's identities)
const ALARM = "strongties-outbox";
const inFlight = new Set(); // entry keys being sent right now (in this worker instance)
const waiting = new Set(); // entry keys whose sender waits for the answer
const results = new Map(); // entry key -> {ok, data} | {ok: false, error}, for that waiting caller

async function outboxList() {
  const { outbox } = await browser.storage.local.get("outbox");
  return Array.isArray(outbox) ? outbox : [];
}

function outboxMutate(fn) {
  return serial("outbox", async () => {
    const list = await outboxList();
    const answer = fn(list);
    await browser.storage.local.set({ outbox: list });
    return answer;
  });
}

// The logs still queued for these identities, oldest first: their id, kind and favour only.
async function queuedFor(keys) {
  const list = await outboxList();
  const wanted = new Set(keys);
  return list
    .filter((e) => e.op === "put" && e.keys.some((k) => wanted.has(k)))
    .map((e) => ({ id: e.id, kind: e.body.kind, favor: e.body.favor }));
}

async function pendingFor(keys) {
  return (await queuedFor(keys)).length;
}

function enqueue(entry) {
  return outboxMutate((list) => {
    if (!list.some((e) => e.key === entry.key)) list.push({ createdAt: Date.now(), attempts: 0, ...entry });
  });
}

// Passes run one after another; a caller awaits the pass that starts after its own enqueue.
let flushChain = Promise.resolve();
function flushOutbox() {
  flushChain = flushChain.then(runFlush, runFlush);
  return flushChain;
}

let flushTimer = null;
function flushSoon() {
  if (flushTimer) return;
  flushTimer = setTimeout(() => {
    flushTimer = null;
    flushOutbox().catch(() => {});
  }, 50);
}
onApiSuccess = async () => {
  if ((await outboxList()).length) flushSoon();
};

async function runFlush() {
  const settings = await getSettings();
  const list = await outboxList();
  let delivered = 0;
  let unattended = 0; // delivered without anyone waiting (queued earlier): overlays should refresh
  let stoppedBy = null; // why the pass left logs queued, for whoever asked for it
  if (settings.token) {
    for (const entry of list) {
      inFlight.add(entry.key);
      try {
        const data = await sendEntry(entry);
        if (waiting.has(entry.key)) results.set(entry.key, { ok: true, data });
        await outboxMutate((l) => removeKey(l, entry.key));
        delivered++;
        if (!waiting.has(entry.key)) unattended++;
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        // Worth another try later, in the same order: a 401 from a proxy in front of the server
        // (challenged) too, as the log itself is not what was refused.
        if (err.retryable || ["unauthorized", "challenged", "unconfigured"].includes(err.kind)) {
          stoppedBy = err.message;
          // Not a server out of reach: each card waiting on a log says why it waits.
          if (!err.retryable) for (const key of waiting) if (!results.has(key)) results.set(key, { queued: true, error: err.message });
          await outboxMutate((l) => {
            const e = l.find((x) => x.key === entry.key);
            if (e) Object.assign(e, { attempts: e.attempts + 1, lastError: err.message, lastTry: Date.now() });
          });
          break; // keep the order: nothing after it goes before it does
        }
        // The server refused this one for good (422, 404, 409 ...): keep a note, drop it.
        if (waiting.has(entry.key)) results.set(entry.key, { ok: false, error: err.message, status: err.status });
        await outboxMutate((l) => removeKey(l, entry.key));
        await noteFailure(entry, err);
      } finally {
        inFlight.delete(entry.key);
      }
    }
  }
  if (unattended) refreshTabs();
  const pending = (await outboxList()).length;
  return stoppedBy ? { delivered, pending, error: stoppedBy } : { delivered, pending };
}

// What a request names is gone: 404 (a log's contact by its id, an undone interaction) or 410 (a
// log stored before, its contact deleted since, perhaps in another browser, with its interactions).
const gone = (status) => status === 404 || status === 410;

async function sendEntry(entry) {
  const path = `/api/v1/interactions/${encodeURIComponent(entry.id)}`;
  if (entry.op === "put") {
    let data;
    let keys = entry.keys;
    try {
      data = await apiRequest("PUT", path, { body: entry.body, fromOutbox: true });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      if (gone(err.status)) { // its contact was deleted meanwhile
        await cacheForget(entry.keys, entry.body?.contact_id); // or the card shows it again
        throw new ApiError("client", "this contact was deleted", err.status, err.body);
      }
      // The page's identities for a known contact: one went to another contact meanwhile (409).
      if (!(err.status === 409 && entry.byId)) throw err;
      data = await apiRequest("PUT", path, { body: entry.byId, fromOutbox: true });
      keys = []; // not under the page's identities: one is someone else's
    }
    if (isPlainObject(data) && data.contact) await cachePut(data.contact, data.tie, keys);
    return data;
  }
  try {
    const data = await apiRequest("DELETE", path, { fromOutbox: true });
    if (isPlainObject(data) && data.contact) await cachePut(data.contact, data.tie, entry.keys);
    return data;
  } catch (err) {
    // Already gone (404), or gone with its contact (410): that is the goal.
    if (err instanceof ApiError && gone(err.status)) return null;
    throw err;
  }
}

function removeKey(list, key) {
  const i = list.findIndex((e) => e.key === key);
  if (i >= 0) list.splice(i, 1);
}

async function noteFailure(entry, err) {
  const { outboxFailed = [] } = await browser.storage.local.get("outboxFailed");
  outboxFailed.unshift({ id: entry.id, op: entry.op, name: entry.name, status: err.status, error: err.message, at: Date.now() });
  await browser.storage.local.set({ outboxFailed: outboxFailed.slice(0, 20) });
}

// Queue a log and try to send it now. Answers with the server's tie when it got through.
async function submitLog(id, body, keys, name, byId = null) {
  const key = `put:${id}`;
  const result = await enqueueAndWait({ key, op: "put", id, body, byId, keys, name });
  if (result && result.ok) return { status: "sent", id, ...pick(result.data) };
  if (result && !result.queued) return { status: "error", id, message: result.error, gone: gone(result.status) };
  return { status: "queued", id, pending: await pendingFor(keys), reason: result?.error };
}

// Undo: a queued log that is not on the wire is dropped; anything else gets a queued DELETE.
async function submitUndo(id) {
  const dropped = await outboxMutate((list) => {
    const i = list.findIndex((e) => e.op === "put" && e.id === id && !inFlight.has(e.key));
    if (i < 0) return null;
    return list.splice(i, 1)[0];
  });
  if (dropped) return { status: "undone", id, local: true, pending: await pendingFor(dropped.keys) };
  const result = await enqueueAndWait({ key: `delete:${id}`, op: "delete", id, body: null, keys: [], name: "" });
  if (result && result.ok) return { status: "undone", id, ...pick(result.data) };
  if (result && !result.queued) return { status: "error", id, message: result.error };
  return { status: "queued", id };
}

async function enqueueAndWait(entry) {
  waiting.add(entry.key);
  try {
    await enqueue(entry);
    await flushOutbox();
    return results.get(entry.key);
  } finally {
    waiting.delete(entry.key);
    results.delete(entry.key);
  }
}

function pick(data) {
  if (!isPlainObject(data)) return {};
  return { contact: compactContact(data.contact), tie: compactTie(data.tie), interaction: data.interaction };
}

async function ensureAlarm() {
  const { retryMinutes } = await getSettings();
  const period = Math.max(0.05, Number(retryMinutes) || 1);
  const existing = await browser.alarms.get(ALARM);
  if (!existing || existing.periodInMinutes !== period) {
    await browser.alarms.create(ALARM, { delayInMinutes: period, periodInMinutes: period });
  }
}
