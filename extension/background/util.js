"use strict";
// Shared helpers of the background scripts (loaded first; classic scripts share one global scope).
globalThis.browser ??= globalThis.chrome;

const DEFAULT_SERVER = "http://localhost:5151";
const KINDS = ["email", "message", "call", "video", "meeting", "coffee", "meal", "event", "introduction", "favor"];
const INITIATORS = ["me", "them", "mutual"];
const SITES = ["linkedin", "gmail", "outlook"];
const EMAIL_RE = /^[^\s@<>()[\]\\,;:"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$/;

function isPlainObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function cleanText(v, max) {
  if (typeof v !== "string") return "";
  // Control characters never belong in a name or note; collapse runs of whitespace. Cut by code
  // points: half an emoji is not text, and the server refuses it.
  return [...v.replace(/[\u0000-\u0008\u000B-\u001F\u007F]/g, "").replace(/[ \t\r\n]+/g, " ").trim()].slice(0, max).join("");
}

// Identities as the content scripts send them; the server canonicalises again and is the authority.
function cleanIdentity(i) {
  if (!isPlainObject(i) || typeof i.value !== "string") return null;
  if (i.kind === "email") {
    const value = i.value.trim().toLowerCase();
    return EMAIL_RE.test(value) ? { kind: "email", value } : null;
  }
  if (i.kind === "linkedin") {
    const value = i.value.normalize("NFC").trim();
    if (value.length > 200 || !/^[\p{L}\p{M}\p{N}._-]+$/u.test(value)) return null;
    return { kind: "linkedin", value: /^ACo[A-Za-z0-9_-]{10,}$/.test(value) ? value : value.toLowerCase() };
  }
  return null;
}

function cleanIdentities(list) {
  if (!Array.isArray(list)) return [];
  const seen = new Set();
  const out = [];
  for (const raw of list.slice(0, 10)) {
    const i = cleanIdentity(raw);
    if (i && !seen.has(identityKey(i))) {
      seen.add(identityKey(i));
      out.push(i);
    }
  }
  return out;
}

function identityKey(i) {
  return `${i.kind}:${i.value}`;
}

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

function isLoopbackOrigin(origin) {
  try {
    const u = new URL(origin);
    return u.protocol === "http:" && (u.hostname === "localhost" || u.hostname === "127.0.0.1");
  } catch {
    return false;
  }
}

// A tiny mutex per name: storage read-modify-write sequences must not interleave.
const locks = new Map();
function serial(name, fn) {
  const prev = locks.get(name) || Promise.resolve();
  const next = prev.then(fn, fn);
  locks.set(name, next.catch(() => {}));
  return next;
}

function daysSince(iso) {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? Math.max(0, Math.floor((Date.now() - t) / 86400000)) : null;
}
