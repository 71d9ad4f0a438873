"""End to end in Chromium: the real extension on saved site fixtures, talking to the real API.

One browser and one API serve the whole module (the extension is connected once, with a token);
tests that need a fresh, unconnected browser start their own. Tests compare what the overlay
shows with what the API says at that moment, so they do not depend on each other's logs.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from contextlib import closing, contextmanager
from datetime import UTC, datetime

import pytest
from harness.ledger import days_ago, score_number
from harness.net import wait_until
from harness.scenarios import (
    ANA,
    ANA_URL,
    FEED_URL,
    JANE,
    JANE_URL,
    JOHN,
    JOHN_URL,
    KNOWN_SITES,
    XSS,
    XSS_INJECTED,
    XSS_PAYLOAD,
    XSS_URL,
    assert_queued_log_delivered,
    assert_shows,
    live_interactions,
    log_by_click,
    lookup,
    route_all,
    seed_people,
    serve_only,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def seeded(live_api):
    return seed_people(live_api)


@pytest.fixture(scope="module")
def chromium(live_api, chromium_ext, seeded):  # live_api first: it boots meanwhile
    """The module's Chromium, connected to the live API through the options page (token)."""
    chromium_ext.configure(live_api.url, token=live_api.token).close()
    route_all(chromium_ext)
    return chromium_ext


@pytest.fixture
def tab(chromium):
    route_all(chromium)
    p = chromium.new_page()
    dialogs = []
    p.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    p.dialogs = dialogs
    yield p
    p.close()


@pytest.mark.parametrize(
    ("fixture", "url", "person"),
    [pytest.param(f, u, p, id=i) for i, f, u, p in KNOWN_SITES],
)
def test_site_fixture_shows_the_right_contact(chromium, tab, live_api, fixture, url, person, shot):
    serve_only(chromium, url, fixture)
    chromium.open(url, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, live_api, person)
    assert ov.shadow_root_type == "closed"
    assert ov.field("last-interaction")
    assert ov.field("reciprocity")
    ov.screenshot(shot(fixture))


def test_one_click_logs_exactly_one_interaction(chromium, tab, live_api, shot):
    before = live_interactions(live_api, JANE)
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, live_api, JANE)
    log_by_click(ov, live_api, JANE)
    found = assert_shows(ov, live_api, JANE)
    assert ov.field("last-interaction").lower().startswith("message · today")
    assert found["tie"]["last_interaction"]["kind"] == "message"
    ov.screenshot(shot("after-log"))
    time.sleep(1.5)  # nothing else arrives later (no double send)
    after = live_interactions(live_api, JANE)
    assert len(after) == len(before) + 1
    new = [i for i in after if i["id"] not in {b["id"] for b in before}]
    assert len(new) == 1 and new[0]["kind"] == "message"


def test_undo_removes_the_logged_interaction(chromium, tab, live_api):
    before = live_interactions(live_api, JOHN)
    chromium.open(JOHN_URL, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, live_api, JOHN)
    log_by_click(ov, live_api, JOHN)
    ov.wait_for(lambda: ov.visible('[data-action="undo"]'), 5, "the undo button")
    ov.click("undo")
    wait_until(
        lambda: len(live_interactions(live_api, JOHN)) == len(before),
        timeout=10,
        message="undo did not remove the interaction",
    )
    assert_shows(ov, live_api, JOHN)


def someone_on_linkedin(api) -> tuple[dict[str, str], str, dict]:
    """A contact of their own for a test that deletes it (as another browser would): the
    person, their profile's URL (the classic profile fixture) and the contact."""
    slug = f"gone-{uuid.uuid4().hex[:10]}"
    person = {"name": "Gale Once", "linkedin": slug}
    contact = api.create_contact(person["name"], linkedin=slug)
    api.log_interaction(contact["id"], "meeting", occurred_at=days_ago(12))
    return person, f"https://www.linkedin.com/in/{slug}/", contact


def sent_a_minute_ago(log_id: str, body: dict, person: dict[str, str]) -> dict:
    """The outbox entry of a log of ``person`` this browser sent a minute ago, its answer lost."""
    return {
        "key": f"put:{log_id}",
        "op": "put",
        "id": log_id,
        "body": body,
        "keys": [f"linkedin:{person['linkedin']}"],
        "name": person["name"],
        "createdAt": int(time.time() * 1000) - 60_000,
        "attempts": 1,
    }


FAILED_GET_JS = "async () => (await chrome.storage.local.get('outboxFailed')).outboxFailed || []"


