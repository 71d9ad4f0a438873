"use strict";
// The overlay: a host element with a closed shadow root (page scripts cannot reach inside it).
// Built once with DOM APIs; render(view) only sets textContent and attributes, never HTML.
ST.overlay = (() => {
  const KIND_LABELS = {
    email: "Email", message: "Message", call: "Call", video: "Video call", meeting: "Meeting",
    coffee: "Coffee", meal: "Meal", event: "Event", introduction: "Introduction", favor: "Favour",
  };
  const BANDS = ["strong", "medium", "weak", "dormant"];
  const CSS = `
:host{all:initial}
[data-strongties-root]{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#5b6470;--line:#e6e8eb;--soft:#f4f5f7;--band:#64748b;--accent:#0f766e;--focus:#2563eb;
position:fixed;z-index:2147483647;top:72px;left:calc(100vw - 300px);width:280px;max-height:calc(100vh - 16px);overflow:auto;box-sizing:border-box;
background:var(--bg);color:var(--fg);border:1px solid var(--line);border-top:3px solid var(--band);border-radius:12px;
box-shadow:0 12px 32px rgba(15,23,42,.16),0 2px 6px rgba(15,23,42,.08);font:13px/1.4 system-ui,sans-serif;
padding:10px 12px 12px}
[data-band=strong]{--band:#15803d}[data-band=medium]{--band:#0369a1}[data-band=weak]{--band:#b45309}
[data-stale=true]{--band:#94a3b8}
*{box-sizing:border-box}[hidden]{display:none!important}
.top{display:flex;align-items:center;gap:6px;min-height:22px}
.brand{font-size:10.5px;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:var(--muted);flex:1}
.chip{font-size:11px;font-weight:600;padding:1px 7px;border-radius:999px;background:#fef3c7;color:#92400e;white-space:nowrap}
.name{font-size:15px;font-weight:650;margin:2px 0 0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.sub{color:var(--muted);font-size:12px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.score{display:flex;align-items:baseline;gap:8px;margin:8px 0 6px}
.num{font-size:30px;font-weight:700;line-height:1;color:var(--band);font-variant-numeric:tabular-nums}
.sep{display:none}
.tag{font-size:11.5px;font-weight:600;padding:2px 8px;border-radius:999px;background:var(--soft);color:var(--fg)}
.tag.band{background:var(--band);color:#fff;text-transform:capitalize}
[data-optimistic=true] .num{opacity:.6}
.rows{border-top:1px solid var(--line);padding-top:6px;display:grid;gap:3px}
.row{display:flex;gap:8px;align-items:baseline}
.lbl{flex:0 0 44px;font-size:10.5px;font-weight:600;letter-spacing:.04em;text-transform:uppercase;color:var(--muted)}
.val{flex:1;min-width:0}
.msg{margin:6px 0 0;color:var(--muted);font-size:12.5px}
.msg:empty{display:none}
.actions{display:flex;gap:6px;margin-top:10px;align-items:center}
button,select,textarea{font:inherit;color:inherit}
button{cursor:pointer;border:1px solid var(--line);background:var(--bg);border-radius:8px;padding:6px 10px;font-weight:600;font-size:12.5px}
button:hover{background:var(--soft)}
button.primary{flex:1;background:var(--accent);border-color:var(--accent);color:#fff}
button.primary:hover{filter:brightness(1.08);background:var(--accent)}
button.icon{width:26px;height:22px;padding:0;border:0;border-radius:6px;background:transparent;color:var(--muted);display:grid;place-items:center}
.chev{width:7px;height:7px;border:solid currentColor;border-width:0 2px 2px 0;transform:translateY(2px) rotate(-135deg)}
[data-collapsed=true] .chev{transform:translateY(-2px) rotate(45deg)}
button:disabled{opacity:.55;cursor:default}
:focus-visible{outline:2px solid var(--focus);outline-offset:2px}
.undo{display:flex;align-items:center;justify-content:space-between;margin-top:8px;padding:4px 4px 4px 10px;border-radius:8px;background:var(--soft)}
.done{font-size:12.5px;color:var(--accent);font-weight:600}
.undo button{padding:3px 10px}
form{margin-top:10px;border-top:1px solid var(--line);padding-top:8px;display:grid;grid-template-columns:1fr 1fr;gap:6px 8px}
label{display:grid;gap:2px;font-size:11px;font-weight:600;color:var(--muted)}
label.wide,form .actions{grid-column:1/-1}
select,textarea{width:100%;border:1px solid var(--line);border-radius:6px;padding:4px 6px;background:var(--bg);font-size:12.5px;font-weight:400}
textarea{resize:vertical;min-height:44px}
[data-collapsed=true]{width:auto;padding:4px 6px 4px 12px;border-radius:999px;border-top-width:1px}
[data-collapsed=true] .mini::before{content:"";display:inline-block;width:8px;height:8px;border-radius:50%;background:var(--band);margin-right:6px;vertical-align:1px}
[data-collapsed=true] .brand{flex:none}
[data-collapsed=true] .body{display:none}
.mini{display:none;font-weight:700;color:var(--band);font-variant-numeric:tabular-nums}
[data-collapsed=true] .mini{display:inline}
@media (prefers-color-scheme:dark){[data-strongties-root]{--bg:#1d2228;--fg:#e8eaed;--muted:#a0a8b3;--line:#343b44;--soft:#262c33;--accent:#14b8a6;--focus:#60a5fa}
.chip{background:#422006;color:#fcd34d}button.primary{color:#042f2e}}`;

  let host = null;
  let root = null;
  let els = {};
  let handlers = {};
  let view = null;
  let undoTimer = null;
  let guard = null;

  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    if (tag === "button") el.type = "button";
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") el.textContent = v;
      else if (v !== false && v != null) el.setAttribute(k, v === true ? "" : v);
    }
    el.append(...children);
    return el;
  }

  function select(name, label, options, cls) {
    const s = h("select", { name });
    for (const [value, text] of options) s.append(h("option", { value, text }));
    return h("label", { class: cls }, label, s);
  }

  function build() {
    host = document.createElement("div");
    // Inline !important beats any page rule; the card itself is fixed, so the page never reflows.
    host.style.cssText = "all:initial!important;position:fixed!important;top:0!important;left:0!important;width:0!important;height:0!important;z-index:2147483647!important;display:block!important;overflow:visible!important"; // CSSOM: no page CSP applies
    const shadow = host.attachShadow({ mode: "closed" });
    const kinds = Object.entries(KIND_LABELS);
    const sizes = [..."12345"].map((n) => [n, n]);
    els = {
      name: h("div", { class: "name", "data-field": "name" }),
      sub: h("div", { class: "sub", "data-field": "headline" }),
      mini: h("span", { class: "mini", "aria-hidden": "true" }),
      pending: h("span", { class: "chip", "data-field": "pending", hidden: true }),
      collapse: h("button", { class: "icon", "data-action": "collapse", "aria-expanded": "true", "aria-label": "Collapse Strong Ties" }, h("span", { class: "chev", "aria-hidden": "true" })),
      num: h("span", { class: "num" }),
      band: h("span", { class: "tag band" }),
      layer: h("span", { class: "tag" }),
      last: h("span", { class: "val", "data-field": "last-interaction" }),
      recip: h("span", { class: "val", "data-field": "reciprocity" }),
      msg: h("p", { class: "msg", "data-field": "message", role: "status", "aria-live": "polite" }),
      log: h("button", { class: "primary", "data-action": "log", text: "Log message" }),
      menuBtn: h("button", { "data-action": "log-menu", "aria-haspopup": "true", "aria-expanded": "false", "aria-label": "Log with details", title: "Log with details", text: "⋯" }),
      undo: h("button", { "data-action": "undo", hidden: true, text: "Undo" }),
      done: h("span", { class: "done", role: "status" }),
      options: h("button", { class: "primary", "data-action": "open-options", hidden: true }),
      retry: h("button", { "data-action": "retry", hidden: true, text: "Retry" }),
      next: h("button", { "data-action": "next-person", hidden: true }),
    };
    els.seps = [h("span", { class: "sep" }), h("span", { class: "sep" })];
    els.undoRow = h("div", { class: "undo", hidden: true }, els.done, els.undo);
    els.score = h("div", { class: "score", "data-field": "score" }, els.num, els.seps[0], els.band, els.seps[1], els.layer);
    const row = (label, val) => h("div", { class: "row" }, h("span", { class: "lbl", text: label }), val);
    els.rows = h("div", { class: "rows" }, row("Last", els.last), row("Favours", els.recip));
    els.form = h(
      "form",
      { hidden: true, "aria-label": "Log an interaction" },
      select("kind", "Kind", kinds, "wide"),
      select("initiated_by", "Started by", [["me", "Me"], ["them", "Them"], ["mutual", "Both"]]),
      select("closeness", "Closeness", [["", "Default"], ...sizes]),
      select("favor", "Favour", [["", "None"], ["given", "I did one"], ["received", "I got one"]]),
      select("favor_value", "Favour size", sizes),
      h("label", { class: "wide" }, "Note", h("textarea", { name: "note", maxlength: "2000", rows: "2" })),
      h("div", { class: "actions" }, h("button", { class: "primary", type: "submit", "data-action": "log-submit", text: "Log it" }), h("button", { "data-action": "log-cancel", text: "Cancel" })),
    );
    root = h(
      "div",
      { "data-strongties-root": "", "data-state": "loading", role: "region", "aria-label": "Strong Ties" },
      h("div", { class: "top" }, h("span", { class: "brand", text: "Strong Ties" }), els.mini, els.pending, els.collapse),
      h(
        "div",
        { class: "body" },
        els.name,
        els.sub,
        els.score,
        els.rows,
        els.msg,
        h("div", { class: "actions" }, els.log, els.menuBtn, els.options, els.retry, els.next),
        els.undoRow,
        els.form,
      ),
    );
    const style = document.createElement("style");
    style.textContent = CSS;
    shadow.append(style, root);
    root.addEventListener("click", onClick);
    els.form.addEventListener("submit", onSubmit);
    root.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !els.form.hidden) {
        toggleMenu(false);
        els.menuBtn.focus();
      }
    });
    els.form.elements.favor.addEventListener("change", syncFavour);
    // Keys typed here must not reach the site's shortcuts (Gmail's "c" composes ...).
    for (const ev of ["keydown", "keyup", "keypress"]) root.addEventListener(ev, (e) => e.stopPropagation());
  }

  function attach() {
    if (!host) build();
    if (!host.isConnected) document.documentElement.append(host);
    // Some pages re-render the document's children; put the overlay back if it gets removed.
    guard ||= new MutationObserver(() => {
      if (view && !host.isConnected) document.documentElement.append(host);
    });
    guard.observe(document.documentElement, { childList: true });
  }

  function onClick(e) {
    const action = e.target.closest?.("[data-action]");
    if (!action || action.disabled) return;
    const name = action.getAttribute("data-action");
    if (name === "log-menu") toggleMenu(els.form.hidden);
    else if (name === "log-cancel") toggleMenu(false);
    else if (name === "collapse") setCollapsed(root.getAttribute("data-collapsed") !== "true", true);
    else if (name !== "log-submit") handlers[name]?.();
  }

  function onSubmit(e) {
    e.preventDefault();
    const f = els.form.elements;
    const values = { kind: f.kind.value, initiated_by: f.initiated_by.value, note: f.note.value.trim() };
    if (f.closeness.value) values.closeness = Number(f.closeness.value);
    if (f.favor.value) values.favor = { direction: f.favor.value, value: Number(f.favor_value.value) };
    toggleMenu(false);
    f.note.value = "";
    f.favor.value = "";
    f.closeness.value = "";
    syncFavour();
    handlers.logSubmit?.(values);
  }

  function syncFavour() {
    els.form.elements.favor_value.disabled = !els.form.elements.favor.value;
  }

  function toggleMenu(open) {
    els.form.hidden = !open;
    els.menuBtn.setAttribute("aria-expanded", open);
    if (open) {
      const f = els.form.elements;
      f.kind.value = view?.kind || "message";
      f.initiated_by.value = view?.person?.initiatedBy || "me";
      syncFavour();
      f.kind.focus();
    }
    position();
  }

  function setCollapsed(collapsed, byUser) {
    root.setAttribute("data-collapsed", collapsed);
    els.collapse.setAttribute("aria-expanded", !collapsed);
    els.collapse.setAttribute("aria-label", collapsed ? "Expand Strong Ties" : "Collapse Strong Ties");
    if (collapsed) toggleMenu(false);
    if (byUser) handlers.collapse?.(collapsed);
    position();
  }

  function daysText(d) {
    const f = Math.floor;
    return !Number.isFinite(d) ? "" : d < 1 ? "today" : d < 2 ? "yesterday" : d < 60 ? `${f(d)} days ago` : d < 730 ? `${f(d / 30.44)} months ago` : `${f(d / 365.25)} years ago`;
  }

  function plural(n, word) {
    return `${n} ${word}${n === 1 ? "" : "s"}`;
  }

  // view: {state, person, contact, tie, pending, stale, optimistic, message, kind, collapsed, others,
  // revoked (unconfigured because the server revoked this browser's access)}
  function render(v) {
    attach();
    view = v;
    const tie = v.tie || null;
    const known = !!tie && Number.isFinite(Number(tie.score));
    root.setAttribute("data-state", v.state);
    root.setAttribute("data-stale", !!v.stale);
    root.setAttribute("data-optimistic", !!v.optimistic);
    const band = known && BANDS.includes(tie.band) ? tie.band : "none";
    root.setAttribute("data-band", band);
    if (v.collapsed !== undefined) setCollapsed(!!v.collapsed, false);

    const name = v.contact?.name || v.person?.name || v.person?.identities[0].value || "";
    els.name.textContent = name;
    els.name.title = name;
    els.sub.textContent = v.person?.headline || "";
    els.sub.hidden = !els.sub.textContent;

    const score = known ? String(Math.round(Number(tie.score))) : "";
    els.num.textContent = score;
    els.mini.textContent = score;
    els.band.textContent = known ? band : "";
    els.layer.textContent = known && Number.isFinite(Number(tie.layer)) ? `top ${Number(tie.layer)}` : "";
    els.seps[0].textContent = known ? " · " : "";
    els.seps[1].textContent = known && els.layer.textContent ? " · " : "";
    els.score.hidden = !known;
    els.score.setAttribute("aria-label", known ? `Tie strength ${score} of 100, ${band}, Dunbar layer ${els.layer.textContent}` : "");

    const last = known && tie.last_interaction;
    els.last.textContent = last ? `${KIND_LABELS[last.kind] || ST.clean(last.kind, 30)} · ${daysText(Number(last.days_ago))}` : known ? "None yet" : "";
    const r = (known && tie.reciprocity) || null;
    const given = Math.max(0, Number(r?.given) || 0);
    const received = Math.max(0, Number(r?.received) || 0);
    const balance = Number(r?.balance) || 0;
    els.recip.textContent = !known ? "" : !r || (!given && !received) ? "None exchanged yet" : `You did ${plural(given, "favour")}, received ${received}${balance > 0 ? " · they owe you" : balance < 0 ? " · you owe them" : ""}`;
    els.rows.hidden = !known;

    els.pending.textContent = v.pending ? `${v.pending} pending` : "";
    els.pending.hidden = !v.pending;
    els.pending.title = v.pending ? "Saved in this browser; sent when the server answers" : "";

    const messages = {
      loading: "Looking up…",
      unknown: "Not in your ledger yet. Log an interaction to add them.",
      unconfigured: v.revoked
        ? "Your server disconnected this browser (its access was revoked). Pair it again in the options."
        : "Connect this browser to your Strong Ties server to see tie strength here.",
      offline: known ? "Server unreachable: showing the last known score." : "Server unreachable. Logs are kept and sent later.",
      error: "Something went wrong.",
    };
    els.msg.textContent = v.message || messages[v.state] || "";

    const canLog = ["known", "unknown", "offline"].includes(v.state) && !!v.person;
    const kind = (KIND_LABELS[v.kind] || v.kind || "message").toLowerCase();
    els.log.textContent = `Log ${kind}`;
    els.log.setAttribute("aria-label", `Log a ${kind} with ${name || "this person"}`);
    els.log.hidden = !canLog;
    els.menuBtn.hidden = !canLog;
    els.options.hidden = v.state !== "unconfigured";
    els.options.textContent = v.revoked ? "Pair again" : "Connect to your server";
    els.retry.hidden = v.state !== "error";
    const others = (v.others || []).length;
    els.next.hidden = !others || !canLog;
    els.next.textContent = `${(v.personIndex || 0) + 1}/${others + 1}`;
    els.next.title = `Next person in this thread (${others + 1} in all)`;
    els.next.setAttribute("aria-label", els.next.title);
    if (!canLog) toggleMenu(false);
    position();
  }

  function showUndo(text, canUndo) {
    clearTimeout(undoTimer);
    els.done.textContent = text;
    els.undo.hidden = !canUndo;
    els.undoRow.hidden = false;
    undoTimer = setTimeout(hideUndo, 6000);
  }

  function hideUndo() {
    clearTimeout(undoTimer);
    if (!root) return;
    els.undo.hidden = true;
    els.undoRow.hidden = true;
  }

  function busy(on) {
    if (root)
      for (const b of [els.log, els.menuBtn, els.undo]) b.disabled = on;
  }

  // Near the anchor the adapter found (profile card, message header); else the top right corner.
  function position() {
    if (!root || !host || !host.isConnected) return;
    const vw = document.documentElement.clientWidth || window.innerWidth;
    const vh = window.innerHeight;
    const w = root.offsetWidth;
    const hgt = root.offsetHeight;
    const inset = ST.adapter?.topInset || 16;
    const a = ST.adapter?.anchor?.();
    let left = vw - w - 16;
    let top = inset + 8;
    if (a?.right - w >= 8 && a.right <= vw) {
      left = a.right - w;
      top = a.top;
    }
    top = Math.max(inset + 8, Math.min(top, vh - hgt - 8));
    root.style.left = `${Math.max(8, Math.round(left))}px`;
    root.style.top = `${Math.max(8, Math.round(top))}px`;
  }

  function remove() {
    view = null;
    hideUndo();
    guard?.disconnect();
    host?.remove();
  }

  return {
    render,
    remove,
    position,
    showUndo,
    hideUndo,
    busy,
    on(h) {
      handlers = h;
    },
  };
})();
