"use strict";
// Outlook on the web: /mail/.../id/<ItemID> or a deeplink; the person is the sender of the message
// in the reading pane or, when I sent it, the person I wrote to.
ST.adapter = (() => {
  const LINES = '[data-app-section="FromLine"], span[id*="PersonaName"]';
  // Labels are translated: a region holding a from line is the pane.
  const PANES = ["#ReadingPaneContainerId", '[data-automationid="ReadingPaneContainer"]', `[role="region"]:has(${LINES})`, '[role="main"]'];
  const NAME_SELECTORS = ['[data-app-section="FromLine"] span', 'span[id*="PersonaName"]'];
  const ME_SELECTORS = ['[id$="currentAccount_secondary"]', '#O365_MainLink_Me [aria-label*="@"]', '[id*="mectrl"][aria-label*="@"]'];
  let pane = null;
  let header = null;

  function route(href) {
    const u = ST.url(href);
    if (!u || !/^outlook\.((office|live|office365)\.com|cloud\.microsoft)$/.test(u.hostname)) return null;
    const seg = u.pathname.split("/").filter(Boolean);
    if (!/^(mail|owa)$/.test(seg[0])) return null;
    const at = seg.findIndex((s) => s === "id" || s === "read");
    const raw = (at > 0 && seg[at + 1]) || u.searchParams.get("ItemID") || u.searchParams.get("itemid");
    if (!raw) return null;
    let id = raw;
    try {
      id = decodeURIComponent(raw);
    } catch {}
    return { key: `item:${id}`, item: id };
  }

  function emailIn(scope) {
    if (!scope) return null;
    const mailto = scope.querySelector('a[href^="mailto:" i]');
    if (mailto) return ST.email(decodeURIComponent(mailto.getAttribute("href").slice(7)));
    for (const attr of ["data-email", "title", "aria-label"]) {
      const sel = `[${attr}*="@"]`;
      const el = scope.matches(sel) ? scope : scope.querySelector(sel);
      const email = el && ST.email(el.getAttribute(attr));
      if (email) return email;
    }
    return ST.email((scope.textContent || "").slice(0, 4000));
  }

  const findPane = () => PANES.map((s) => document.querySelector(s)).find(ST.visible);

  function myAddress() {
    for (const sel of ME_SELECTORS) {
      const el = document.querySelector(sel);
      const email = el && (ST.email(el.textContent) || ST.email(el.getAttribute("aria-label")));
      if (email) return email;
    }
    return null;
  }

  // The sender: name from the from line, address from it or its surroundings (up to 4 levels).
  function sender(line) {
    let scope = line;
    let email = null;
    for (let i = 0; scope && i < 5 && !email; i++, scope = scope.parentElement) {
      email = emailIn(scope);
      if (scope === pane) break;
    }
    const nameEl = NAME_SELECTORS.map((s) => line.querySelector(s) || (line.matches(s) ? line : null)).find(Boolean) || line;
    let name = ST.dedupe((nameEl.textContent || "").replace(/<[^>]*>|\S+@\S+/g, " "));
    name = name.replace(/^(from|von|de|da|van)\s*:\s*/i, "").trim();
    return email ? { email, name: name || email, el: scope && scope !== pane ? scope : line } : null;
  }

  // Mail I sent: the first address near its from line that is not mine (the To line).
  function recipient(line, me) {
    for (let scope = line.parentElement, i = 0; scope && i < 5; scope = scope.parentElement, i++) {
      for (const el of scope.querySelectorAll('[title*="@"], [aria-label*="@"], [data-email*="@"], a[href^="mailto:" i]')) {
        const email = ST.email(["title", "aria-label", "data-email", "href"].map((a) => el.getAttribute(a)).join(" "));
        const name = ST.dedupe(el.textContent).replace(/[;,]$/, "");
        if (email && email !== me) return { email, name: name && !name.includes("@") ? name : email, el: line };
      }
      if (scope === pane) break;
    }
    return null;
  }

  return {
    site: "outlook",
    topInset: 56,
    route,

    snapshot() {
      const p = findPane();
      const line = p && p.querySelector(LINES);
      return { line, text: line ? line.textContent : null };
    },

    read(r, snap, final) {
      const wait = { status: final ? "none" : "pending" };
      pane = findPane();
      if (!pane) return wait;
      const lines = [...pane.querySelectorAll('[data-app-section="FromLine"]')];
      if (!lines.length) lines.push(...pane.querySelectorAll('span[id*="PersonaName"]'));
      if (!lines.length) return wait;
      if (snap && snap.line === lines[0] && snap.text === lines[0].textContent && !final) return wait;
      const me = myAddress();
      const senders = lines.map(sender);
      let found = senders.find((p) => p && p.email !== me);
      const mine = !found && me && senders.some((p) => p && p.email === me);
      if (mine) found = lines.map((l) => recipient(l, me)).find(Boolean);
      if (!found) return wait;
      header = found.el;
      const subject = pane.querySelector('[role="heading"]');
      return {
        status: "ready",
        person: {
          site: "outlook",
          name: found.name,
          identities: [{ kind: "email", value: found.email }],
          externalRef: `outlook:${r.item}`,
          initiatedBy: mine ? "me" : "them",
          headline: subject ? ST.clean(subject.textContent, 160) : "",
        },
      };
    },

    anchor() {
      const h = ST.rect(header);
      const p = ST.rect(pane);
      return h && p && p.width > 300 ? { top: h.bottom + 8, right: p.right - 16 } : null;
    },
  };
})();