def test_undo_after_the_contact_was_deleted_elsewhere_is_undone(chromium, tab, live_api):
    """Between a log and its undo, another browser deletes the contact with its interactions:
    the server answers the undo's DELETE with 410. The log is gone all the same: the undo did
    what it was for, nothing reads as a failure, and the card shows the person as unknown."""
    person, url, contact = someone_on_linkedin(live_api)
    chromium.open(url, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, live_api, person)
    [logged] = log_by_click(ov, live_api, person)
    ov.wait_for(lambda: ov.visible('[data-action="undo"]'), 5, "the undo button")
    assert live_api.request("DELETE", f"/api/v1/contacts/{contact['id']}").status_code == 204
    gone = live_api.request("DELETE", f"/api/v1/interactions/{logged['id']}")
    assert gone.status_code == 410  # what the extension's undo is answered

    ov.click("undo")
    ov.wait_for_state("unknown")
    time.sleep(1)  # a failure would be written over the card after its lookup
    assert "failed" not in (ov.field("message") or "").lower(), ov.describe()
    store = chromium.open(chromium.extension_url("icons/icon-16.png"))
    wait_until(lambda: store.evaluate(OUTBOX_GET_JS) == [], timeout=10, message="still queued")
    assert [f for f in store.evaluate(FAILED_GET_JS) if f["id"] == logged["id"]] == []
    store.close()


def test_a_log_whose_contact_was_deleted_elsewhere_says_so(chromium, tab, live_api):
    """The contact is deleted in another browser while this one shows it: a click on "log" is
    refused (404), and so is a queued log the server had stored before (410, its answer lost).
    The card and the options say what happened, not a bare error."""
    person, url, contact = someone_on_linkedin(live_api)
    chromium.open(url, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, live_api, person)
    assert live_api.request("DELETE", f"/api/v1/contacts/{contact['id']}").status_code == 204
    ov.click("log")
    ov.wait_for_field("message", "Not logged: this contact was deleted")
    # The card no longer shows the deleted contact's tie: the person is new to the ledger, and
    # a click logs them as a new contact.
    ov.wait_for_state("unknown")
    assert ov.field("score") == ""
    # Nor does this browser keep it: with the server out of reach, no cached score comes back.
    live_api.stop()
    try:
        chromium.open(url, tab)
        ov.wait_for_state("offline")
        assert ov.field("score") == "", ov.describe()
    finally:
        live_api.start()
    chromium.open(url, tab)
    ov.wait_for_state("unknown")
    ov.click("log")
    ov.wait_for_state("known")
    found = live_api.request("GET", f"/api/v1/lookup?linkedin={person['linkedin']}").json()
    assert found["contact"]["id"] != contact["id"]
    # Named as the page names them (the fixture's Jane Doe), with the one new interaction.
    assert (found["contact"]["name"], found["tie"]["interaction_count"]) == ("Jane Doe", 1)

    # A log this browser sent before the deletion, whose answer never came back: its retry is
    # answered 410.
    person, url, contact = someone_on_linkedin(live_api)
    log_id = str(uuid.uuid4())
    body = {
        "kind": "call",
        "occurred_at": datetime.now(UTC).isoformat(),
        "contact_id": contact["id"],
    }
    assert live_api.request("PUT", f"/api/v1/interactions/{log_id}", body).status_code == 201
    assert live_api.request("DELETE", f"/api/v1/contacts/{contact['id']}").status_code == 204
    sent_before = sent_a_minute_ago(log_id, body, person)
    store = chromium.open(chromium.extension_url("icons/icon-16.png"))
    store.evaluate(OUTBOX_SET_JS, [sent_before])
    chromium.open(url, tab)  # a lookup that gets through sends what is queued
    ov.wait_for_state("unknown")
    wait_until(lambda: store.evaluate(OUTBOX_GET_JS) == [], timeout=15, message="still queued")
    [failed] = [f for f in store.evaluate(FAILED_GET_JS) if f["id"] == log_id]
    assert (failed["status"], failed["error"]) == (410, "this contact was deleted")
    store.close()
    options = chromium.open(chromium.extension_url("options/options.html"))
    wait_until(
        lambda: "this contact was deleted" in (options.text_content("#queue") or ""),
        timeout=10,
        message="the options do not say why the log was refused",
    )
    assert "Gale Once" in options.text_content("#queue")
    options.close()


