"use strict";
// What the mail adapters (Gmail, Outlook) share: reading addresses, and senders nobody keeps a
// tie with.
ST.mail = (() => {
  const EMAIL = /[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}/.source;
  const BARE = new RegExp(EMAIL, "g");
  const BRACKETED = new RegExp(`<(${EMAIL})>`, "g");
  // Invisible format characters (direction marks, zero-width joiners) a display name can end with.
  const plain = (s) => String(s || "").replace(/\p{Cf}/gu, "");
  // A display name is free text: "ceo@bank.example", or "Bank CEO <ceo@bank.example>", before the
  // real <x@mallory.example>. With angle brackets, only what is in them counts; without, the bare.
  const bracketed = (s) => [...plain(s).matchAll(BRACKETED)].map((m) => m[1].toLowerCase());
  const bare = (s) => (plain(s).match(BARE) || []).map((e) => e.toLowerCase());
  // Robots (no-reply, notifications, bounces, Exchange's system mailbox) and list addresses
  // (Google Groups, groups.io, mailman's -request / -bounces): nobody is reachable there.
  const ROBOT =
    /^([^@]*(no[-_.]?reply|do[-_.]?not[-_.]?reply|notification|mailer-daemon)[^@]*|postmaster|notify|bounces?([+-][^@]*)?|[^@]+-(bounces|request|owner)(\+[^@]*)?|microsoftexchange[0-9a-f]{32})@|@([^@]+\.)?(googlegroups\.com|groups\.io)$/i;
  // A list that rewrites the From ("'Jane Doe' via Friends <friends@...>") hides the person.
  // Lists write "via" in lower case; "Ana Via Lopez" is a person.
  const VIA = /\S\s+via\s+\S/;

  return {
    EMAIL, // the pattern of an address, as regular-expression source
    plain,
    bracketed,

    // The addresses in s, one per recipient, as email() reads it: "A <a@x>; B (b@y)" gives both,
    // "A (a@old) <a@new>" a@new only. Recipients part at "," and ";" outside quotes and brackets.
    emails(s) {
      return (plain(s).match(/(?:"[^"]*"?|<[^>]*>?|[^,;"<])+/g) || []).map(ST.mail.email).filter(Boolean);
    },

    // The one address in s: the last in angle brackets (the sender's, after the name), else the
    // first; null if there is none.
    email(s) {
      const b = bracketed(s);
      return b.length ? b.at(-1) : bare(s)[0] || null;
    },

    // "A sender with my name, not writing to me, is me" (a send-as alias, another address of mine);
    // one of my name writing to me is a namesake, someone else. Adds those senders' addresses to
    // `mine`. mails: [{from, to}], `to` a function giving the recipients (read only for a sender
    // of my name). Writing to me: to an address in `known` (by default `mine`, growing as this
    // adds to it) or, with `byName` and `known` empty, to someone else of my name. With an address
    // of mine known, the sender's must also have received mail here from someone else; else it
    // may be my alias or a namesake whose mail reached me through a list or as a Bcc: returned
    // among the unsure, to be neither me nor the person on the card, unless another of their
    // messages here was written to me (then a namesake).
    addSendersOfMyName(mine, myName, mails, { known = mine, byName = false } = {}) {
      const unsure = new Set();
      const namesakes = new Set();
      for (const { from, to } of mails) {
        if (!myName || from?.name.toLowerCase() !== myName || mine.has(from.email)) continue;
        const blind = byName && !known.size;
        const toMe = (r) => (blind ? r.email !== from.email && r.name.toLowerCase() === myName : known.has(r.email));
        const mailed = (m) => m.from?.email !== from.email && m.to().some((r) => r.email === from.email);
        if (to().some(toMe)) namesakes.add(from.email);
        else (blind || mails.some(mailed) ? mine : unsure).add(from.email);
      }
      for (const email of namesakes) unsure.delete(email);
      return unsure;
    },

    // Not a person: show no card rather than a wrong one.
    unreachable: (p) => !!p && (ROBOT.test(p.email) || VIA.test(p.name || "")),
  };
})();
