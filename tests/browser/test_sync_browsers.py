"""One ledger across browsers: Chromium and Firefox ESR against ONE live API, at the same time.

Both browsers connect through the server's ``/connect`` page, as a user would, and become two
devices of one ledger. The module then checks, in order (the tests share the browsers and build
on each other's state, so they run top to bottom):

- each browser is a device named after it ("Chrome on Linux", "Firefox on Linux");
- a log in Chromium shows in Firefox's overlay;
- a log made in Firefox while the server is down reaches the server (and Chromium) exactly once;
- the changes feed fills each browser's cache, so an overlay opened offline shows the last known
  score (stale), also for a person whose score reached that browser only through the feed;
- a log made offline in Chromium shows at once, is queued, survives a browser restart and a
  stopped service worker, and is delivered exactly once;
- a revoked browser shows the unconfigured state on its next overlay, not an error.

The extension's retry alarm and feed interval are shortened through its storage (``retryMinutes``
0.05 = 3 s, ``syncSeconds`` 1) so the background does its periodic work within the test's time.
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from harness.ledger import score_number, tie_score
from harness.net import port_open, wait_until
from harness.paths import screenshot_path
from harness.scenarios import (
    ANA,
    ANA_URL,
    JANE,
    JANE_URL,
    JOHN,
    JOHN_URL,
    assert_shows,
    live_interactions,
    log_by_click,
    lookup,
    route_all,
    seed_people,
)

pytestmark = [pytest.mark.browser, pytest.mark.firefox]

FAST = {"retryMinutes": 0.05, "syncSeconds": 1}  # alarm every 3 s; feed pulled on every alarm
ALARM_SECONDS = 3
CHROME_NAMES = ("Chrome on Linux", "Chromium on Linux")
FIREFOX_NAME = "Firefox on Linux"
ANA_KEY = f"linkedin:{ANA['linkedin']}"
JANE_KEY = f"linkedin:{JANE['linkedin']}"
JOHN_KEY = f"linkedin:{JOHN['linkedin']}"


# -- extension storage, read and written from an extension page ---------------------------------
STORAGE_GET_JS = "(key) => chrome.storage.local.get(key).then((r) => r[key] ?? null)"
SETTINGS_PATCH_JS = """async (patch) => {
  const {settings = {}} = await chrome.storage.local.get('settings');
  await chrome.storage.local.set({settings: {...settings, ...patch}});
}"""


class ChromiumStorage:
    """``chrome.storage.local`` through an extension page of its own (never the worker, so reading
    it does not wake or keep alive the service worker)."""

    def __init__(self, cr) -> None:
        self.cr = cr
        self.page = None

    def _page(self):
        if self.page is None or self.page.is_closed():
            # Any page of the extension's origin has chrome.storage; this one sends no messages.
            self.page = self.cr.open(self.cr.extension_url("icons/icon-16.png"))
        return self.page

    def get(self, key: str) -> Any:
        return self._page().evaluate(STORAGE_GET_JS, key)

    def patch_settings(self, patch: dict[str, Any]) -> None:
        self._page().evaluate(SETTINGS_PATCH_JS, patch)

    def set(self, items: dict[str, Any]) -> None:
        self._page().evaluate("(items) => chrome.storage.local.set(items)", items)


class FirefoxStorage:
    """``browser.storage.local`` from the extension's options page in Firefox's one tab (the tab
    navigates there and the caller navigates on)."""

    def __init__(self, fx) -> None:
        self.fx = fx

    def _run(self, body: str, *args: Any) -> Any:
        if not self.fx.url.startswith(self.fx.extension_url("")):
            self.fx.open_options()
        assert self.fx.m is not None
        return self.fx.m.execute_async_script(
            "const resolve = arguments[arguments.length - 1];"
            f"({body})(...Array.from(arguments).slice(0, -1))"
            ".then((v) => resolve(JSON.stringify(v ?? null)), (e) => resolve(JSON.stringify("
            "{__error: String(e)})));",
            script_args=list(args),
            sandbox=None,  # the page's own scope, where `browser` is
        )

    def get(self, key: str) -> Any:
        out = json.loads(self._run(STORAGE_GET_JS.replace("chrome.", "browser."), key))
        if isinstance(out, dict) and "__error" in out:
            raise RuntimeError(out["__error"])
        return out

    def patch_settings(self, patch: dict[str, Any]) -> None:
        self._run(SETTINGS_PATCH_JS.replace("chrome.", "browser."), patch)


# -- connecting through /connect -----------------------------------------------------------------
def connect_chromium(cr, api, shot) -> str:
    tab = cr.open(f"{api.url}/connect")
    tab.locator("button[data-action=connect]").click()
    status = tab.locator("[data-status]")
    wait_until(
        lambda: status.get_attribute("data-status") == "connected",
        timeout=15,
        message=lambda: f"Chromium's connect page status: {status.get_attribute('data-status')!r}",
    )
    tab.screenshot(path=str(shot("chromium-connect")))
    tab.close()
    return "connected"


def connect_firefox(fx, api, shot) -> str:
    fx.navigate(f"{api.url}/connect")
    fx.click("button[data-action=connect]")

    def status() -> str | None:
        return fx.js(
            "const el = document.querySelector('[data-status]');"
            "return el ? el.getAttribute('data-status') : null;"
        )

    wait_until(
        lambda: status() == "connected",
        timeout=15,
        message=lambda: f"Firefox's connect page status: {status()!r}\n{fx.log_tail()}",
    )
    fx.screenshot(shot("firefox-connect"))
    return "connected"


@pytest.fixture(scope="module")
def connected(live_api, chromium_ext, firefox_ext):  # live_api first: it boots meanwhile
    """Chromium and Firefox, each connected to the one live API through its /connect page, with
    the background's retry alarm and feed interval shortened (``FAST``)."""
    seed_people(live_api)
    route_all(chromium_ext)
    route_all(firefox_ext)
    both = SimpleNamespace(
        api=live_api,
        cr=chromium_ext,
        fx=firefox_ext,
        cr_store=ChromiumStorage(chromium_ext),
        fx_store=FirefoxStorage(firefox_ext),
        status={},
    )

    def shot(name: str):
        return screenshot_path(f"sync_browsers-{name}")

    both.status["chromium"] = connect_chromium(both.cr, both.api, shot)
    both.status["firefox"] = connect_firefox(both.fx, both.api, shot)
    both.cr_store.patch_settings(FAST)
    both.fx_store.patch_settings(FAST)
    both.devices = {
        "chromium": both.cr_store.get("settings")["deviceId"],
        "firefox": both.fx_store.get("settings")["deviceId"],
    }
    return both