def test_log_menu_records_kind_favour_and_note(chromium, tab, live_api):
    before = live_interactions(live_api, JOHN)
    chromium.open(JOHN_URL, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, live_api, JOHN)
    ov.click("log-menu")
    ov.wait_for(lambda: ov.visible("select[name=kind]"), 5, "the log menu to open")
    ov.fill("select[name=kind]", "coffee")
    ov.fill("select[name=favor]", "received")
    ov.fill("select[name=favor_value]", "2")
    ov.type_into("textarea[name=note]", "Talked about the Lisbon fund")
    ov.click("log-submit")
    wait_until(lambda: len(live_interactions(live_api, JOHN)) == len(before) + 1, timeout=10)
    new = live_interactions(live_api, JOHN)[0]
    assert new["kind"] == "coffee"
    assert new["favor"] == {"direction": "received", "value": 2}
    assert new["note"] == "Talked about the Lisbon fund"
    assert_shows(ov, live_api, JOHN)


def test_spa_navigation_never_shows_the_previous_person(chromium, tab, live_api, shot):
    chromium.open(FEED_URL, tab)
    tab.wait_for_timeout(500)
    ov = chromium.overlay(tab)
    assert not ov.exists() or ov.state() in (None, "loading"), ov.describe()

    tab.locator('main a[href*="/in/jane-doe/"]').first.click()  # pushState, DOM swaps 800 ms later
    jane = assert_shows(ov, live_api, JANE)
    assert tab.url.startswith(JANE_URL)

    # From Jane's profile to John's: the old h1 stays on screen for a while after the URL changed.
    tab.locator('aside a[href="/in/john-smith-4b2a1/"]').click()
    seen = []
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        d = ov.describe()
        if isinstance(d, dict):
            seen.append((tab.url, d["state"], d["fields"].get("name"), d["fields"].get("score")))
            if d["state"] == "known" and d["fields"].get("name") == JOHN["name"]:
                break
        time.sleep(0.05)
    stale = [s for s in seen if "john-smith" in s[0] and s[2] == jane["contact"]["name"]]
    assert not stale, f"John's URL showed Jane: {stale[:3]}"
    assert_shows(ov, live_api, JOHN)
    ov.screenshot(shot("john"))

    tab.go_back()  # popstate back to Jane
    assert_shows(ov, live_api, JANE)


def test_unknown_then_log_creates_the_contact(chromium, tab, live_api, shot):
    assert live_api.lookup(linkedin=ANA["linkedin"])["contact"] is None
    chromium.open(ANA_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown")
    assert ov.field("name") == ANA["name"]
    ov.screenshot(shot("unknown"))
    ov.click("log")
    ov.wait_for_state("known")
    found = wait_until(lambda: live_api.lookup(linkedin=ANA["linkedin"])["contact"], timeout=10)
    assert found["name"] == ANA["name"]
    assert {"kind": "linkedin", "value": ANA["linkedin"]} in found["identities"]
    assert len(live_api.interactions(found["id"])) == 1
    assert_shows(ov, live_api, ANA)
    ov.screenshot(shot("known"))


def test_offline_log_is_queued_and_delivered_once(chromium, tab, live_api, shot):
    before = live_interactions(live_api, JANE)
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, live_api, JANE)
    score_before = ov.field("score")
    live_api.stop()
    try:
        ov.click("log")
        ov.wait_for_state("offline")
        ov.wait_for_field("pending", "1 pending")
        assert ov.field("message") == "Saved in this browser; it is sent when the server is back."
        ov.screenshot(shot("pending"))
        score_with_log = ov.field("score")
        assert score_with_log != score_before
        # Still offline, the page reloaded: the queued log still counts in what it shows.
        tab.reload()
        ov.wait_for_state("offline")
        ov.wait_for_field("pending", "1 pending")
        assert ov.field("score") == score_with_log
    finally:
        live_api.start()
    # The next successful request (here: the lookup when the user comes back) flushes the outbox.
    tab.reload()
    assert_queued_log_delivered(ov, live_api, JANE, len(before))
    tab.reload()
    assert_shows(ov, live_api, JANE)
    time.sleep(1.5)
    assert len(live_interactions(live_api, JANE)) == len(before) + 1


OUTBOX_SET_JS = "async (outbox) => chrome.storage.local.set({outbox})"
OUTBOX_GET_JS = "async () => (await chrome.storage.local.get('outbox')).outbox"


