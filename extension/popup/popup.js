"use strict";
globalThis.browser ??= globalThis.chrome;

const $ = (id) => document.getElementById(id);

$("options").addEventListener("click", (e) => {
  e.preventDefault();
  browser.runtime.openOptionsPage();
  window.close();
});

(async () => {
  // `?tab=<id>` shows another tab's person (the popup as a page); else the active tab's.
  const asked = Number(new URLSearchParams(location.search).get("tab"));
  const [active] = asked > 0 ? [] : await browser.tabs.query({ active: true, currentWindow: true });
  const tabId = asked > 0 ? asked : active ? active.id : -1;
  const state = await browser.runtime.sendMessage({ type: "getState", tabId }).catch(() => null);
  const main = document.querySelector("main");
  const note = $("note");
  if (!state || !state.ok) return;
  if (!state.hasToken) {
    const revoked = !!state.settings?.revoked;
    note.textContent = revoked ? "Your server disconnected this browser." : "Not connected to a server yet.";
    $("options").textContent = revoked ? "Pair again" : "Connect";
    return;
  }
  const t = state.tab;
  if (!t) {
    if (state.pending) note.textContent = `${state.pending} log(s) waiting to be sent.`;
    return;
  }
  $("name").textContent = t.name || "";
  const tie = t.tie;
  if (tie && Number.isFinite(Number(tie.score))) {
    main.dataset.band = t.stale ? "stale" : String(tie.band);
    $("score").textContent = String(Math.round(Number(tie.score)));
    $("band").textContent = `${tie.band} · top ${tie.layer}`;
    note.textContent = t.stale ? "Last known score (server unreachable)." : "";
  } else {
    note.textContent = t.state === "unknown" ? "Not in your ledger yet." : t.state === "offline" ? "Server unreachable." : t.state === "error" ? String(t.error || "") : "";
  }
  if (state.pending) note.textContent += ` ${state.pending} log(s) waiting.`;
  if ((t.state === "unknown" || t.state === "known") && Array.isArray(t.identities) && t.identities.length) {
    offerSameAs(tabId, t);
  }
})();

// One person, two contacts (an email address and a LinkedIn profile, say): pick the contact the
// person on this tab already is. An unknown person's identities join it; a known one's contact
// is merged into it, which cannot be undone, so that takes a second click.
function offerSameAs(tabId, t) {
  const own = t.state === "known" && t.contact ? t.contact.id : null;
  $("same").hidden = false;
  $("same-ask").textContent = own ? "Also in your ledger as someone else?" : "Already in your ledger under another name or address?";
  const input = $("find").elements.q;
  // The given name finds them whatever surname or initial the other contact has ("Dr." is no name).
  input.value = String(t.name || "").split(/\s+/).find((word) => word && !word.endsWith(".")) || "";
  let asked = 0;
  let timer = null;
  const search = async () => {
    const mine = ++asked;
    const answer = await browser.runtime.sendMessage({ type: "findContacts", q: input.value }).catch(() => null);
    if (mine !== asked) return; // a later search answers instead
    if (!answer || !answer.ok) return say("error", (answer && answer.error) || "The search failed.");
    const found = answer.contacts.filter((c) => c.id !== own);
    $("matches").replaceChildren(...found.map((c) => match(c, own ? "Merge" : "Same person")));
    say("", found.length ? "" : "No contact of that name or address.");
  };
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  $("find").addEventListener("submit", (e) => {
    e.preventDefault();
    search();
  });
  $("matches").addEventListener("click", async (e) => {
    const button = e.target.closest("button[data-contact-id]");
    if (!button) return;
    if (own && !button.hasAttribute("data-confirm")) {
      for (const b of $("matches").querySelectorAll("[data-confirm]")) b.removeAttribute("data-confirm");
      button.setAttribute("data-confirm", "");
      button.querySelector(".act").textContent = "Merge?";
      return say("", `Click again to merge ${t.name || "this contact"} into ${button.dataset.name}: their history becomes one.`);
    }
    for (const b of $("matches").querySelectorAll("button")) b.disabled = true;
    const contactId = Number(button.dataset.contactId);
    const answer = await browser.runtime.sendMessage({ type: "sameAs", tabId, contactId }).catch(() => null);
    if (!answer || !answer.ok) {
      for (const b of $("matches").querySelectorAll("button")) b.disabled = false;
      return say("error", (answer && answer.error) || "That did not work.");
    }
    $("matches").replaceChildren();
    $("find").hidden = true;
    say(own ? "merged" : "linked", `${own ? "Merged into" : "Linked to"} ${answer.contact ? answer.contact.name : button.dataset.name}.`);
  });
  search();
}

function match(contact, action) {
  const button = document.createElement("button");
  button.type = "button";
  button.dataset.contactId = String(contact.id);
  button.dataset.name = contact.name;
  const line = (cls, text) => Object.assign(document.createElement("span"), { className: cls, textContent: text });
  const score = contact.tie && Number.isFinite(Number(contact.tie.score)) ? ` · ${Math.round(Number(contact.tie.score))}` : "";
  button.append(
    line("who", contact.name),
    line("ids", contact.identities.map((i) => i.value).join(", ") + score),
    line("act", action),
  );
  const item = document.createElement("li");
  item.append(button);
  return item;
}

function say(status, text) {
  $("same-status").dataset.status = status;
  $("same-status").textContent = text;
}
