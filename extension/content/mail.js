"use strict";
// What the mail adapters (Gmail, Outlook) share: reading addresses, and senders nobody keeps a
// tie with.
ST.mail = (() => {
  const EMAIL = /[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}/.source;
  // An address, or one that is only a display name followed by the address ("ceo@bank.example"
  // <x@mallory.example>): then the second is the sender's.
  const EMAIL_RE = new RegExp(`(${EMAIL})(?:"?\\s*<(${EMAIL})>)?`);
  // Robots (no-reply, notifications, bounces) and list addresses (Google Groups, groups.io,
  // mailman's -request / -bounces): nobody is reachable there.
  const ROBOT =
    /^([^@]*(no[-_.]?reply|do[-_.]?not[-_.]?reply|notification|mailer-daemon)[^@]*|postmaster|notify|bounces?([+-][^@]*)?|[^@]+-(bounces|request|owner)(\+[^@]*)?)@|@([^@]+\.)?(googlegroups\.com|groups\.io)$/i;
  // A list that rewrites the From ("'Jane Doe' via Friends <friends@...>") hides the person.
  // Lists write "via" in lower case; "Ana Via Lopez" is a person.
  const VIA = /\S\s+via\s+\S/;

  return {
    EMAIL_RE,

    // The first address in s (as EMAIL_RE reads it), lowercased; null if there is none.
    email(s) {
      const m = String(s || "").match(EMAIL_RE);
      return m ? (m[2] || m[1]).toLowerCase() : null;
    },

    // "A sender with my name, not writing to me, is me" (a send-as alias, another address of mine);
    // one of my name writing to me is a namesake, someone else. Adds those senders' addresses to
    // `mine`. mails: [{from, to}], `to` a function giving the recipients (read only for a sender
    // of my name). Writing to me: to an address in `known` (by default `mine`, growing as this
    // adds to it) or, with `byName` and `known` empty, to someone else of my name.
    addSendersOfMyName(mine, myName, mails, { known = mine, byName = false } = {}) {
      if (!myName) return;
      for (const { from, to } of mails) {
        if (from?.name.toLowerCase() !== myName) continue;
        const toMe = (r) => (byName && !known.size ? r.email !== from.email && r.name.toLowerCase() === myName : known.has(r.email));
        if (!to().some(toMe)) mine.add(from.email);
      }
    },

    // Not a person: show no card rather than a wrong one.
    unreachable: (p) => !!p && (ROBOT.test(p.email) || VIA.test(p.name || "")),
  };
})();
