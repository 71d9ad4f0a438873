"""The options page tells the person where the connection stands and what to do next, in every
state it can be in: never connected, nothing typed, a token tested but not saved, a refused token,
connected (to which server, as which device), the server unreachable, the device revoked on the
server (found by the page itself or by any other request of the browser), connected again, and
disconnected by the person.

A Chromium and an API of the module's own: the test stops the server and revokes the device.
"""

from __future__ import annotations

import pytest
from harness.net import wait_until

pytestmark = pytest.mark.browser

SETTLED = ("connected", "offline", "revoked", "unconfigured", "disconnected", "error")


@pytest.fixture(scope="module")
def api(live_api_factory):
    return live_api_factory(wait=False)


@pytest.fixture(scope="module")
def chromium(api, chromium_factory):  # api first: it boots meanwhile
    return chromium_factory()


def status(page) -> tuple[str | None, str, str]:
    """The status line's kind and text, and the detail under it (read at one instant)."""
    return tuple(
        page.evaluate(
            """() => {
              const line = document.getElementById("status");
              const detail = document.getElementById("detail");
              return [line.getAttribute("data-status"), line.textContent.trim(),
                      detail.textContent.trim()];
            }"""
        )
    )


def settled(page, before: tuple | None = None) -> tuple[str | None, str, str]:
    """The status once the page has an answer (one other than ``before``, if given)."""
    return wait_until(
        lambda: (now := status(page))[0] in SETTLED and now != before and now,
        timeout=15,
        message=lambda: f"options status: {status(page)}",
    )


def reopened(chromium, page):
    page.close()
    page = chromium.open_options()
    return page, settled(page)


def submit(page, *, code: str = "", token: str = "") -> tuple[str | None, str, str]:
    before = status(page)
    page.locator("input[name=code]").fill(code)
    page.locator("input[name=token]").fill(token)
    page.locator("form#settings button[type=submit]").click()
    return settled(page, before)


def button(page) -> str:
    return (page.locator("form#settings button[type=submit]").text_content() or "").strip()


def this_browser(page) -> str:
    return (page.locator("#device").text_content() or "").strip()


def stored(chromium) -> dict:
    return chromium.evaluate_in_worker(
        "async () => (await chrome.storage.local.get('settings')).settings || {}"
    )


def the_browsers_device(api) -> dict:
    devices = [d for d in api.get_json("/api/v1/devices")["devices"] if d["name"] != api.token_name]
    assert len(devices) == 1, devices
    return devices[0]


def test_every_connection_state_says_where_it_stands_and_what_to_do(chromium, api, shot):
    url = api.url
    page = chromium.open_options()
    page.locator("input[name=server]").fill(url)

    # Never connected: says so, and how to connect.
    kind, text, detail = settled(page)
    assert (kind, text) == ("unconfigured", "Not connected yet")
    assert "Connect page" in detail and "pairing code" in detail
    assert button(page) == "Connect" and this_browser(page) == "Not connected."
    assert page.locator("[data-action=disconnect]").is_disabled()
    page.screenshot(path=str(shot("never-connected")))

    # Connect with nothing typed: what is missing.
    kind, text, detail = submit(page)
    assert (kind, text) == ("error", "Enter a pairing code or a device token first")
    assert "Connect page" in detail

    # Testing a good token says it works, and that it is not in use until saved.
    before = status(page)
    page.locator("input[name=token]").fill(api.token)
    page.locator("[data-action=test]").click()
    kind, text, detail = settled(page, before)
    assert (kind, text) == ("connected", f"This token works: {url} knows it as “{api.token_name}”")
    assert detail.startswith("Click Connect to use it")
    assert not stored(chromium).get("token") and this_browser(page) == "Not connected."

    # A token the server refuses is said to be refused, and not kept.
    kind, text, detail = submit(page, token="st_wrong_" + "x" * 40)
    assert (kind, text) == ("error", "The server refused this token (revoked or mistyped)")
    assert "pairing code" in detail
    assert not stored(chromium).get("token") and button(page) == "Connect"

    # Connected: to which server, as which device.
    kind, text, detail = submit(page, code=api.pairing_code())
    device = the_browsers_device(api)
    assert kind == "connected", (kind, text, detail)
    assert text == f"Connected to {url} as “{device['name']}”"
    assert this_browser(page) == f"Connected to {url} as “{device['name']}”."
    assert button(page) == "Save"
    assert page.locator("[data-action=disconnect]").is_enabled()
    page, (kind, text, _) = reopened(chromium, page)
    assert (kind, text) == ("connected", f"Connected to {url} as “{device['name']}”")
    page.screenshot(path=str(shot("connected")))

    # The server does not answer: which server, what to do, and that logs wait.
    api.stop()
    try:
        page, (kind, text, detail) = reopened(chromium, page)
        assert (kind, text) == ("offline", f"Cannot reach {url}")
        assert "strongties serve" in detail and "wait in this browser" in detail
        assert this_browser(page).startswith(f"Connected to {url}")  # still connected, though
        page.screenshot(path=str(shot("offline")))
    finally:
        api.start()

    # Revoked on the server: the page says so (not "not connected yet") and how to reconnect.
    revoked = f"Disconnected: {url} revoked this browser (“{device['name']}”)"
    api.request("DELETE", f"/api/v1/devices/{device['id']}").raise_for_status()
    page, (kind, text, detail) = reopened(chromium, page)
    assert (kind, text) == ("revoked", revoked)
    assert "Connect page" in detail and "pairing code" in detail
    assert this_browser(page) == f"Not connected: {url} revoked this browser."
    assert button(page) == "Connect"
    assert page.locator("[data-action=disconnect]").is_disabled()
    page.screenshot(path=str(shot("revoked")))
    page, (kind, text, _) = reopened(chromium, page)  # remembered: no server needed to tell
    assert (kind, text) == ("revoked", revoked)

    # Connected again, then revoked and found out by another request (the overlay's lookup).
    kind, text, _ = submit(page, code=api.pairing_code())
    device = the_browsers_device(api)
    assert (kind, text) == ("connected", f"Connected to {url} as “{device['name']}”")
    api.request("DELETE", f"/api/v1/devices/{device['id']}").raise_for_status()
    answer = page.evaluate(
        "() => chrome.runtime.sendMessage("
        "{type: 'lookup', identities: [{kind: 'email', value: 'ada@example.org'}]})"
    )
    assert answer["state"] == "unconfigured", answer
    assert not stored(chromium).get("token")
    api.stop()  # what the page shows comes from what the browser remembers
    try:
        page, (kind, text, _) = reopened(chromium, page)
        assert (kind, text) == ("revoked", revoked)
    finally:
        api.start()

    # Disconnected by the person: says so; the next visit shows "not connected yet".
    kind, text, _ = submit(page, code=api.pairing_code())
    assert kind == "connected", (kind, text)
    before = status(page)
    page.locator("[data-action=disconnect]").click()
    kind, text, detail = settled(page, before)
    assert (kind, text) == ("disconnected", "Disconnected")
    assert "Connect page" in detail
    page, (kind, text, _) = reopened(chromium, page)
    assert (kind, text) == ("unconfigured", "Not connected yet")
    assert this_browser(page) == "Not connected." and button(page) == "Connect"
    page.close()
