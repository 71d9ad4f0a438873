"""End to end in Firefox ESR (Marionette): the real extension, the real API, the site fixtures
served over HTTPS at their real host names.

One Firefox and one API serve the module. The module fixture opens a LinkedIn profile before the
extension is connected (it must say ``unconfigured``), then connects it through the options page
with a pairing code, as a user would.
"""

from __future__ import annotations

import time
import uuid

import pytest
from harness.firefox import UNGRANTED_HOST
from harness.gate import Gate
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
    MARTA,
    THREAD_URL,
    XSS,
    XSS_INJECTED,
    XSS_PAYLOAD,
    XSS_URL,
    assert_shows,
    live_interactions,
    log_by_click,
    route_all,
    seed_people,
    serve_only,
)

pytestmark = [pytest.mark.browser, pytest.mark.firefox]


@pytest.fixture(scope="module")
def fx(live_api, firefox_ext):  # live_api first: it boots while Firefox starts
    seed_people(live_api)
    route_all(firefox_ext)
    firefox_ext.navigate(JANE_URL)
    before = firefox_ext.overlay().wait_for_state("unconfigured", "known", "error")
    firefox_ext.configure(live_api.url, code=live_api.pairing_code())
    firefox_ext.state_before_connecting = before
    return firefox_ext


@pytest.fixture
def ov(fx):
    route_all(fx)
    return fx.overlay()


def test_connects_via_options_and_shows_score_on_linkedin(fx, ov, live_api, shot):
    assert fx.state_before_connecting == "unconfigured"
    assert fx.options_status() == "connected"
    fx.navigate(JANE_URL)
    found = assert_shows(ov, live_api, JANE)
    assert found["tie"]["score"] > 0
    assert ov.field("reciprocity")
    ov.screenshot(shot("linkedin"))
    devices = live_api.get_json("/api/v1/devices")["devices"]
    assert any("Firefox" in d["name"] for d in devices), devices


@pytest.mark.parametrize(
    ("fixture", "url", "person"),
    [pytest.param(f, u, p, id=i) for i, f, u, p in KNOWN_SITES if i != "linkedin-classic"],
)
def test_site_fixture_shows_the_right_contact(fx, ov, live_api, fixture, url, person, shot):
    serve_only(fx, url, fixture)
    fx.navigate(url)
    assert_shows(ov, live_api, person)
    ov.screenshot(shot(fixture))


def test_a_message_thread_shows_the_person_it_is_with(fx, ov, live_api):
    serve_only(fx, THREAD_URL, "linkedin-messaging-thread")
    fx.navigate(THREAD_URL)
    ov.wait_for_state("unknown", "known")
    assert ov.field("name") == MARTA["name"]


def test_one_click_logs_exactly_one_interaction(fx, ov, live_api):
    before = live_interactions(live_api, JOHN)
    fx.navigate(JOHN_URL)
    assert_shows(ov, live_api, JOHN)
    log_by_click(ov, live_api, JOHN)
    assert_shows(ov, live_api, JOHN)
    assert ov.field("last-interaction").lower().startswith("message · today")
    time.sleep(1.5)
    assert len(live_interactions(live_api, JOHN)) == len(before) + 1


def test_unknown_then_log_creates_the_contact(fx, ov, live_api, shot):
    assert live_api.lookup(linkedin=ANA["linkedin"])["contact"] is None
    fx.navigate(ANA_URL)
    ov.wait_for_state("unknown")
    assert ov.field("name") == ANA["name"]
    ov.click("log")
    ov.wait_for_state("known")
    found = wait_until(lambda: live_api.lookup(linkedin=ANA["linkedin"])["contact"], timeout=10)
    assert found["name"] == ANA["name"]
    assert {"kind": "linkedin", "value": ANA["linkedin"]} in found["identities"]
    assert_shows(ov, live_api, ANA)
    ov.screenshot(shot("known"))


def test_spa_navigation_never_shows_the_previous_person(fx, ov, live_api):
    fx.navigate(FEED_URL)
    fx.click('main a[href*="/in/jane-doe/"]')
    jane = assert_shows(ov, live_api, JANE)
    fx.click('aside a[href="/in/john-smith-4b2a1/"]')
    seen = []
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        d = ov.describe()
        if isinstance(d, dict):
            seen.append((fx.url, d["state"], d["fields"].get("name")))
            if d["state"] == "known" and d["fields"].get("name") == JOHN["name"]:
                break
        time.sleep(0.05)
    stale = [s for s in seen if "john-smith" in s[0] and s[2] == jane["contact"]["name"]]
    assert not stale, f"John's URL showed Jane: {stale[:3]}"
    assert_shows(ov, live_api, JOHN)


# From Jane's profile to Tom's (not in the ledger: the card shows the name read from the page),
# LinkedIn keeping Jane's top card in the layout, invisible (visibility: hidden), Tom's after it,
# the title left as it was; the page keeps changing.
KEEP_JANE_INVISIBLE = """
history.pushState({}, "", "/in/tom-baker-77aa11/");
setTimeout(() => {
    const old = document.querySelector("main section");
    const card = old.cloneNode(true);
    for (const s of card.querySelectorAll("h1 span")) s.textContent = "Tom Baker";
    card.querySelector("img").alt = "Tom Baker";
    card.querySelector("a[href*='/in/']").href = "/in/tom-baker-77aa11/overlay/contact-info/";
    old.style.visibility = "hidden";
    old.after(card);
}, 600);
setInterval(() => document.querySelector("aside").append(document.createElement("i")), 400);
return true;
"""


