"use strict";
// What the mail adapters (Gmail, Outlook) share: senders nobody keeps a tie with.
ST.mail = (() => {
  // Robots (no-reply, notifications, bounces) and list addresses (Google Groups, groups.io,
  // mailman's -request / -bounces): nobody is reachable there.
  const ROBOT =
    /^([^@]*(no[-_.]?reply|do[-_.]?not[-_.]?reply|notification|mailer-daemon)[^@]*|postmaster|notify|bounces?([+-][^@]*)?|[^@]+-(bounces|request|owner)(\+[^@]*)?)@|@([^@]+\.)?(googlegroups\.com|groups\.io)$/i;
  // A list that rewrites the From ("'Jane Doe' via Friends <friends@...>") hides the person.
  // Lists write "via" in lower case; "Ana Via Lopez" is a person.
  const VIA = /\S\s+via\s+\S/;

  return {
    // Not a person: show no card rather than a wrong one.
    unreachable: (p) => !!p && (ROBOT.test(p.email) || VIA.test(p.name || "")),
  };
})();
