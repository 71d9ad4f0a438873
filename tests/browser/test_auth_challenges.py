"""A 401 the server did not give for this browser's token keeps the browser connected.

Only the server's own refusal of the token (``WWW-Authenticate: Bearer error="invalid_token"``)
disconnects the browser. A proxy in front of the server that asks for credentials of its own
(``Basic``, a single sign-on gateway), or that drops the Authorization header on the way, is an
error the card and the options page name, while the token, the cached ties and the queued logs
stay, and everything works again once the proxy lets the requests through.

A Chromium, an API and a proxy (``harness.gate.Gate``, a real reverse proxy on a loopback port,
the extension's configured server) of the module's own.
"""

from __future__ import annotations

import time

import pytest
from harness.gate import Gate
from harness.net import wait_until
from harness.scenarios import (
    JANE,
    JANE_URL,
    assert_queued_log_delivered,
    assert_shows,
    live_interactions,
    route_all,
    seed_people,
)

pytestmark = pytest.mark.browser

ASKED = "The server (or a proxy in front of it) asked for other credentials (HTTP 401)"
NO_TOKEN = (
    "The server got no token from this browser (HTTP 401): "
    "a proxy in front of it may remove the Authorization header"
)


@pytest.fixture(scope="module")
def api(live_api_factory):
    return live_api_factory(wait=False)


@pytest.fixture(scope="module")
def chromium(api, chromium_factory):  # api first: it boots meanwhile
    browser = chromium_factory()
    route_all(browser)
    return browser


@pytest.fixture(scope="module")
def gate(api, chromium):
    seed_people(api)
    gate = Gate(api.url)
    chromium.configure(gate.url, token=api.token).close()
    yield gate
    gate.close()


@pytest.fixture
def tab(chromium, gate):
    gate.pass_through()
    page = chromium.new_page()
    yield page
    page.close()


def storage(chromium, key: str):
    return chromium.evaluate_in_worker(
        "async (key) => (await chrome.storage.local.get(key))[key]", key
    )


def options_status(page, before: tuple | None = None) -> tuple[str, str, str]:
    """The options page's status, its text and the detail under it, once settled."""

    def now():
        return tuple(
            page.evaluate(
                """() => [document.getElementById("status").getAttribute("data-status"),
                          document.getElementById("status").textContent.trim(),
                          document.getElementById("detail").textContent.trim()]"""
            )
        )

    return wait_until(
        lambda: (s := now())[0] not in (None, "", "working") and s != before and s,
        timeout=15,
        message=lambda: f"options status: {now()}",
    )


def test_a_proxy_asking_for_its_own_credentials_leaves_the_browser_connected(
    chromium, api, gate, tab, shot
):
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, api, JANE)
    before = live_interactions(api, JANE)

    # The proxy now wants its own sign-in: the log made meanwhile waits in the browser.
    gate.refuse(401, {"WWW-Authenticate": 'Basic realm="Corporate sign-in", charset="UTF-8"'})
    ov.click("log")
    ov.wait_for_field("pending", "1 pending")
    assert ov.field("message") == f"Saved in this browser, not sent: {ASKED}"
    # A second one waits behind the first, and says why too.
    ov.click("log")
    ov.wait_for_field("pending", "2 pending")
    assert ov.field("message") == f"Saved in this browser, not sent: {ASKED}"
    tab.reload()
    ov.wait_for_state("error")
    assert ov.field("message") == ASKED
    assert ov.visible('[data-action="retry"]')
    assert not ov.visible('[data-action="open-options"]')  # no "Pair again": it would not help
    assert ov.field("pending") == "2 pending"
    ov.screenshot(shot("card"))

    # Still connected, with the cached ties and the queued logs.
    assert storage(chromium, "settings")["token"] == api.token
    assert storage(chromium, "settings")["revoked"] is False
    assert f"linkedin:{JANE['linkedin']}" in storage(chromium, "ties")
    assert len(storage(chromium, "outbox")) == 2

    # The toolbar popup of that tab says it too.
    tab_id = chromium.evaluate_in_worker(
        "async (url) => (await chrome.tabs.query({url}))[0].id", JANE_URL
    )
    popup = chromium.open(chromium.extension_url(f"popup/popup.html?tab={tab_id}"))
    note = popup.locator("#note")
    wait_until(
        lambda: note.text_content() == f"{ASKED} 2 log(s) waiting.",
        timeout=10,
        message=lambda: f"popup note: {note.text_content()!r}",
    )
    popup.close()

    # The options page names the problem, says the browser stays connected, and sends nothing.
    page = chromium.open_options()
    kind, text, detail = options_status(page)
    assert (kind, text) == ("error", ASKED)
    assert "stays connected" in detail and "proxy" in detail
    assert page.locator("#device").text_content().startswith(f"Connected to {gate.url}")
    assert page.locator("#queue").text_content().startswith("2 log(s) waiting to be sent.")
    page.locator("[data-action=flush]").click()
    wait_until(
        lambda: page.locator("#queue").text_content() == f"Sent 0; 2 still waiting. {ASKED}.",
        timeout=10,
        message=lambda: f"queue line: {page.locator('#queue').text_content()!r}",
    )
    page.screenshot(path=str(shot("options")))
    page.close()

    # Nothing retries in a loop meanwhile (the outbox waits for its alarm, once a minute).
    asked = gate.refused()
    time.sleep(3)
    assert gate.refused() == asked

    # The proxy lets the extension through again: the card works, the logs reach the ledger.
    gate.pass_through()
    ov.click("retry")
    assert_queued_log_delivered(ov, api, JANE, len(before), logs=2)
    assert storage(chromium, "outbox") == []