def test_offline_overlay_counts_a_log_its_cached_tie_counts_already_once(chromium, tab, live_api):
    """A log sent whose answer was lost stays queued, while the tie cached after it counts it."""
    john = lookup(live_api, JOHN)["contact"]
    log_id = str(uuid.uuid4())
    body = {"kind": "call", "occurred_at": datetime.now(UTC).isoformat(), "contact_id": john["id"]}
    # The outbox's PUT, which the server stored; its answer never came back.
    assert live_api.request("PUT", f"/api/v1/interactions/{log_id}", body).status_code == 201
    chromium.open(JOHN_URL, tab)
    ov = chromium.overlay(tab)
    found = assert_shows(ov, live_api, JOHN)  # cached now, with that log as its last
    assert found["tie"]["last_interaction"]["id"] == log_id
    score = ov.field("score")
    sent_before = sent_a_minute_ago(log_id, body, JOHN)
    store = chromium.open(chromium.extension_url("icons/icon-16.png"))
    live_api.stop()
    try:
        store.evaluate(OUTBOX_SET_JS, [sent_before])
        tab.reload()
        ov.wait_for_state("offline")
        ov.wait_for_field("pending", "1 pending")
        assert ov.field("score") == score
        assert ov.attr(None, "data-optimistic") != "true"
    finally:
        live_api.start()
    # Back online, the outbox sends it again: the server keeps the one it has.
    tab.reload()
    wait_until(lambda: store.evaluate(OUTBOX_GET_JS) == [], timeout=15, message="still queued")
    store.close()
    assert [i["id"] for i in live_interactions(live_api, JOHN)].count(log_id) == 1


def stored_interactions(api) -> int:
    """Every interaction in the API's database file, read without the API."""
    with closing(sqlite3.connect(api.db_path)) as db:
        return db.execute("SELECT count(*) FROM interactions").fetchone()[0]


@contextmanager
def writes_blocked(api):
    """Another program holds the database's write lock: the API still answers reads, while a
    write waits for it (SQLite's busy timeout), then gets 503 and writes nothing."""
    other = sqlite3.connect(api.db_path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_offline_overlay_counts_a_queued_log_a_later_lookup_did_not_see(chromium, tab, live_api):
    """A lookup can get through while a log stays queued (the server busy writing when the
    outbox sent it, then gone): the tie cached by that lookup is newer than the log but does not
    count it, so the offline card still adds it."""
    before = live_interactions(live_api, JANE)
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, live_api, JANE)
    stored = stored_interactions(live_api)
    live_api.stop()
    try:
        ov.click("log")
        ov.wait_for_field("pending", "1 pending")
        live_api.start()
        with writes_blocked(live_api):
            tab.reload()
            ov.wait_for_state("known")  # this tie is cached now, after the log was made
            ov.wait_for_field("pending", "1 pending")
            cached = score_number(ov.field("score"))
            live_api.stop()  # while the outbox's PUT waits for the database
        assert stored_interactions(live_api) == stored  # the server never got the log
        tab.reload()
        ov.wait_for_state("offline")
        ov.wait_for_field("pending", "1 pending")
        assert ov.attr(None, "data-optimistic") == "true", ov.describe()
        assert score_number(ov.field("score")) > cached, ov.describe()
    finally:
        live_api.start()
    tab.reload()
    wait_until(
        lambda: len(live_interactions(live_api, JANE)) == len(before) + 1,
        timeout=20,
        message="the queued log never reached the server",
    )
    assert_shows(ov, live_api, JANE)
    time.sleep(1.5)
    assert len(live_interactions(live_api, JANE)) == len(before) + 1


def test_page_scripts_cannot_read_ledger_data(chromium, tab, live_api):
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    found = assert_shows(ov, live_api, JANE)
    secrets = [
        found["contact"]["name"],  # the ledger's name, not the page's
        ov.field("score"),
        ov.field("reciprocity"),
        ov.field("last-interaction"),
    ]
    assert all(secrets), ov.describe()
    # The privileged side (CDP) sees them, so the needles are right ...
    assert found["contact"]["name"] in ov.text()
    # ... and the page's main world finds none of them anywhere it can reach.
    assert ov.page_world_search(secrets) == []
    # The overlay's root is not reachable from the main world at all.
    assert tab.evaluate(
        """() => !document.querySelector('[data-strongties-root]') &&
              ![...document.querySelectorAll('*')].some(
                e => e.shadowRoot && e.shadowRoot.querySelector('[data-strongties-root]'))"""
    )


