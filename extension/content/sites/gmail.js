"use strict";
// Gmail: the open thread is in the URL hash; the contact is the sender of the open (last expanded)
// message, or, when that message is mine, the person I wrote to. Never the signed-in account, nor
// a robot or a mailing list (content/mail.js).
ST.adapter = (() => {
  const FOLDERS = new Set(["inbox", "all", "sent", "starred", "snoozed", "imp", "drafts", "spam", "trash", "scheduled", "chats", "outbox"]);
  const NESTED = new Set(["search", "label", "category", "advanced-search"]);
  const CHIPS = ".hb :is(span[email], span.g2)"; // recipients
  // What a recipient chip calls me ("to me") in the page's language: "me" in English, Italian and
  // any other (a name elsewhere: "Meg", "Ich"); nothing in Turkish ("ben", a name).
  const ME = ({ tr: "", de: "mich ich", fr: "moi", es: "mí yo", pt: "mim eu", nl: "mij ik", sv: "mig jag", da: "mig", no: "meg", nb: "meg", pl: "mnie ja", cs: "mně já", ru: "мне я", uk: "мені я", ja: "自分", zh: "我", ko: "나" }[document.documentElement.lang.split("-")[0].toLowerCase()] ?? "me").match(/\S+/g) || [];
  let openMessage = null;
  // My address as this account's main window last showed it (remembered by the background).
  // "1", or an address (/mail/u/1/, its pop-outs too); a mailbox delegated to it, /mail/u/1/d/<id>/,
  // is another account ("1+d+<id>"): its address is not mine. A path of the session's own,
  // /mail/u/1/h/<x>/ or /x/<x>/, is still account 1.
  const account = location.pathname.replace(/\/[hx](\/[^/]*)?(?=\/|$)/, "").replace(/^\/mail\/(u\/)?|\/(popout)?$/g, "").replaceAll("/", "+") || "0";
  let remembered = null;
  const prepared = ST.send({ type: "gmailAccount", account }).then((r) => (remembered = r && r.address));

  function route(href) {
    const u = ST.url(href);
    if (!u || u.hostname !== "mail.google.com") return null;
    const popped = !u.hash && poppedOutThread(u);
    if (popped) return { key: `thread:${popped}`, thread: popped, popout: true };
    const parts = u.hash.replace(/^#/, "").split("?")[0].split("/");
    const id = parts.at(-1);
    const ok = (FOLDERS.has(parts[0]) && parts.length >= 2) || (NESTED.has(parts[0]) && parts.length >= 3);
    return ok && /^[A-Za-z0-9]{16,}$/.test(id) ? { key: `thread:${id}`, thread: id } : null;
  }

  // A thread opened in a window of its own ("In new window"): ?view=btop&th=<id>, or /popout?th=<id>;
  // the id is hex, or "#thread-f:" and the same number in decimal. Returned as the hex id the
  // thread's heading carries (data-legacy-thread-id).
  function poppedOutThread(u) {
    if (!(/^(btop|cv)$/.test(u.searchParams.get("view") || "") || /\/popout$/.test(u.pathname))) return null;
    const th = u.searchParams.get("th") || "";
    const decimal = /^#?thread-f:(\d{1,20})$/.exec(th);
    if (decimal) return BigInt(decimal[1]).toString(16);
    return /^[0-9a-f]{12,16}$/i.test(th) ? th.toLowerCase() : null;
  }

  // My addresses: "Inbox (3) - me@example.com - Gmail" (the address is a part of its own: a
  // subject may hold others), else the account button's label: remembered for this account's other
  // windows (a thread popped out shows neither). Also the recipient chips Gmail names "me" in its
  // language (my other addresses), and a send-as alias: my name (the button's) with another
  // address, on a message not sent to me (ST.mail.addSendersOfMyName). Returns them and the
  // senders of my name that may be me or not.
  function myAddresses(messages) {
    const titled = ST.clean(document.title.split(" - ").slice(1, -1).at(-1)); // also direction marks
    const label = document.querySelector('a[aria-label*="@"][href*="accounts.google.com"], header [aria-label*="@"]')?.getAttribute("aria-label") || "";
    const shown = /^[^\s@]+@[^\s@]+$/.test(titled) ? titled.toLowerCase() : ST.mail.email(label);
    if (shown && shown !== remembered) ST.send({ type: "gmailAccount", account, address: (remembered = shown) });
    const mine = new Set([shown || remembered]);
    for (const m of messages) for (const chip of m.el.querySelectorAll(CHIPS)) if (ME.includes(ST.clean(chip.getAttribute("name")).toLowerCase())) mine.add(person(chip)?.email);
    mine.delete(null);
    mine.delete(undefined);
    const myName = ST.clean((/[:：]\s*([^:：(（]+?)\s*[(（]/.exec(label) || [])[1]).toLowerCase(); // also full-width
    return [mine, ST.mail.addSendersOfMyName(mine, myName, messages.map((m) => ({ from: m.from, to: () => m.to })))];
  }

  // The address: the email attribute, else the hover card's id, else the "<address>" beside the
  // name. A name holding an address ("ceo@bank.example" <x@mallory.example>) is not shown.
  function person(el) {
    const email = el && [el.getAttribute("email"), el.getAttribute("data-hovercard-id"), el.parentElement.querySelector(":scope > .go")?.textContent].map(ST.mail.email).find(Boolean);
    if (!email) return null;
    const name = ST.clean(el.getAttribute("name") || el.textContent, 200);
    return { email, name: name && !name.includes("@") ? name : email };
  }

  function parse(m) {
    const from = person(m.querySelector("span.gD") || m.querySelector("td.gF span[email]"));
    const to = [...m.querySelectorAll(CHIPS)].map(person).filter(Boolean);
    const id = m.getAttribute("data-legacy-message-id") || (m.getAttribute("data-message-id") || "").replace(/^#/, "");
    return { el: m, from, to, id };
  }

  // Gmail keeps the threads viewed before in the DOM, hidden.
  const shown = (selector) => [...document.querySelectorAll(selector)].filter(ST.visible);
  // The thread's messages; not a draft of mine ("#msg-a:r-..."), which nobody received.
  const MESSAGES = 'div.adn:not([data-message-id*="msg-a:"])';

  return {
    site: "gmail",
    topInset: 72,
    prepared,
    route,

    snapshot() {
      return { messages: shown(MESSAGES) };
    },

    read(r, snap, final) {
      const nodes = shown(MESSAGES);
      const wait = { status: final ? "none" : "pending" };
      if (!nodes.length) return wait;
      // Right after a hash change the previous thread can still be on screen.
      const same = snap && snap.messages.length === nodes.length && nodes.every((n, i) => n === snap.messages[i]);
      if (same && !final) return wait;
      const threadHead = shown("h2[data-legacy-thread-id]")[0];
      if (/^[0-9a-f]{16}$/i.test(r.thread) && threadHead && threadHead.getAttribute("data-legacy-thread-id") !== r.thread && (!final || r.popout)) return wait;

      const messages = nodes.map(parse);
      const [mine, unsure] = myAddresses(messages);
      // A popped-out window has no account header: without my address, the last sender may be me.
      if (!mine.size && r.popout) return wait;
      const other = (p) => p && !mine.has(p.email) && !unsure.has(p.email) && !ST.mail.unreachable(p);
      let last = messages.at(-1);
      // Sent by one of my name who may be me or not: the card is about the newest message of
      // someone else or of mine (then whom I wrote to), or there is none.
      if (unsure.has(last.from?.email) && !(last = messages.findLast((m) => other(m.from) || mine.has(m.from?.email)))) return { status: final ? "none" : "absent" };
      if (!last.from) return wait;
      let contact = last.from;
      let initiatedBy = "them";
      if (mine.has(contact.email)) {
        initiatedBy = "me";
        contact = last.to.find(other) || messages.map((m) => m.from).reverse().find(other);
      }
      if (!contact) return wait;
      if (ST.mail.unreachable(contact)) return { status: final ? "none" : "absent" };
      openMessage = last.el;
      const seen = new Set([...mine, ...unsure, contact.email]);
      const others = [];
      for (const p of messages.flatMap((m) => [m.from, ...m.to])) {
        if (p && !seen.has(p.email) && !ST.mail.unreachable(p)) {
          seen.add(p.email);
          others.push({ name: p.name, identities: [{ kind: "email", value: p.email }] });
        }
      }
      return {
        status: "ready",
        person: {
          site: "gmail",
          name: contact.name,
          identities: [{ kind: "email", value: contact.email }],
          externalRef: last.id ? `gmail:${last.id}` : undefined,
          initiatedBy,
          headline: ST.clean(shown("h2.hP")[0]?.textContent, 160),
          others,
        },
      };
    },

    // Just below the open message's header, at its right edge.
    anchor() {
      if (!openMessage || !openMessage.isConnected) return null;
      const sender = openMessage.querySelector("span.gD, td.gF");
      const header = sender && (sender.closest("table") || sender.closest(".gE") || sender);
      const box = openMessage.getBoundingClientRect();
      const h = ST.rect(header);
      return h && box.width > 300 ? { top: h.bottom + 8, right: box.right - 12 } : null;
    },
  };
})();