def test_a_proxy_that_drops_the_token_is_named_and_only_a_refused_token_disconnects(
    chromium, api, gate, tab, shot
):
    """The server itself answers 401 (``Bearer realm="strongties"``, no token came): that is
    no refusal of the token either. Revoking the device then disconnects the browser."""
    gate.strip_authorization()
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    ov.wait_for_state("error")
    assert ov.field("message") == NO_TOKEN
    page = chromium.open_options()
    kind, text, detail = options_status(page)
    assert (kind, text) == ("error", NO_TOKEN)
    assert storage(chromium, "settings")["token"] == api.token
    page.screenshot(path=str(shot("options")))

    gate.pass_through()
    before = options_status(page)
    page.locator("[data-action=test]").click()
    kind, text, _ = options_status(page, before)
    assert kind == "connected", (kind, text)
    tab.reload()
    assert_shows(ov, api, JANE)

    # The server's own refusal, passed on by the proxy, is what disconnects the browser.
    device = next(
        d for d in api.get_json("/api/v1/devices")["devices"] if d["name"] == api.token_name
    )
    api.request("DELETE", f"/api/v1/devices/{device['id']}").raise_for_status()
    tab.reload()
    ov.wait_for_state("unconfigured")
    assert "revoked" in ov.field("message")
    assert not storage(chromium, "settings")["token"]
    page.close()


# A WWW-Authenticate header as proxies and servers write it -> its challenges, as the extension's
# background reads them (the decision: a "bearer" challenge with error "invalid_token").
CHALLENGES = [
    (
        'Bearer realm="strongties", error="invalid_token", '
        'error_description="Unknown device token."',
        [
            {
                "scheme": "bearer",
                "params": {
                    "realm": "strongties",
                    "error": "invalid_token",
                    "error_description": "Unknown device token.",
                },
            }
        ],
    ),
    ("bearer error=invalid_token", [{"scheme": "bearer", "params": {"error": "invalid_token"}}]),
    (
        'BEARER  Error = "invalid_token"',
        [{"scheme": "bearer", "params": {"error": "invalid_token"}}],
    ),
    ('Bearer, error="invalid_token"', [{"scheme": "bearer", "params": {"error": "invalid_token"}}]),
    (
        'Basic realm="Corp, Inc.", Bearer realm="x", error="invalid_token"',
        [
            {"scheme": "basic", "params": {"realm": "Corp, Inc."}},
            {"scheme": "bearer", "params": {"realm": "x", "error": "invalid_token"}},
        ],
    ),
    (  # RFC 9110's example: a quoted string with escaped quotes, then a second challenge
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
        [
            {
                "scheme": "newauth",
                "params": {"realm": "apps", "type": "1", "title": 'Login to "apps"'},
            },
            {"scheme": "basic", "params": {"realm": "simple"}},
        ],
    ),
    (  # token68 data is no scheme; the error belongs to Basic, not to a Bearer challenge
        'Negotiate a87421000492aa874209af8bc028==, Basic realm="x", error="invalid_token"',
        [
            {"scheme": "negotiate", "params": {}, "token68": "a87421000492aa874209af8bc028=="},
            {"scheme": "basic", "params": {"realm": "x", "error": "invalid_token"}},
        ],
    ),
    (
        'Basic realm="error=\\"invalid_token\\", Bearer"',
        [{"scheme": "basic", "params": {"realm": 'error="invalid_token", Bearer'}}],
    ),
    ('Bearer realm="strongties"', [{"scheme": "bearer", "params": {"realm": "strongties"}}]),
    ("", []),
    (None, []),
    ('error="invalid_token"', []),  # a parameter with no scheme
]


def test_the_background_reads_every_challenge_of_a_www_authenticate_header(chromium):
    read = chromium.evaluate_in_worker(
        "(headers) => headers.map((h) => authChallenges(h))", [h for h, _ in CHALLENGES]
    )
    for (header, expected), got in zip(CHALLENGES, read, strict=True):
        assert got == expected, header


# What a 401's challenge says of the token: only our server's own (realm "strongties") refuses it.
VERDICTS = [
    ('Bearer realm="strongties", error="invalid_token", error_description="x"', "refused"),
    ('Basic realm="Corp", Bearer realm="strongties", error=invalid_token', "refused"),
    ('Bearer realm="strongties"', "missing"),
    ('Bearer realm="api-gateway", error="invalid_token"', None),  # a gateway checking bearers
    ('Bearer error="invalid_token"', None),
    ('Basic realm="strongties"', None),
    ("", None),
]


def test_only_the_servers_own_challenge_refuses_the_token(chromium):
    read = chromium.evaluate_in_worker(
        "(headers) => headers.map((h) => tokenVerdict(h))", [h for h, _ in VERDICTS]
    )
    assert read == [v for _, v in VERDICTS]