def test_an_old_top_card_left_invisible_is_not_the_person_on_screen(fx, ov, live_api):
    fx.navigate(JANE_URL)
    assert_shows(ov, live_api, JANE)
    fx.page_world(KEEP_JANE_INVISIBLE)
    seen = ov.watch(8, "name")  # past the content script's last read (5 s)
    assert not [s for s in seen if "Jane" in (s[2] or "")], seen
    assert seen[-1][1:] == ("unknown", "Tom Baker"), seen[-3:]


def test_page_scripts_cannot_read_ledger_data(fx, ov, live_api):
    fx.navigate(JANE_URL)
    found = assert_shows(ov, live_api, JANE)
    secrets = [
        found["contact"]["name"],
        ov.field("score"),
        ov.field("reciprocity"),
        ov.field("last-interaction"),
    ]
    assert all(secrets), ov.describe()
    assert found["contact"]["name"] in ov.text()
    assert ov.page_world_search(secrets) == []
    assert fx.page_world(
        "return !document.querySelector('[data-strongties-root]') &&"
        " ![...document.querySelectorAll('*')].some(e => e.shadowRoot);"
    )


def test_xss_fixture_stays_inert(fx, ov, live_api, shot):
    fx.navigate(XSS_URL)
    ov.wait_for_state("unknown", "known")
    assert XSS_PAYLOAD in ov.field("name")
    ov.click("log")
    ov.wait_for_state("known")
    found = wait_until(lambda: live_api.lookup(linkedin=XSS["linkedin"])["contact"], timeout=10)
    assert XSS_PAYLOAD in found["name"]
    fx.reload()
    ov.wait_for_state("known")
    assert XSS_PAYLOAD in ov.field("name")
    assert fx.page_world("return window.__pwned === undefined;") is True
    count_js = "return document.querySelectorAll(arguments[0]).length;"
    assert fx.page_world(count_js, XSS_INJECTED) == 0
    assert not ov.has("img, svg[onload], script, [onerror]")
    ov.screenshot(shot("xss"))


def test_offline_log_is_queued_and_delivered_once(fx, ov, live_api):
    before = live_interactions(live_api, JANE)
    fx.navigate(JANE_URL)
    assert_shows(ov, live_api, JANE)
    live_api.stop()
    try:
        ov.click("log")
        ov.wait_for_state("offline")
        ov.wait_for_field("pending", "1 pending")
    finally:
        live_api.start()
    fx.reload()
    wait_until(
        lambda: len(live_interactions(live_api, JANE)) == len(before) + 1,
        timeout=20,
        message="the queued log never reached the server",
    )
    assert_shows(ov, live_api, JANE)
    fx.reload()
    assert_shows(ov, live_api, JANE)
    time.sleep(1.5)
    assert len(live_interactions(live_api, JANE)) == len(before) + 1


def test_connection_survives_a_firefox_restart(fx, ov, live_api):
    fx.restart()  # same profile; the add-on comes back with its storage
    route_all(fx)
    fx.navigate(JANE_URL)
    assert_shows(ov, live_api, JANE)


def test_without_the_host_permission_the_servers_refusals_still_read_right(
    firefox_factory, live_api, shot
):
    """A server whose host permission the person did not grant: the background's requests to it
    are CORS requests, which read only the headers the server exposes. WWW-Authenticate is one, so
    a 401 that is no refusal of the token (here a proxy dropped it on the way) keeps the browser
    connected, and the server's refusal of a revoked token still disconnects it."""
    seed_people(live_api)
    plain = firefox_factory()
    route_all(plain)
    gate = Gate(live_api.url)
    try:
        name = f"no-host-permission-{uuid.uuid4().hex[:8]}"
        server = gate.url_at(UNGRANTED_HOST)
        assert not any(UNGRANTED_HOST in p for p in plain.host_permissions())
        plain.configure(server, token=live_api.create_token(name))
        ov = plain.overlay()
        plain.navigate(JANE_URL)
        assert_shows(ov, live_api, JANE)
        assert any(o.startswith("moz-extension://") for o in gate.origins), gate.origins

        gate.strip_authorization()  # the server answers 401 `Bearer realm="strongties"` itself
        plain.reload()
        ov.wait_for_state("error")
        assert ov.field("message").startswith("The server got no token from this browser")
        ov.screenshot(shot("token-dropped"))

        gate.pass_through()
        plain.reload()
        assert_shows(ov, live_api, JANE)
        devices = live_api.get_json("/api/v1/devices")["devices"]
        device = next(d for d in devices if d["name"] == name)
        live_api.request("DELETE", f"/api/v1/devices/{device['id']}").raise_for_status()
        plain.reload()
        ov.wait_for_state("unconfigured")
        assert "revoked" in ov.field("message")
        ov.screenshot(shot("revoked"))
    finally:
        gate.close()