@pytest.fixture
def cr_tab(connected):
    route_all(connected.cr)
    tab = connected.cr.new_page()
    yield tab
    if not tab.is_closed():
        tab.close()


# -- helpers -------------------------------------------------------------------------------------
def device_named(api, token: str) -> dict[str, Any]:
    """The device a token belongs to (``current`` in its own device list)."""
    r = api.request("GET", "/api/v1/devices", token=token)
    assert r.status_code == 200, r.text
    mine = [d for d in r.json()["devices"] if d["current"]]
    assert len(mine) == 1, r.json()
    return mine[0]


def written_by(api, interaction_id: str) -> set[Any]:
    """The device ids the changes feed records for an interaction's writes."""
    changes = api.get_json("/api/v1/changes", since=0, limit=1000)["changes"]
    return {
        c["device_id"]
        for c in changes
        if c["entity"] == "interaction" and c["id"] == str(interaction_id)
    }


def cached(store, key: str) -> dict[str, Any] | None:
    ties = store.get("ties") or {}
    return ties.get(key)


def wait_cached(store, key: str, count: int, who: str) -> dict[str, Any]:
    """Wait until the extension's tie cache holds ``key`` with ``count`` interactions."""

    def ok():
        entry = cached(store, key)
        tie = (entry or {}).get("tie") or {}
        return entry if tie.get("interaction_count") == count else None

    return wait_until(
        ok,
        timeout=20,
        interval=0.5,
        message=lambda: f"{who}'s cache never got {key} with {count} logs: {cached(store, key)}",
    )


