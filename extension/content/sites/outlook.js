"use strict";
// Outlook on the web: /mail/.../id/<ItemID> or a deeplink; the person is the newest sender of the
// reading pane's open messages who is not me or, when every one is mine, the person I wrote to; no
// card when that is a robot or a mailing list (content/mail.js).
ST.adapter = (() => {
  const LINES = '[data-app-section="FromLine"], span[id*="PersonaName"]';
  const LISTED = '[role="listbox"], [role="option"], [role="grid"], [role="row"]';
  // The message itself: addresses in it are never the sender's or the recipient's.
  const BODY = '[role="document"], blockquote, [aria-label*="body" i], [id^="UniqueMessageBody"]';
  // Labels are translated: failing the English one, a region with a from line outside any list.
  const PANES = [
    "#ReadingPaneContainerId",
    '[data-automationid="ReadingPaneContainer"]',
    '[role="region"][aria-label*="Reading" i]',
    `[role="region"]:has(:is(${LINES}):not(:is(${LISTED}) *))`,
    '[role="main"]',
  ];
  const ADDRESSED = '[title*="@"], [aria-label*="@"], [data-email*="@"], a[href^="mailto:" i]';
  // What Outlook writes right after a sender's name: "<address>".
  const NEXT = new RegExp(`^\\s*<(${ST.mail.EMAIL})>`);
  const ATTRS = ["data-email", "href", "aria-label", "title"];
  // "From:" before a sender's name, in Outlook's languages.
  const LABEL = /^(From|Von|De( la)?|Da|Van|Från|Fra|Od|От( кого)?|Від|Kimden|Dari(pada)?|Lähettäjä|Feladó|Từ|Από|מאת|من|Saatja|Nuo|Frá|प्रेषक|از|差出人|发件人|寄件者|보낸 사람|จาก)\s*[:：]\s*/i;
  // "Kim Lee on behalf of Daniel Okafor", in Outlook's languages (Swedish "Kim Lee för Daniel", Chinese
  // "Kim Lee 代表 Daniel", Japanese "Kim Leeが次の人の代理で送信しました: Daniel").
  const BEHALF = /\s(?:on behalf of|im Auftrag von|au nom de|en nombre de|em nome de|per conto di|namens|w imieniu|på vegne a[fv]|от имени|för)\s|\s*(?:代表|が次の人の代理で送信しました[:：]?)\s*/gi;
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
    const id = ST.decoded(raw) ?? raw;
    const box = ST.decoded(seg[1] || "") || "";
    return { key: `item:${id}`, item: id, mailbox: ST.mail.email(box) === box.toLowerCase() ? box.toLowerCase() : null };
  }

  function findPane() {
    for (const sel of PANES) for (const el of document.querySelectorAll(sel)) if (ST.visible(el)) return el;
    return null;
  }

  const attr = (el, a) => ST.decoded(el.getAttribute(a) || "") ?? el.getAttribute(a); // mailto:name%40example.com
  // An element's addresses: its own first (data-email, mailto:), then its labels' (ST.mail.emails).
  const emailsOf = (el) => ATTRS.flatMap((a) => ST.mail.emails(attr(el, a)));
  // A sender's: in a label ("Von: Name <address>"), the last in brackets (ST.mail.email).
  const emailOf = (el) => ATTRS.map((a) => ST.mail.email(attr(el, a))).find(Boolean);

  // The from lines of the pane's messages, outside any list; without any, its first persona (the
  // others are the recipients).
  function fromLines(p) {
    const free = (l) => !l.closest(LISTED);
    const lines = [...p.querySelectorAll('[data-app-section="FromLine"]')].filter(free);
    return lines.length ? lines : [...p.querySelectorAll('span[id*="PersonaName"]')].filter(free).slice(0, 1);
  }

  // The open messages, newest first. A conversation shows its newest message open, the older ones
  // folded unless unread or opened, newest on top (Outlook's default) or on bottom as the user
  // set it, which the page does not say: folded messages only above the open ones tell it is on
  // bottom; otherwise (none folded, or some on both sides: dates are in the user's own format)
  // the default order is taken.
  function opened(all) {
    const bodies = new Map(
      all.map((line) => {
        let m = line;
        while (m.parentElement && m.parentElement !== pane && !all.some((l) => l !== line && m.parentElement.contains(l))) m = m.parentElement;
        return [line, [...m.querySelectorAll(BODY)]];
      }),
    );
    // Not a draft of mine (its body an editor): nobody received it yet.
    const lines = all.filter((l) => !bodies.get(l).length || !bodies.get(l).every((b) => b.isContentEditable));
    const open = lines.map((l) => bodies.get(l).length > 0);
    const o = lines.filter((_, i) => open[i]);
    return !o.length ? lines : !open[0] && open.at(-1) ? o.reverse() : o;
  }

  const following = (line) => (el) => line.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING && !line.contains(el);

  // Me: the account menu's address (in the page once the menu was opened), the mailbox in the URL
  // (/mail/<shared@...>/...: a shared mailbox I opened), and a sender of my name: the title says
  // who I am ("Mail - Alex Morgan - Outlook") even when the menu never was opened. Not a sender of
  // my name writing to me (to an address of mine or, none known, to one of my name): a namesake
  // (ST.mail.addSendersOfMyName). Only an address on a from line itself counts. Returns them and
  // the senders of my name that may be me or not.
  function myAddresses(lines, senders, mailbox) {
    const me = new Set([mailbox]);
    for (const sel of ME_SELECTORS) {
      const el = document.querySelector(sel);
      me.add(el && (ST.mail.email(el.textContent) || ST.mail.email(el.getAttribute("aria-label"))));
    }
    me.delete(null);
    const title = document.title.split(/\s+[-–—|]\s+/);
    const name = title.length > 2 && /outlook/i.test(title.at(-1)) && ST.clean(title.at(-2)).toLowerCase(); // also direction marks
    const mails = senders.map((p, i) => ({ from: p?.own ? p : null, to: () => addressedAfter(lines[i]) }));
    // The addresses known before: the rule by name holds for every sender, not until one is added.
    return [me, ST.mail.addSendersOfMyName(me, name, mails, { known: new Set(me), byName: true })];
  }

  // The first of the text `scope` shows after `line`, one of its descendants.
  function textAfter(line, scope) {
    const r = document.createRange();
    r.selectNodeContents(scope);
    r.setStartAfter(line);
    return r.toString().slice(0, 200);
  }

  // The sender: name from the from line; address from it or, up to 4 levels out, from what comes
  // before it (an avatar's label, the text beside the name), never from a header line after it
  // (To, Cc) or the message. `own`: the address is on the from line itself. One in the line's text
  // (the display name may be an address) yields only to the line's labels or to the <address>
  // Outlook writes right after the line; never to anything before it (an avatar's label).
  function sender(line) {
    const after = following(line);
    let scope = line;
    let level = 0;
    let email = null;
    let shown = null;
    for (;;) {
      const addressed = [...scope.querySelectorAll(ADDRESSED)];
      if (level > 0 && (addressed.some(after) || scope.querySelector(BODY))) break;
      const text = (scope.textContent || "").slice(0, 400);
      const labels = [scope, ...addressed].filter((el) => el.matches(ADDRESSED) && !after(el)).map(emailOf);
      const rest = level ? ST.mail.plain(textAfter(line, scope)) : "";
      if (!level) shown = ST.mail.email(text);
      email = level ? rest.match(NEXT)?.[1].toLowerCase() || (!shown && (labels.find(Boolean) || ST.mail.bracketed(text).at(-1))) : labels.find(Boolean);
      if (email || (shown && rest.trim()) || level >= 4 || scope === pane || !scope.parentElement || scope.parentElement === pane) break;
      scope = scope.parentElement;
      level++;
    }
    if (!email && shown) [email, scope, level] = [shown, line, 0];
    // The name is the text carrying the address, not a tag beside it ("External").
    const nameEl =
      (!level && [...line.querySelectorAll(ADDRESSED)].find((el) => emailOf(el) === email && ST.clean(el.textContent))) ||
      NAME_SELECTORS.map((s) => line.querySelector(s) || (line.matches(s) ? line : null)).find(Boolean) ||
      line;
    let text = nameEl.textContent || "";
    // "Kim Lee on behalf of Daniel Okafor": Kim, a delegate, sent Daniel's mail (replies go to
    // him): the person is Daniel, by the address after the phrase, never Kim's; none there, no
    // card. The phrase counts outside the names carrying an address; "för" and "代表" only after
    // an address (Kim's), else they are part of a name ("Centrum för hälsa").
    let masked = ""; // the line's text, those names blanked
    const names = new Map(); // each one: where it starts
    const walk = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    for (let n, a; (n = walk.nextNode()); masked += a ? "\0".repeat(n.length) : n.data) {
      a = n.parentElement.closest(ADDRESSED);
      if ((a = a !== line && line.contains(a) && a) && !names.has(a)) names.set(a, masked.length);
    }
    const m = [...masked.matchAll(BEHALF)].at(-1);
    const at = m && m.index + m[0].length;
    if (m && (!/för|代表/i.test(m[0]) || [...names.values()].some((i) => i < m.index) || ST.mail.email(masked.slice(0, m.index)))) {
      text = line.textContent.slice(at);
      const his = [...names].find(([, i]) => i >= at)?.[0];
      email = level ? null : ST.mail.email(masked.slice(at)) || (his && emailOf(his));
    }
    if (!email) return null;
    // Up to the <address> written after the name (a tag may follow it), cut as the ledger keeps it.
    const name = ST.clean(ST.dedupe(text.replace(/<[^<>]*@[^]*|<[^>]*>|\S+@\S+/g, " ")).replace(LABEL, ""));
    // The card goes below the header block around the address.
    const block = scope !== pane && scope.parentElement !== pane ? scope.parentElement : null;
    return { email, name: name || email, own: level === 0, el: block || line };
  }

  // The addresses on the header lines after a from line (To, then Cc), up to 4 levels out, never
  // in the message.
  function addressedAfter(line) {
    const after = following(line);
    const found = [];
    for (let head = line.parentElement, i = 0; head && head !== pane && i < 4; head = head.parentElement, i++) {
      for (const el of head.querySelectorAll(ADDRESSED)) {
        if (after(el) && !el.closest(BODY)) for (const email of emailsOf(el)) found.push({ email, name: ST.clean(el.textContent), el: head });
      }
      if (head.querySelector(BODY)) break;
    }
    return found;
  }

  // Mail I sent: the first address there not mine.
  function recipient(line, me) {
    const r = addressedAfter(line).find((r) => !me.has(r.email) && !ST.mail.unreachable(r));
    return r && { ...r, name: r.name && !/[@:;<]/.test(r.name) ? r.name : r.email };
  }

  return {
    site: "outlook",
    topInset: 56,
    route,

    snapshot() {
      const p = findPane();
      const line = p && fromLines(p)[0];
      return { line, text: line ? line.textContent : null };
    },

    read(r, snap, final) {
      const wait = { status: final ? "none" : "pending" };
      pane = findPane();
      if (!pane) return wait;
      const all = fromLines(pane);
      if (!all.length) return wait;
      if (snap && snap.line === all[0] && snap.text === all[0].textContent && !final) return wait;
      const lines = opened(all);
      const senders = lines.map(sender);
      const [me, unsure] = myAddresses(lines, senders, r.mailbox);
      const absent = { status: final ? "none" : "absent" };
      // One of my name who may be me or not is neither me nor the person.
      let found = senders.find((p) => p && !me.has(p.email) && !unsure.has(p.email));
      const mine = !found && senders.some((p) => p?.own && me.has(p.email));
      if (mine) found = lines.map((l, i) => me.has(senders[i]?.email) && recipient(l, me)).find(Boolean);
      if (!found) return senders.some((p) => unsure.has(p?.email)) ? absent : wait;
      if (ST.mail.unreachable(found)) return absent;
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
