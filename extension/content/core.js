"use strict";
// Shared helpers for the site adapters, the overlay and the runtime (classic scripts, one scope).
globalThis.browser ??= globalThis.chrome;

const ST = {
  adapter: null, // set by content/sites/<site>.js

  // Messages to the background; null when the extension was reloaded under this page.
  async send(msg) {
    try {
      return await browser.runtime.sendMessage(msg);
    } catch {
      return null;
    }
  },

  // Invisible marks out; joiners (U+200C, U+200D) stay inside a word, where they belong to it
  // (an emoji sequence, a Persian or Indic name).
  clean(s, max = 200) {
    s = String(s || "")
      .replace(/[\u200B\u200E\u200F\u2028-\u202E\u2060-\u206F\uFEFF]/g, "")
      .replace(/(?<!\S)[\u200C\u200D]+|[\u200C\u200D]+(?!\S)/g, "")
      .replace(/\s+/g, " ")
      .trim();
    return [...s].slice(0, max).join(""); // by code points: never half an emoji
  },

  // Visible text plus a screen-reader copy ("Jane DoeJane Doe"): keep one. Only multi-word
  // halves count, so "Lulu" or "Anna Anna" stay as they are.
  dedupe(s) {
    s = ST.clean(s, 400);
    for (const sep of ["", " "]) {
      const n = s.length - sep.length;
      const a = s.slice(0, n / 2);
      if (n > 0 && n % 2 === 0 && a.includes(" ") && s === a + sep + a) return a;
    }
    return s;
  },

  // Text of an element, preferring the aria-hidden visible copy over screen-reader duplicates.
  text(el) {
    if (!el) return "";
    const visible = el.querySelector('span[aria-hidden="true"]');
    return ST.dedupe(visible && ST.clean(visible.textContent) ? visible.textContent : el.textContent);
  },

  visible: (el) => !!el && el.isConnected && el.checkVisibility(),

  // querySelector that also walks open shadow roots (LinkedIn renders parts in #interop-outlet).
  deepQuery(selector, root = document) {
    const hit = root.querySelector(selector);
    if (hit) return hit;
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT);
    for (let n = walker.nextNode(), i = 0; n && i < 20000; n = walker.nextNode(), i++) {
      if (n.shadowRoot) {
        const found = ST.deepQuery(selector, n.shadowRoot);
        if (found) return found;
      }
    }
    return null;
  },

  // As the server does: percent-decoded, NFC, letters and digits of any script and - _ .,
  // lowercased except internal member ids (ACoAA...), which are case-sensitive.
  canonicalSlug(raw) {
    let s = ST.decoded(String(raw || ""));
    if (s === null) return null;
    s = s.normalize("NFC").trim();
    if (s.length > 200 || !/^[\p{L}\p{M}\p{N}._-]+$/u.test(s) || /linkedin\./i.test(s)) return null;
    return /^ACo[A-Za-z0-9_-]{10,}$/.test(s) ? s : s.toLowerCase();
  },

  // Percent-decoded, or null if it does not decode.
  decoded(s) {
    try {
      return decodeURIComponent(s);
    } catch {
      return null;
    }
  },

  url(href) {
    try {
      return new URL(href);
    } catch {
      return null;
    }
  },

  rect(el) {
    return el?.isConnected ? el.getBoundingClientRect() : null;
  },
};