def cached_score(entry: dict[str, Any]) -> int:
    return round(float(entry["tie"]["score"]))


def states_until(ov, wanted: str, timeout: float = 15.0) -> list[str]:
    """Every data-state the overlay goes through until it reads ``wanted``."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        d = ov.describe()
        st = d.get("state") if isinstance(d, dict) else None
        if st and (not seen or seen[-1] != st):
            seen.append(st)
        if st == wanted:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"overlay never reached {wanted!r}; states seen {seen}; {ov.describe()}")


def overlay_states(ov, seconds: float) -> set[tuple[Any, ...]]:
    """Every (data-state, score text, data-optimistic) the overlay shows for ``seconds``."""
    seen = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        d = ov.describe()
        seen.add((d["state"], d["fields"].get("score"), ov.attr(None, "data-optimistic")))
        time.sleep(0.05)
    return seen


# -- 5 + 1: two browsers, one ledger, each a named device ---------------------------------------
def test_both_browsers_connect_through_the_connect_page_as_named_devices(connected):
    api = connected.api
    assert connected.status == {"chromium": "connected", "firefox": "connected"}
    cr_settings = connected.cr_store.get("settings")
    fx_settings = connected.fx_store.get("settings")
    assert cr_settings["token"] and fx_settings["token"]
    assert cr_settings["token"] != fx_settings["token"]
    assert cr_settings["server"] == fx_settings["server"] == api.url

    # Each browser's own token belongs to a device named after that browser ...
    cr_device = device_named(api, cr_settings["token"])
    fx_device = device_named(api, fx_settings["token"])
    assert cr_device["name"] in CHROME_NAMES, cr_device
    assert fx_device["name"] == FIREFOX_NAME, fx_device
    assert cr_settings["deviceId"] == cr_device["id"]
    assert fx_settings["deviceId"] == fx_device["id"]
    # ... and both are listed by GET /api/v1/devices.
    names = {d["id"]: d["name"] for d in api.get_json("/api/v1/devices")["devices"]}
    assert names[cr_device["id"]] in CHROME_NAMES and names[fx_device["id"]] == FIREFOX_NAME
    assert connected.devices == {"chromium": cr_device["id"], "firefox": fx_device["id"]}


# -- 5: a log in Chromium shows in Firefox ---------------------------------------------------------
def test_a_log_in_chromium_shows_in_firefox(connected, cr_tab, shot):
    api, cr, fx = connected.api, connected.cr, connected.fx
    before = live_interactions(api, JOHN)

    fx.navigate(JOHN_URL)
    fx_ov = fx.overlay()
    found = assert_shows(fx_ov, api, JOHN)
    assert fx_ov.field("last-interaction").lower().startswith("coffee"), fx_ov.describe()
    count_before = found["tie"]["interaction_count"]

    cr.open(JOHN_URL, cr_tab)
    cr_ov = cr.overlay(cr_tab)
    assert_shows(cr_ov, api, JOHN)
    log_by_click(cr_ov, api, JOHN, "Chromium's click did not log an interaction")
    after = assert_shows(cr_ov, api, JOHN)
    assert after["tie"]["interaction_count"] == count_before + 1
    (new,) = [i for i in live_interactions(api, JOHN) if i["id"] not in {b["id"] for b in before}]
    assert written_by(api, new["id"]) == {connected.devices["chromium"]}

    fx.reload()
    shown = assert_shows(fx_ov, api, JOHN)  # the API's new score, +-1
    assert shown["tie"]["interaction_count"] == count_before + 1
    assert fx_ov.field("last-interaction").lower().startswith("message · today"), fx_ov.describe()
    fx_ov.screenshot(shot("firefox-after-chromium-log"))


# -- 5: a log in Firefox while the server is down reaches Chromium, once ------------------------
def test_an_offline_log_in_firefox_reaches_chromium_exactly_once(connected, cr_tab, shot):
    api, cr, fx = connected.api, connected.cr, connected.fx
    note = "Firefox, offline: talked about the Porto board"
    before = live_interactions(api, JOHN)

    fx.navigate(JOHN_URL)
    fx_ov = fx.overlay()
    assert_shows(fx_ov, api, JOHN)
    score_before = score_number(fx_ov.field("score"))

    api.stop()
    try:
        fx_ov.click("log-menu")
        fx_ov.wait_for(lambda: fx_ov.visible("select[name=kind]"), 5, "the log menu")
        fx_ov.fill("select[name=kind]", "call")
        fx_ov.fill("textarea[name=note]", note)
        fx_ov.click("log-submit")
        fx_ov.wait_for_state("offline")
        fx_ov.wait_for_field("pending", "1 pending")
        assert fx_ov.attr(None, "data-stale") == "true"
        assert fx_ov.attr(None, "data-optimistic") == "true"
        assert score_number(fx_ov.field("score")) > score_before, fx_ov.describe()
        fx_ov.screenshot(shot("firefox-offline-pending"))
        assert len(connected.fx_store.get("outbox")) == 1
        fx.navigate(JOHN_URL)  # back from the storage page: still queued, still shown
        fx_ov.wait_for_state("offline")
        fx_ov.wait_for_field("pending", "1 pending")
    finally:
        api.start()

    # Firefox's retry alarm delivers it; nobody touches Firefox meanwhile.
    def with_note() -> list[dict[str, Any]]:
        return [i for i in live_interactions(api, JOHN) if i["note"] == note]

    wait_until(
        lambda: len(with_note()) == 1,
        timeout=20,
        message="Firefox's queued log never reached the server",
    )
    # Firefox's overlay was left "offline": it refreshes itself once the log went through.
    fx_ov.wait_for_state("known", timeout=10)
    fx_ov.wait_for(lambda: not fx_ov.field("pending"), 10, "Firefox's pending chip to clear")
    assert fx_ov.attr(None, "data-stale") == "false"

    cr.open(JOHN_URL, cr_tab)
    cr_ov = cr.overlay(cr_tab)
    found = assert_shows(cr_ov, api, JOHN)
    assert cr_ov.field("last-interaction").lower().startswith("call · today"), cr_ov.describe()
    assert found["tie"]["last_interaction"]["note"] == note
    cr_ov.screenshot(shot("chromium-shows-firefox-log"))

    time.sleep(ALARM_SECONDS + 1)  # another retry round: nothing is sent twice
    after = live_interactions(api, JOHN)
    assert len(with_note()) == 1
    assert len(after) == len(before) + 1
    assert written_by(api, with_note()[0]["id"]) == {connected.devices["firefox"]}
    assert connected.fx_store.get("outbox") == []


# -- 2: the changes feed keeps a cache that overlays use offline ----------------------------------
def test_the_feed_fills_the_offline_cache_even_for_people_never_looked_up(connected, cr_tab, shot):
    api, cr, fx = connected.api, connected.cr, connected.fx
    assert api.lookup(linkedin=ANA["linkedin"])["contact"] is None

    # Ana enters the ledger from Firefox; Chromium never opens her profile while online.
    fx.navigate(ANA_URL)
    fx_ov = fx.overlay()
    fx_ov.wait_for_state("unknown")
    fx_ov.click("log")
    fx_ov.wait_for_state("known")
    ana = wait_until(lambda: lookup(api, ANA)["contact"] and lookup(api, ANA), timeout=10)

    # Jane gets a new log from Chromium; Firefox never opens her profile in this module.
    cr.open(JANE_URL, cr_tab)
    cr_ov = cr.overlay(cr_tab)
    assert_shows(cr_ov, api, JANE)
    jane_count = lookup(api, JANE)["tie"]["interaction_count"]
    cr_ov.click("log")
    jane = wait_until(
        lambda: (j := lookup(api, JANE))["tie"]["interaction_count"] == jane_count + 1 and j,
        timeout=10,
    )
    cr_tab.close()

    # Each background follows GET /api/v1/changes on its own (every alarm, syncSeconds=1).
    cr_entry = wait_cached(connected.cr_store, ANA_KEY, 1, "Chromium")
    assert cr_entry["contact"]["name"] == ANA["name"]
    assert abs(cached_score(cr_entry) - tie_score(ana)) <= 1, (cr_entry, ana["tie"])
    fx_entry = wait_cached(connected.fx_store, JANE_KEY, jane_count + 1, "Firefox")
    assert abs(cached_score(fx_entry) - tie_score(jane)) <= 1, (fx_entry, jane["tie"])
    assert (connected.fx_store.get("sync") or {}).get("cursor", 0) > 0

    api.stop()
    try:
        tab = cr.open(ANA_URL)
        ov = cr.overlay(tab)
        ov.wait_for_state("offline")
        ov.wait_for_field("score")
        assert ov.attr(None, "data-stale") == "true"
        assert score_number(ov.field("score")) == cached_score(cr_entry), ov.describe()
        assert ov.field("name") == ANA["name"]
        assert ov.field("last-interaction").lower().startswith("message · today")
        ov.screenshot(shot("chromium-offline-stale-ana"))
        tab.close()

        fx.navigate(JANE_URL)
        fx_ov.wait_for_state("offline")
        fx_ov.wait_for_field("score")
        assert fx_ov.attr(None, "data-stale") == "true"
        assert score_number(fx_ov.field("score")) == cached_score(fx_entry), fx_ov.describe()
        assert fx_ov.field("name") == jane["contact"]["name"]
        assert fx_ov.field("last-interaction").lower().startswith("message · today")
        fx_ov.screenshot(shot("firefox-offline-stale-jane"))
    finally:
        api.start()


def test_new_settings_drop_the_ties_each_browser_cached(connected, cr_tab, shot):
    """Every score is recomputed under new settings: the feed says so, both browsers drop the
    ties they cached (an offline overlay then shows no score rather than a wrong one), and the
    next overlay online shows the new score."""
    api, cr = connected.api, connected.cr
    stores = {"Chromium": connected.cr_store, "Firefox": connected.fx_store}
    assert all(store.get("ties") for store in stores.values())  # filled by the feed (above)
    before = api.get_json("/api/v1/settings")["recency_half_life_days"]
    r = api.request("PATCH", "/api/v1/settings", {"recency_half_life_days": 3})
    assert r.status_code == 200, r.text
    try:
        for who, store in stores.items():
            wait_until(
                lambda store=store: not store.get("ties"),
                timeout=15,
                message=f"{who} kept ties scored under the old settings",
            )
        api.stop()
        try:
            tab = cr.open(ANA_URL)
            ov = cr.overlay(tab)
            ov.wait_for_state("offline")
            assert score_number(ov.field("score")) is None, ov.describe()
            ov.screenshot(shot("chromium-offline-after-new-settings"))
            tab.close()
        finally:
            api.start()
        cr.open(JANE_URL, cr_tab)
        assert_shows(cr.overlay(cr_tab), api, JANE)
    finally:
        restore_settings(connected, recency_half_life_days=before)


def test_new_settings_keep_the_ties_looked_up_after_them(connected, cr_tab, shot):
    """A tie looked up after new settings, before the browser read them in the feed, is scored
    under them already: reading the feed keeps it (its card needs no lookup, also offline),
    even past an older upsert of the same contact, while the ties cached before go."""
    api, cr, store = connected.api, connected.cr, connected.cr_store
    cr.open(JOHN_URL, cr_tab)
    assert_shows(cr.overlay(cr_tab), api, JOHN)
    assert cached(store, JOHN_KEY)
    store.patch_settings({"syncSeconds": 3600})  # Chromium reads the feed again when told
    time.sleep(1)  # a read already going ends
    jane = lookup(api, JANE)
    api.log_interaction(jane["contact"]["id"], "call")  # Jane's upsert in the feed, then ...
    before = api.get_json("/api/v1/settings")["recency_half_life_days"]
    r = api.request("PATCH", "/api/v1/settings", {"recency_half_life_days": 3})
    assert r.status_code == 200, r.text
    since = feed_after(api, jane["seq"])
    (jane_upsert,) = [c["seq"] for c in since if c["entity"] == "contact"]
    (rescored,) = [c["seq"] for c in since if c["entity"] == "settings"]
    try:
        cr.open(JANE_URL, cr_tab)
        now = assert_shows(cr.overlay(cr_tab), api, JANE)  # scored under the new settings
        wait_cached(store, JANE_KEY, jane["tie"]["interaction_count"] + 1, "Chromium")
        cr_tab.goto("about:blank")
        kept = cached(store, JANE_KEY)
        assert kept["seq"] >= rescored, kept  # the lookup's answer says it is as of then
        assert abs(cached_score(kept) - tie_score(now)) <= 1, (kept, now["tie"])
        # Chromium reads Jane's older upsert and the new settings only after this lookup.
        assert (store.get("sync") or {}).get("cursor", 0) < jane_upsert < rescored

        store.patch_settings(FAST)
        wait_until(
            lambda: (store.get("sync") or {}).get("cursor", 0) >= rescored,
            timeout=15,
            message="Chromium did not follow the feed past the new settings",
        )
        assert cached(store, JOHN_KEY) is None  # scored under the old settings
        assert cached(store, JANE_KEY) == kept  # as the lookup left it

        api.stop()
        try:
            cr.open(JANE_URL, cr_tab)
            ov = cr.overlay(cr_tab)
            ov.wait_for_state("offline")
            assert score_number(ov.field("score")) == cached_score(kept), ov.describe()
            ov.screenshot(shot("chromium-offline-kept-after-new-settings"))
        finally:
            api.start()
    finally:
        restore_settings(connected, recency_half_life_days=before)


def test_a_feed_that_ends_before_the_cursor_is_read_again_from_the_start(connected):
    """A server restored from an older backup has a feed that ends before the cursor a browser
    kept. The feed answers 410, and the browser drops what it cached from it and reads it again
    from the start, instead of asking with a dead cursor for ever."""
    api, store = connected.api, connected.cr_store
    dead = feed_after(api, 0)[-1]["seq"] + 1000
    ghost = {"contact": {"id": 999999, "name": "Nobody Restored", "identities": []}, "at": 1}
    store.set({"sync": {"cursor": dead, "at": 0}, "ties": {"linkedin:ghost": ghost}})
    assert api.request("GET", "/api/v1/changes", params={"since": dead}).status_code == 410
    # A change on the server meanwhile, which the feed read from the start brings.
    jane = lookup(api, JANE)
    api.log_interaction(jane["contact"]["id"], "call")
    newest = feed_after(api, 0)[-1]["seq"]
    assert newest < dead

    wait_until(
        lambda: (store.get("sync") or {}).get("cursor") == newest,
        timeout=15,
        message="Chromium did not read the feed again from the start",
    )
    ties = store.get("ties") or {}
    assert "linkedin:ghost" not in ties
    count = jane["tie"]["interaction_count"] + 1
    assert ties[JANE_KEY]["tie"]["interaction_count"] == count, ties.get(JANE_KEY)


def feed_after(api, since: int) -> list[dict[str, Any]]:
    """Every change in the feed after ``since``."""
    changes, page = [], {"has_more": True, "cursor": since}
    while page["has_more"]:
        page = api.get_json("/api/v1/changes", since=page["cursor"], limit=1000)
        changes += page["changes"]
    return changes


def restore_settings(connected, **settings: Any) -> None:
    """PATCH the scoring settings back, then wait until both browsers read past that entry too,
    before the tests that rely on their caches."""
    api = connected.api
    r = api.request("PATCH", "/api/v1/settings", settings)
    assert r.status_code == 200, r.text
    last = feed_after(api, 0)[-1]["seq"]
    stores = {"Chromium": connected.cr_store, "Firefox": connected.fx_store}
    for who, store in stores.items():
        store.patch_settings(FAST)
        wait_until(
            lambda store=store: (store.get("sync") or {}).get("cursor", 0) >= last,
            timeout=15,
            message=f"{who} did not follow the feed past the restored settings",
        )


# -- 3: offline-first in Chromium, through a restart and a stopped service worker ---------------
class WorkerWatch:
    """The extension's service worker as the ServiceWorker CDP domain reports it."""

    def __init__(self, page, extension_id: str) -> None:
        self.page = page
        self.prefix = f"chrome-extension://{extension_id}/"
        self.statuses: list[str] = []
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("ServiceWorker.workerVersionUpdated", self._on_versions)
        self.cdp.send("ServiceWorker.enable")

    def _on_versions(self, event: dict[str, Any]) -> None:
        for v in event["versions"]:
            if v["scriptURL"].startswith(self.prefix):
                if not self.statuses or self.statuses[-1] != v["runningStatus"]:
                    self.statuses.append(v["runningStatus"])

    @property
    def status(self) -> str | None:
        self.page.wait_for_timeout(50)  # sync Playwright delivers CDP events only while it waits
        return self.statuses[-1] if self.statuses else None

    def stop_all(self) -> None:
        self.cdp.send("ServiceWorker.stopAllWorkers")


