"use strict";
// LinkedIn: the person is the profile slug in the URL, or in a one-to-one message thread the
// profile its header links to; the name is read from the page once it shows that person
// (LinkedIn is a single-page app).
ST.adapter = (() => {
  const NAME_SELECTORS = ["h1.text-heading-xlarge", ".pv-text-details__left-panel h1", ".top-card-layout__title", "main h1"];
  const PHOTO_SELECTORS = [
    'img[class*="pv-top-card-profile-picture__image"]',
    ".pv-top-card__photo img",
    "img.top-card__profile-image",
    'main img[class*="profile-picture"]',
    'main img[class*="profile-photo"]',
  ];
  const HEADLINE_SELECTORS = ["div.text-body-medium.break-words", ".pv-text-details__left-panel .text-body-medium", ".top-card-layout__headline"];
  const SHADOW_HOSTS = '#interop-outlet, [data-testid="interop-shadowdom"]';
  const NOT_NAMES = /^(linkedin|feed|messaging|notifications|my network|jobs|home|sign in|sign up|log in|join linkedin|profile|about|experience|education|skills|activity|contact info)$/i;
  const SECTION_PAGES = new Set(["details", "recent-activity"]);
  // Out of network, unnamed: "LinkedIn Member", "Membre de LinkedIn", "领英会员"... by the word for
  // a member (a person may call themselves "Sarah Smith LinkedIn" or "LinkedIn Lisa").
  const HIDDEN = /^(LinkedIn[ -]?(Member|Mitglied|lid|medlem|jäsen|tag|üyesi|회원|メンバー|會員|会员|सदस्य)|(Membre|Miembro|Membro|Utente|Użytkownik|Участник|Учасник|Anggota|Ahli|Člen|Membru|Μέλος|Thành viên|חבר|عضو|สมาชิก)( \S+){0,2} LinkedIn|领英会员)$/i;
  // A missing profile's h1 (en de fr es pt it nl cs ro; ja zh ko ru uk pl tr sv da no id ar hi
  // by their "does not exist"); a name may say "available".
  const UNAVAILABLE = /exist|esiste|bestaat|unavailable|not available|nicht verfügbar|niet beschikbaar|\b(pas|no|não|non)\b.*disponi|page not found|存在しません|不存在|존재하지|не существует|не існує|nie istnieje|mevcut değil|findes ikke|finnes ikke|finns inte|tidak ada|غير موجود|मौजूद नहीं/i;
  // A thread's pane, and in it the links to the person it is with (header, profile card).
  const THREAD_PANES = ["main .msg-thread", ".scaffold-layout__detail", "main"];
  const THREAD_HEADER = ".msg-title-bar, .msg-entity-lockup, .msg-thread__link-to-profile";
  const THREAD_LINKS = ["a.msg-thread__link-to-profile", '.msg-title-bar a[href*="/in/"]', '.msg-s-profile-card a[href*="/in/"]'];
  const THREAD_NAMES = [".msg-entity-lockup__entity-title", ".msg-thread__link-to-profile h2", ".msg-s-profile-card .artdeco-entity-lockup__title"];
  const ACTIVE_THREAD = 'main :is(.msg-conversations-container__convo-item-link--active, [aria-current=page])[href*="/thread/"]';
  const DEGREE = /\s*·\s*[1-3](st|nd|rd|\.|e)?\+?$/i; // "· 2nd" after a headline
  const THREAD_HEADLINES = [".msg-entity-lockup__entity-info", ".msg-s-profile-card .artdeco-entity-lockup__subtitle"];
  const PENDING = { status: "pending" };
  let nameEl = null;
  let threadPane = null;
  // The one on screen: LinkedIn may keep a page it left in the DOM, hidden, for a quick way back
  // (out of the layout, or invisible in it).
  const shown = (el) => el.checkVisibility({ visibilityProperty: true });
  const pick = (sel, root = document) => [...root.querySelectorAll(sel)].find(shown);

  function route(href) {
    const u = ST.url(href);
    if (!u || !/(^|\.)linkedin\.com$/i.test(u.hostname)) return null;
    const seg = u.pathname.split("/").filter(Boolean);
    const i = seg[0] === "m" || seg[0] === "mwlite" ? 1 : 0;
    if (seg[0] === "messaging") {
      const thread = seg[1] === "thread" && seg[2] !== "new" && ST.decoded(seg[2] || "");
      return thread ? { key: `thread:${thread}`, thread } : null;
    }
    if (seg[i] === "in" && seg[i + 1]) {
      const slug = ST.canonicalSlug(seg[i + 1]);
      // The h1 of a section page (/details/..., /recent-activity/...) names the section.
      return slug && slug !== "me" ? { key: `in:${slug}`, slug, section: SECTION_PAGES.has(seg[i + 2]) } : null;
    }
    // Legacy /pub/<name>/<a>/<b>/<c> is /in/<name>-<c><b><a> (zero-padded hex groups).
    if (seg[i] === "pub" && seg[i + 1] && seg[i + 1] !== "dir") {
      const name = ST.canonicalSlug(seg[i + 1]);
      const [a, b, c] = seg.slice(i + 2, i + 5);
      if (name && c && [a, b, c].every((p) => /^[0-9a-f]{1,3}$/i.test(p))) {
        const slug = `${name}-${c.padStart(3, "0")}${b.padStart(3, "0")}${a}`.toLowerCase();
        return { key: `in:${slug}`, slug, legacy: true };
      }
    }
    return null;
  }

  // "Jane Doe | Board Advisor": a tagline some put after their name; "Jane Doe · 1st": the degree.
  function cleanName(s) {
    s = ST.dedupe(s)
      .split(/\s+\|\s+/)[0]
      .replace(DEGREE, "")
      .replace(/,\s*#?(OPEN_TO_WORK|HIRING)\s*$/i, "")
      .trim();
    return s && s.length <= 120 && !NOT_NAMES.test(s) && !s.includes("|") ? s : null;
  }

  // "(3) Jane Doe | LinkedIn", "Experience | Jane Doe | LinkedIn", "Jane Doe - Acme | LinkedIn"
  function titleName() {
    const parts = ST.clean(document.title).split(/\s+\|\s+/);
    if (parts.length < 2 || !/^LinkedIn$/i.test(parts.at(-1))) return null;
    return cleanName(parts.at(-2).replace(/^\(\d+\+?\)\s*/, "").split(/\s+[-–—]\s+/)[0]);
  }

  function shadowQuery(selector, full) {
    for (const host of document.querySelectorAll(SHADOW_HOSTS)) {
      const hit = host.shadowRoot && pick(selector, host.shadowRoot);
      if (hit) return hit;
    }
    return full ? ST.deepQuery(selector) : null;
  }

  function candidates(full, slug) {
    const out = [];
    for (const sel of NAME_SELECTORS) {
      const el = pick(sel);
      if (el) out.push({ el, name: cleanName(ST.text(el)), from: "h1" });
    }
    // Else an h1 elsewhere; else, the h1s naming nobody (a dialog's), a newer top card's h2: the
    // first in a card linking to this profile (not a chat bubble's).
    const roots = [...document.querySelectorAll(SHADOW_HOSTS)].map((h) => h.shadowRoot || h).concat(document.querySelector("main") || document);
    for (const find of [() => shadowQuery("main h1, h1", full), () => roots.flatMap((r) => [...r.querySelectorAll("h2")]).find((h) => shown(h) && selfLinked(h, slug, 1))]) {
      const el = !out.some((c) => c.name) && find();
      if (el) out.push({ el, name: cleanName(ST.text(el)), from: "h1" });
    }
    out.push({ el: null, name: titleName(), from: "title" });
    const photo = PHOTO_SELECTORS.map((sel) => pick(sel) || shadowQuery(sel, false)).find(Boolean);
    if (photo) out.push({ el: photo, name: cleanName(photo.alt), from: "photo" });
    return out.filter((c) => c.name);
  }

  // Embedded JSON (code[id^=bpr-guid-]); stale blobs of earlier pages stay in the DOM, so only a
  // profile whose publicIdentifier (or member id) is this URL's counts: the first with a name,
  // else the first that gives its public identifier (a member-id page may carry only that).
  function fromCodeBlobs(slug) {
    let nameless = null;
    const walk = (node, depth) => {
      if (!node || typeof node !== "object" || depth > 14) return null;
      if (!Array.isArray(node)) {
        const pid = str(node.publicIdentifier);
        const urn = str(node.entityUrn);
        if ((pid && ST.canonicalSlug(pid) === slug) || (/^ACoA/.test(slug) && urn.endsWith(`:${slug}`))) {
          const memberId = (/^urn:li:fsd_profile:(ACoA[\w-]+)$/.exec(urn) || [])[1];
          const found = { name: cleanName(`${str(node.firstName)} ${str(node.lastName)}`), headline: ST.clean(str(node.headline)), publicIdentifier: pid, memberId };
          if (found.name) return found;
          if (pid) nameless ||= found;
        }
      }
      for (const v of Object.values(node)) {
        const found = walk(v, depth + 1);
        if (found) return found;
      }
      return null;
    };
    for (const code of document.querySelectorAll('code[id^="bpr-guid-"]')) {
      const text = code.textContent || "";
      if (text.length > 4e6 || !text.toLowerCase().includes(slug.toLowerCase())) continue;
      try {
        const found = walk(JSON.parse(text), 0);
        if (found) return found;
      } catch {}
    }
    return nameless;
  }

  // The slug, and the other the page's data gives for the member (vanity first): threads link
  // to member ids, so a contact logged from a profile is found from its threads.
  function identitiesOf(slug, blob) {
    const member = /^ACoA/.test(slug);
    const other = blob && ST.canonicalSlug(member ? blob.publicIdentifier : blob.memberId);
    const values = !other || other === slug ? [slug] : member ? [other, slug] : [slug, other];
    return values.map((value) => ({ kind: "linkedin", value }));
  }

  const str = (v) => (typeof v === "string" ? v : typeof v?.text === "string" ? v.text : "");
  const up = (el) => el.parentElement || el.getRootNode().host;

  // The top card around a name links to its own profile (contact info, activity ...).
  // With `top`, by a link to the profile or its overlays: a section's title links to its details.
  function selfLinked(el, slug, top) {
    for (let n = el && up(el), i = 0; n && i < 6 && !n.matches("main, body"); n = up(n), i++) {
      for (const a of n.querySelectorAll('a[href*="/in/"]')) {
        const r = route(a.href);
        if (r?.slug === slug && !(top && r.section)) return true;
      }
    }
    return false;
  }

  // By class name, else by layout (hashed classes): the first text below the name's line (a
  // badge, pronouns, the degree stay on it; a screen-reader copy has no height), in its card.
  function headlineOf(el) {
    const card = topCard(el);
    const known = card && HEADLINE_SELECTORS.map((s) => card.querySelector(s)).find(Boolean);
    if (known || !card) return ST.text(known);
    const line = el.getBoundingClientRect().bottom - 2;
    const w = document.createTreeWalker(card, NodeFilter.SHOW_TEXT);
    w.currentNode = el;
    for (let t, p; (t = w.nextNode()); ) {
      const box = (p = t.parentElement)?.getBoundingClientRect();
      if (box?.top >= line && box.height > 1 && ST.clean(t.data).replace(DEGREE, "")) return ST.text(p).replace(DEGREE, "");
    }
    return "";
  }

  function topCard(el) {
    return (el && (el.closest("section") || el.closest(".pv-top-card, .top-card-layout") || el.parentElement)) || null;
  }

  function canonicalSlug() {
    const link = document.querySelector('link[rel="canonical"], meta[property="og:url"]');
    const r = link && route(link.getAttribute("href") || link.getAttribute("content") || "");
    return r && !r.legacy ? r.slug : null;
  }

  // The one profile a thread's header (or the profile card atop it) links to. A group thread
  // names several people, or links to none once its messages are in.
  function threadPerson() {
    const pane = THREAD_PANES.map((sel) => [...document.querySelectorAll(sel)].find(shown)).find(Boolean);
    if (!pane) return null;
    let link = null;
    const slugs = new Set();
    for (const sel of THREAD_LINKS) {
      for (const a of pane.querySelectorAll(sel)) {
        const r = route(a.href);
        if (!r || !r.slug || r.legacy) continue;
        link ||= a;
        if (a.closest(THREAD_HEADER)) slugs.add(r.slug);
      }
      if (link) break;
    }
    const loaded = !!pane.querySelector(".msg-s-message-list__event, .msg-s-event-listitem");
    const group = slugs.size > 1 || (!link && loaded && !!ST.clean(pane.querySelector(THREAD_HEADER)?.textContent));
    return { pane, group, link: group ? null : link, slug: link && !group ? route(link.href).slug : null };
  }

  function threadNamed(pane, link) {
    return THREAD_NAMES.map((sel) => pane.querySelector(sel)).find((el) => el && cleanName(ST.text(el))) || link;
  }

  function readThread(r, snap, final) {
    const wait = { status: final ? "none" : "pending" };
    const away = { status: final ? "none" : "absent" };
    const found = threadPerson();
    if (!found) return wait;
    const { pane, link, slug } = found;
    // The conversation the list marks open must be this URL's; right after a click on another,
    // the previous header (the same link) is still on screen: never its person.
    const active = route(document.querySelector(ACTIVE_THREAD)?.href || "");
    if ((active && active.thread !== r.thread) || (snap && link && snap.link === link && snap.thread === link.href)) return wait;
    // A group thread, or a header whose link is not in yet: no card, but read again as it changes.
    if (found.group) return away;
    if (!link) return wait;
    const blob = fromCodeBlobs(slug);
    const named = threadNamed(pane, link);
    const name = blob?.name || cleanName(ST.text(named));
    if (HIDDEN.test(name)) return away;
    // A pane re-used for another conversation may change its links before its names.
    if (!final && (!name || (!blob?.name && name === snap?.named && link.href !== snap.thread))) return wait;
    threadPane = pane;
    nameEl = named;
    const info = THREAD_HEADLINES.map((sel) => pane.querySelector(sel)).find(Boolean);
    const headline = ST.clean(blob?.headline || (info ? ST.text(info).replace(DEGREE, "") : ""), 160);
    return { status: "ready", person: { site: "linkedin", name, identities: identitiesOf(slug, blob), headline } };
  }

  // Nobody: a profile not there, or mine (it links to forms editing it: /in/<me>/edit/..., add-edit/;
  // not /in/<them>/edit/forms/recommendation/, on a connection's).
  function nobody(identities) {
    return UNAVAILABLE.test(ST.clean((document.querySelector("main h1") || document.querySelector("h1"))?.textContent)) || mine(identities);
  }

  function mine(identities) {
    const roots = [document, ...[...document.querySelectorAll(SHADOW_HOSTS)].map((h) => h.shadowRoot || document)];
    return roots.some((root) => [...root.querySelectorAll('a[href*="edit/"]:not([href*="/recommendation/"])')].some((a) => identities.some((i) => i.value === route(a.href)?.slug)));
  }

  return {
    site: "linkedin",
    topInset: 60,
    route,

    // What is on screen now, before the URL changes, so the old person is never taken for the new one.
    snapshot() {
      const thread = route(location.href)?.thread ? threadPerson() : null;
      const link = thread?.link;
      const now = candidates(false, route(location.href)?.slug);
      const named = link && cleanName(ST.text(threadNamed(thread.pane, link)));
      return { names: new Set(now.map((c) => c.name)), headline: headlineOf(now[0]?.el), title: document.title, link, thread: link?.href, named };
    },

    read(r, snap, final) {
      if (r.thread) return readThread(r, snap, final);
      threadPane = null;
      const slug = (r.legacy && canonicalSlug()) || r.slug;
      const blob = fromCodeBlobs(slug);
      const identities = identitiesOf(slug, blob);
      const away = { status: final ? "none" : "absent" };
      if (nobody(identities)) return away;
      let name = blob?.name;
      let headline = blob?.headline || "";
      nameEl = null;
      for (const c of name ? [] : candidates(true, slug)) {
        if (r.section && c.from === "h1") continue;
        const fresh =
          !snap ||
          (c.from === "title"
            ? document.title !== snap.title && !snap.names.has(c.name)
            : !snap.names.has(c.name) || selfLinked(c.el, slug)) ||
          (final && c.name !== snap.prevName);
        if (!fresh) continue;
        name = c.name;
        if (c.from !== "title") {
          nameEl = c.el;
          headline = headlineOf(c.el);
          // A card changed in place may show the new name over the old headline a moment longer;
          // after 1.5 s it is theirs too (colleagues may share one).
          if (!final && headline && headline === snap?.headline && !selfLinked(c.el, slug) && Date.now() - (snap.held ||= Date.now()) < 1500) return PENDING;
        }
        break;
      }
      if (!name && !final) return PENDING;
      if (HIDDEN.test(name)) return away;
      nameEl ||= pick(NAME_SELECTORS.join(",")) || shadowQuery("h1", false);
      return { status: "ready", person: { site: "linkedin", name, identities, headline: ST.clean(headline, 160) } };
    },

    // Mine after all: my profile's data came before its edit links. (Not a heading read later:
    // with no h1 in main, a dialog's may say "not available".)
    gone: (person) => !threadPane && mine(person.identities),

    // Top right corner of the profile card (over its banner image); in a message thread, below
    // its header.
    anchor() {
      if (threadPane) {
        const pane = ST.rect(threadPane);
        const head = ST.rect(nameEl?.closest(".msg-title-bar, .msg-entity-lockup, .msg-s-profile-card"));
        return pane?.width > 300 ? { top: (head ? head.bottom : pane.top) + 8, right: pane.right - 12 } : null;
      }
      const card = topCard(nameEl?.isConnected ? nameEl : null);
      const r = ST.rect(card);
      return r?.width > 300 ? { top: r.top + 12, right: r.right - 12 } : null;
    },
  };
})();