def test_xss_fixture_stays_inert(chromium, tab, live_api, shot):
    chromium.open(XSS_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("unknown", "known")
    assert XSS_PAYLOAD in ov.field("name")
    ov.click("log")
    ov.wait_for_state("known")
    found = wait_until(lambda: live_api.lookup(linkedin=XSS["linkedin"])["contact"], timeout=10)
    assert XSS_PAYLOAD in found["name"]
    for _ in range(2):
        assert tab.evaluate("() => window.__pwned") is None
        assert tab.evaluate("(sel) => document.querySelectorAll(sel).length", XSS_INJECTED) == 0
        assert not ov.has("img, svg[onload], script, [onerror]")
        assert tab.dialogs == []
        tab.reload()
        ov.wait_for_state("known")
        assert XSS_PAYLOAD in ov.field("name")
    ov.screenshot(shot("xss"))


def test_unconfigured_then_connected_through_options(chromium_factory, live_api, seeded, shot):
    fresh = chromium_factory()
    route_all(fresh)
    tab = fresh.open(JANE_URL)
    ov = fresh.overlay(tab)
    ov.wait_for_state("unconfigured")
    ov.screenshot(shot("unconfigured"))
    with fresh.context.expect_page() as opened:
        ov.click("open-options")
    options = opened.value
    options.wait_for_load_state()
    assert options.url.startswith(fresh.extension_url("options/options.html"))
    fresh.configure(live_api.url, code=live_api.pairing_code(), page=options)
    tab.reload()
    assert_shows(ov, live_api, JANE)
    # The new device is listed by the server.
    assert len(live_api.get_json("/api/v1/devices")["devices"]) >= 2


def test_revoked_device_card_says_the_server_disconnected_it(
    chromium_factory, live_api, seeded, shot
):
    """A token revoked on the server (401, invalid_token): the card says so and, like the
    not-connected card, opens the options page to pair again, which says "revoked" too."""
    fresh = chromium_factory()
    route_all(fresh)
    name = f"revoked-{uuid.uuid4().hex[:8]}"
    fresh.configure(live_api.url, token=live_api.create_token(name)).close()
    tab = fresh.open(JANE_URL)
    ov = fresh.overlay(tab)
    assert_shows(ov, live_api, JANE)
    device = next(d for d in live_api.get_json("/api/v1/devices")["devices"] if d["name"] == name)
    live_api.cli("devices", "revoke", str(device["id"]))

    tab.reload()  # the lookup meets the 401
    ov.wait_for_state("unconfigured")
    message = ov.field("message")
    assert "server disconnected this browser" in message and "revoked" in message, message
    assert "Pair it again in the options" in message, message
    assert ov.visible('[data-action="open-options"]')
    assert ov.text('[data-action="open-options"]') == "Pair again"
    assert not ov.field("score")
    ov.screenshot(shot("revoked"))
    tab.reload()  # remembered: the next page says so without asking the server
    ov.wait_for_state("unconfigured")
    assert ov.field("message") == message
    popup = fresh.new_page()  # the toolbar popup says it too
    popup.goto(fresh.extension_url("popup/popup.html"))
    note = popup.locator("#note")
    wait_until(lambda: note.text_content() == "Your server disconnected this browser.", timeout=10)
    assert popup.locator("#options").text_content() == "Pair again"
    popup.close()

    with fresh.context.expect_page() as opened:
        ov.click("open-options")
    options = opened.value
    options.wait_for_load_state()
    assert options.url.startswith(fresh.extension_url("options/options.html"))
    status = options.locator("[data-status]").first
    wait_until(
        lambda: status.get_attribute("data-status") == "revoked",
        timeout=15,
        message=lambda: f"options page status: {status.get_attribute('data-status')!r}",
    )
    fresh.configure(live_api.url, code=live_api.pairing_code(), page=options)
    tab.reload()
    assert_shows(ov, live_api, JANE)


def test_connect_page_connects_a_fresh_browser(chromium_factory, live_api, seeded):
    fresh = chromium_factory()
    route_all(fresh)
    tab = fresh.open(f"{live_api.url}/connect")
    tab.locator("button[data-action=connect]").click()
    status = tab.locator("[data-status]")
    wait_until(
        lambda: status.get_attribute("data-status") == "connected",
        timeout=15,
        message=lambda: f"connect page status: {status.get_attribute('data-status')!r}",
    )
    fresh.open(JOHN_URL, tab)
    assert_shows(fresh.overlay(tab), live_api, JOHN)


def test_connection_survives_a_browser_restart(chromium, live_api):
    chromium.restart()
    route_all(chromium)
    tab = chromium.open(JANE_URL)
    try:
        assert_shows(chromium.overlay(tab), live_api, JANE)
    finally:
        tab.close()
