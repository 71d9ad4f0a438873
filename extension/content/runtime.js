"use strict";
// Drives one site adapter: follows URL changes (single-page apps), reads the person once the page
// shows them, asks the background for the tie, renders the overlay, and sends logs.
(() => {
  const A = ST.adapter;
  const O = ST.overlay;
  if (!A) return;
  const READ_TIMEOUT = 5000;
  const MAIL = A.site === "gmail" || A.site === "outlook";
  let cur = { href: null, route: null, person: null, status: "idle" };
  let rolling = null; // what the page showed while the URL stood still (to spot stale DOM later)
  let finalTimer = null;
  let tickTimer = null;
  let lookupSeq = 0;
  let personIndex = 0;
  let view = null; // the last thing rendered (minus the person)
  let lastLogId = null;
  let beforeLog = null;
  let lookedUpAt = 0;
  let logging = false;

  function snapshot() {
    try {
      return A.snapshot();
    } catch {
      return null;
    }
  }

  // One pending tick; a sooner request moves it forward (a URL change must not wait for a
  // mutation's settle time).
  let tickAt = 0;
  function schedule(delay) {
    if (tickTimer && tickAt <= Date.now() + delay) return;
    clearTimeout(tickTimer);
    tickAt = Date.now() + delay;
    tickTimer = setTimeout(() => {
      tickTimer = null;
      tick();
    }, delay);
  }

  function tick() {
    if (location.href !== cur.href) onUrl();
    else if (cur.status === "pending") attempt(false);
    else if (cur.status === "ready" && A.gone?.(cur.person)) none();
    else if (cur.status === "ready" && (MAIL || !cur.person.name)) recheck();
    if (cur.status !== "pending" && location.href === cur.href) rolling = snapshot();
    if (cur.status === "ready") O.position();
  }

  function onUrl() {
    const href = location.href;
    let route = null;
    try {
      route = A.route(href);
    } catch {} // a page the adapter cannot place shows no overlay (and is not tried again)
    const first = cur.href === null;
    if (route && cur.route && route.key === cur.route.key) {
      // A sub-page of the same person (/details/..., overlays): the card stays; the next reads
      // follow the new page.
      Object.assign(cur, { href, route });
      return;
    }
    const prevName = cur.person?.name;
    clearTimeout(finalTimer);
    O.hideUndo();
    lookupSeq++;
    personIndex = 0;
    if (!route) {
      if (cur.route) ST.send({ type: "clear" });
      cur = { href, route: null, person: null, status: "idle" };
      O.remove();
      return;
    }
    const snap = first ? null : { ...(rolling || snapshot() || {}), prevName };
    cur = { href, route, person: null, status: "pending", snap };
    finalTimer = setTimeout(() => cur.status === "pending" && attempt(true), READ_TIMEOUT);
    render({ state: "loading", ui: view?.ui }); // never the previous person, not even for a moment
    attempt(false);
  }

  function read(final, snap) {
    try {
      return A.read(cur.route, snap, final);
    } catch {
      return { status: final ? "none" : "pending" };
    }
  }

  function attempt(final) {
    const res = read(final, cur.snap);
    // "absent": nobody on screen (a group thread), but the page may still change.
    if (res.status === "absent") {
      O.remove();
      if (!cur.absent) ST.send({ type: "clear" });
      cur.absent = true;
      rolling = snapshot();
    }
    if (res.status === "pending" || res.status === "absent") return;
    clearTimeout(finalTimer);
    if (res.status !== "ready") return none();
    cur.status = "ready";
    rolling = snapshot();
    show(res.person);
  }

  function none() {
    cur.status = "none";
    ST.send({ type: "clear" });
    O.remove();
  }

  // Mail threads change without a URL change (a message expanded, a reply sent); a LinkedIn name
  // that was missing may show up later (not the previous person's, still on screen).
  function recheck() {
    const res = read(true, MAIL ? null : cur.snap);
    if (res.status !== "ready") return;
    show(res.person);
  }

  const keyOf = (p) => (p ? p.identities.map((i) => `${i.kind}:${i.value}`).join("|") : "");

  function show(person) {
    const before = cur.person;
    cur.person = person;
    if (before && keyOf(before) === keyOf(person) && before.externalRef === person.externalRef) {
      if (before.name !== person.name && view) render(view);
      return;
    }
    lookup();
  }

  function target() {
    const p = cur.person;
    if (!p) return null;
    if (!personIndex || !p.others?.[personIndex - 1]) return p;
    return { ...p.others[personIndex - 1], site: p.site, externalRef: p.externalRef, others: p.others };
  }

  function render(v) {
    view = v;
    const person = target();
    O.render({
      ...v,
      person,
      others: cur.person?.others || [],
      personIndex,
      kind: MAIL ? "email" : v.kind || v.ui?.defaultKind || "message",
      collapsed: v.ui?.collapsed,
    });
  }

  async function lookup() {
    const seq = ++lookupSeq;
    const p = target();
    if (!p) return;
    render({ state: "loading", ui: view?.ui });
    const res = await ST.send({ type: "lookup", site: A.site, identities: p.identities, name: p.name });
    if (seq !== lookupSeq) return; // the page moved on meanwhile
    lookedUpAt = Date.now();
    if (!res) return render({ state: "error", message: "Strong Ties was updated: reload this page." });
    if (res.state === "disabled") return O.remove();
    const v = { ...res, state: res.state || "error", message: res.state === "error" ? res.error : undefined };
    // Logs still queued in this browser (the server out of reach) count as they did when made,
    // even after a reload or a browser restart.
    if (v.state === "offline" && v.tie && Array.isArray(v.queued) && v.queued.length) {
      Object.assign(v, { tie: v.queued.reduce(optimistic, v.tie), optimistic: true });
    }
    render(v);
  }

  // A first guess of the new tie so the card answers at once; the server's tie replaces it.
  function optimistic(tie, i) {
    if (!tie) return null;
    const score = Number(tie.score) || 0;
    const t = { ...tie, score: Math.min(100, score + Math.max(1, Math.round((100 - score) * 0.08))), last_interaction: { kind: i.kind, days_ago: 0 } };
    if (i.favor) {
      const r = { ...tie.reciprocity };
      const d = i.favor.direction;
      r[d] = (Number(r[d]) || 0) + 1;
      r.balance = (Number(r.balance) || 0) + (d === "given" ? 1 : -1) * i.favor.value;
      t.reciprocity = r;
    }
    return t;
  }

  async function log(values) {
    const p = target();
    if (!p || !view) return;
    const interaction = { ...values };
    if (!interaction.initiated_by && p.initiatedBy) interaction.initiated_by = p.initiatedBy;
    if (interaction.kind === "email" && p.externalRef) interaction.external_ref = p.externalRef;
    const seq = ++lookupSeq;
    beforeLog = view;
    O.hideUndo();
    O.busy(true);
    logging = true;
    if (view.tie) render({ ...view, tie: optimistic(view.tie, interaction), optimistic: true });
    const contactId = view.contact?.id;
    const res = await ST.send({ type: "log", site: A.site, person: p, contactId, link: !!view.linkable, interaction });
    logging = false;
    O.busy(false);
    if (seq !== lookupSeq) return;
    if (!res || res.status === "error" || res.ok === false) {
      const message = `Not logged: ${res?.message || res?.error || "the extension did not answer"}`;
      if (!res?.gone) return render({ ...beforeLog, message });
      await lookup(); // its contact was deleted: the card shows the person as the ledger has them now
      if (seq + 1 === lookupSeq) render({ ...view, message });
      return;
    }
    if (res.status === "unconfigured") return render({ state: "unconfigured", revoked: res.revoked, ui: view.ui });
    // The server keeps one interaction per email (external_ref): a repeat returns the stored one.
    const repeat = res.status === "sent" && res.interaction?.id && res.interaction.id !== res.id;
    lastLogId = repeat ? null : res.id;
    if (res.status === "sent") render({ ...view, state: "known", contact: res.contact, tie: res.tie, linkable: false, optimistic: false, stale: false, pending: 0, message: "" });
    else render({ ...view, state: "offline", stale: true, pending: res.pending, message: res.reason ? `Saved in this browser, not sent: ${res.reason}` : "Saved in this browser; it is sent when the server is back." });
    O.showUndo(repeat ? "Already logged" : res.status === "sent" ? "Logged ✓" : "Saved ✓", !repeat);
  }

  async function undo() {
    if (!lastLogId) return;
    const id = lastLogId;
    lastLogId = null;
    O.hideUndo();
    O.busy(true);
    const res = await ST.send({ type: "undo", id });
    O.busy(false);
    if (res?.status === "undone" && res.tie !== undefined && res.contact) {
      render({ ...view, state: "known", contact: res.contact, tie: res.tie, optimistic: false, stale: false, message: "Undone." });
    } else {
      await lookup();
      if (res?.status === "error") render({ ...view, message: `Undo failed: ${res.message}` });
    }
  }

  O.on({
    log: () => log({ kind: MAIL ? "email" : view?.ui?.defaultKind || "message" }),
    logSubmit: (values) => log(values),
    undo,
    retry: lookup,
    "open-options": () => ST.send({ type: "openOptions" }),
    "next-person": () => {
      const n = (cur.person?.others || []).length + 1;
      personIndex = (personIndex + 1) % n;
      lookup();
    },
    collapse: (collapsed) => {
      if (view) view = { ...view, ui: { ...view.ui, collapsed } };
      ST.send({ type: "setCollapsed", collapsed });
    },
  });

  browser.runtime.onMessage.addListener((msg) => {
    if (msg?.type === "refresh" && cur.status === "ready" && !logging) lookup();
  });

  // URL changes: Navigation API where there is one, hash/popstate, DOM mutations, and a cheap poll
  // (it also re-reads a page still awaited: shown by attributes or in a shadow root, unseen here).
  try {
    if (window.navigation) {
      // "navigate" fires before the URL changes: remember what the old page showed.
      navigation.addEventListener("navigate", () => cur.status !== "pending" && (rolling = snapshot()));
      // Fires as the URL changes (in the page's pushState): the overlay leaves the old person
      // in that same task.
      navigation.addEventListener("currententrychange", () => location.href !== cur.href && tick());
    }
  } catch {}
  addEventListener("hashchange", () => schedule(0));
  addEventListener("popstate", () => schedule(0));
  const settle = () => schedule(location.href !== cur.href ? 0 : 150);
  new MutationObserver(settle).observe(document, { childList: true, subtree: true });
  // Also while a card has no name yet: its page may come after the last read, unseen by the
  // observer (in a shadow root, or by attributes alone).
  setInterval(() => (location.href !== cur.href || cur.status === "pending" || (!MAIL && cur.status === "ready" && !cur.person.name)) && schedule(0), 500);
  let frame = 0;
  const reposition = () => {
    if (!frame && cur.status === "ready")
      frame = requestAnimationFrame(() => {
        frame = 0;
        O.position();
      });
  };
  addEventListener("scroll", reposition, { passive: true, capture: true });
  addEventListener("resize", reposition, { passive: true });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && cur.status === "ready" && Date.now() - lookedUpAt > 60000) lookup();
  });
  Promise.resolve(A.prepared).finally(tick);
})();