def test_an_offline_log_survives_restart_and_stopped_worker_and_lands_once(connected, shot):
    api, cr = connected.api, connected.cr
    before = live_interactions(api, JANE)

    tab = cr.open(JANE_URL)
    ov = cr.overlay(tab)
    shown = assert_shows(ov, api, JANE)

    api.stop()
    try:
        tab.reload()  # opened while the server is down: the last known score, stale
        ov.wait_for_state("offline")
        assert ov.attr(None, "data-stale") == "true"
        stale = score_number(ov.field("score"))
        assert stale is not None and abs(stale - tie_score(shown)) <= 1, ov.describe()
        ov.click("log")
        # At once: an optimistic score, then "1 pending" once the background has queued it.
        ov.wait_for(
            lambda: (
                ov.attr(None, "data-optimistic") == "true"
                and score_number(ov.field("score")) > stale
            ),
            2,
            "an optimistic score right after the click",
        )
        ov.wait_for_field("pending", "1 pending")
        assert ov.state() == "offline"
        assert ov.field("last-interaction").lower().startswith("message · today")
        ov.screenshot(shot("optimistic-pending"))
        optimistic = ov.field("score")
        # The background's retry rounds while the server is down leave the card alone, also
        # between two feed pulls (no "Looking up…" flash, the optimistic score stays).
        connected.cr_store.patch_settings({"syncSeconds": 3600})
        seen = overlay_states(ov, ALARM_SECONDS + 1.5)
        assert seen == {("offline", optimistic, "true")}, seen
        connected.cr_store.patch_settings(FAST)
        queued = connected.cr_store.get("outbox")
        assert [e["op"] for e in queued] == ["put"], queued
        uuid = queued[0]["id"]

        # A browser restart while the server is still down: the log is still queued and shown.
        cr.restart()
        route_all(cr)
        connected.cr_store.page = None
        assert [e["id"] for e in connected.cr_store.get("outbox")] == [uuid]
        tab = cr.open(JANE_URL)
        ov = cr.overlay(tab)
        ov.wait_for_state("offline")
        ov.wait_for_field("pending", "1 pending")
        assert ov.attr(None, "data-stale") == "true"
        # The queued log still counts, as it did before the restart.
        assert ov.field("score") == optimistic, ov.describe()
        assert ov.field("last-interaction").lower().startswith("message · today")  # Jane's: 9 days
        ov.screenshot(shot("after-restart-pending"))

        # Stop the service worker (CDP) and make sure it really stopped.
        watch = WorkerWatch(tab, cr.extension_id)
        wait_until(  # it just answered the overlay's lookup
            lambda: watch.status == "running",
            timeout=5,
            message=lambda: f"the service worker is not running: {watch.statuses}",
        )
        watch.stop_all()
        wait_until(
            lambda: watch.status == "stopped",
            timeout=10,
            message=lambda: f"the service worker did not stop: {watch.statuses}",
        )
        stopped_at = len(watch.statuses)
        assert [e["id"] for e in connected.cr_store.get("outbox")] == [uuid]
        assert not port_open(api.port), "the API should be down"
    finally:
        api.start()

    # Nobody touches the extension: its alarm wakes the worker, which sends the log.
    wait_until(
        lambda: any(i["id"] == uuid for i in live_interactions(api, JANE)),
        timeout=20,
        message=lambda: f"the queued log never arrived; worker: {watch.statuses}",
    )
    watch.status  # noqa: B018 -- take in the events that arrived meanwhile
    assert "running" in watch.statuses[stopped_at:], watch.statuses
    # The open overlay refreshes itself with the server's tie.
    assert_shows(ov, api, JANE)
    ov.wait_for(lambda: not ov.field("pending"), 10, "the pending chip to clear")
    assert ov.attr(None, "data-stale") == "false"
    ov.screenshot(shot("delivered"))

    time.sleep(ALARM_SECONDS + 1)  # another retry round: nothing is sent twice
    after = live_interactions(api, JANE)
    new = [i for i in after if i["id"] not in {b["id"] for b in before}]
    assert [i["id"] for i in new] == [uuid], new
    assert connected.cr_store.get("outbox") == []
    tab.close()


# -- 1: a revoked browser shows "unconfigured", not an error --------------------------------------
def test_a_revoked_browser_shows_unconfigured_on_its_next_overlay(connected, shot):
    api, cr, fx = connected.api, connected.cr, connected.fx
    devices = connected.devices

    # Chromium stops its own feed pulls first, so its next request with the dead token is the
    # overlay's lookup (the 401 comes back there); Firefox keeps pulling every 3 s, so its
    # background meets the 401 first and the next overlay starts without a token.
    connected.cr_store.patch_settings({"syncSeconds": 3600})
    r = api.request("DELETE", f"/api/v1/devices/{devices['chromium']}")  # the tests' own device
    assert r.status_code == 204, r.text
    api.cli("devices", "revoke", str(devices["firefox"]))
    listed = {d["id"] for d in api.get_json("/api/v1/devices")["devices"]}
    assert not listed & set(devices.values()), listed
    assert connected.cr_store.get("settings")["token"], "Chromium forgot its token too early"

    route_all(cr)
    tab = cr.open(JOHN_URL)
    ov = cr.overlay(tab)
    seen = states_until(ov, "unconfigured")
    assert "error" not in seen, seen
    assert ov.visible('[data-action="open-options"]')
    assert not ov.field("score")
    ov.screenshot(shot("chromium-revoked"))
    tab.close()

    wait_until(
        lambda: connected.fx_store.get("settings")["token"] == "",
        timeout=15,
        message="Firefox's background never noticed the revocation",
    )
    fx.navigate(JOHN_URL)
    fx_ov = fx.overlay()
    seen = states_until(fx_ov, "unconfigured")
    assert "error" not in seen, seen
    assert fx_ov.visible('[data-action="open-options"]')
    assert not fx_ov.field("score")
    fx_ov.screenshot(shot("firefox-revoked"))

    # Both forgot the dead token and the ledger data they had cached (a revoked browser may be
    # a lost one).
    assert connected.cr_store.get("settings")["token"] == ""
    assert connected.fx_store.get("settings")["token"] == ""
    assert not connected.cr_store.get("ties")
    assert not connected.fx_store.get("ties")
