"""One person, two contacts: someone you email is known by their address, and their LinkedIn
profile shows them as a stranger (or as a second contact). The toolbar popup finds the contact
they already are and makes them one: the profile's card then shows that contact's whole tie.

Its own module: linking changes who the fixtures' people are for every later test.
"""

from __future__ import annotations

import pytest
from harness.ledger import days_ago, ensure_contact
from harness.net import wait_until
from harness.scenarios import ANA, ANA_URL, JANE_URL, assert_shows, route_all
from test_overlay_details import worker_tab_id

pytestmark = pytest.mark.browser

ANA_BY_MAIL = {"name": "Ana López", "email": "ana.lopez@example.com"}
JANE_BY_MAIL = {"name": "Jane Doe", "email": "jane.doe@example.com"}
JANE_ON_LINKEDIN = {"name": "Jane D.", "linkedin": "jane-doe"}
EMAILS = [{"kind": "email", "occurred_at": days_ago(d)} for d in (30, 12, 4)]


@pytest.fixture(scope="module")
def chromium(live_api, chromium_ext):  # live_api first: it boots meanwhile
    chromium_ext.configure(live_api.url, token=live_api.token).close()
    route_all(chromium_ext)
    return chromium_ext


def open_popup_for(chromium, url_prefix: str):
    """The toolbar popup of the tab showing ``url_prefix``, opened as a page."""
    tab_id = worker_tab_id(chromium, url_prefix)
    popup = chromium.new_page()
    popup.goto(chromium.extension_url(f"popup/popup.html?tab={tab_id}"))
    return popup


def test_an_unknown_profile_is_linked_to_the_contact_you_email(chromium, live_api, shot):
    ana = ensure_contact(live_api, **ANA_BY_MAIL, interactions=EMAILS)["contact"]
    page = chromium.open(ANA_URL)
    ov = chromium.overlay(page)
    ov.wait_for_state("unknown")

    popup = open_popup_for(chromium, ANA_URL)
    # The search starts from the name on the page and finds her by it.
    assert popup.locator("input[name=q]").input_value() == "Ana"
    choice = popup.locator("#matches button", has_text="ana.lopez@example.com")
    popup.screenshot(path=shot("popup"))
    choice.click()
    popup.wait_for_selector("[data-status=linked]")
    assert "Ana López" in popup.locator("#same-status").inner_text()

    # The profile's card, without a reload, is now her contact with its three emails.
    found = assert_shows(ov, live_api, ANA)
    assert found["contact"]["id"] == ana["id"]
    assert found["tie"]["interaction_count"] == 3
    # Every identity the page gave: her profile's slug and its member id.
    assert {i["kind"] for i in found["contact"]["identities"]} == {"email", "linkedin"}
    assert ANA["linkedin"] in {i["value"] for i in found["contact"]["identities"]}
    popup.close()
    page.close()


def test_a_second_contact_for_the_same_person_is_merged_after_a_confirming_click(
    chromium, live_api, shot
):
    by_mail = ensure_contact(live_api, **JANE_BY_MAIL, interactions=EMAILS)["contact"]
    on_linkedin = ensure_contact(
        live_api, **JANE_ON_LINKEDIN, interactions=[{"kind": "coffee", "occurred_at": days_ago(2)}]
    )["contact"]
    page = chromium.open(JANE_URL)
    ov = chromium.overlay(page)
    ov.wait_for_state("known")
    ov.wait_for_field("name", "Jane D.")

    popup = open_popup_for(chromium, JANE_URL)
    choice = popup.locator("#matches button", has_text="jane.doe@example.com")
    # The contact on screen is not offered as its own match.
    assert popup.locator("#matches button", has_text="Jane D.").count() == 0
    choice.click()
    # Merging cannot be undone: the first click only asks.
    assert choice.locator(".act").inner_text() == "Merge?"
    popup.screenshot(path=shot("popup-merge"))
    assert live_api.request("GET", f"/api/v1/contacts/{on_linkedin['id']}").status_code == 200
    choice.click()
    popup.wait_for_selector("[data-status=merged]")

    found = assert_shows(ov, live_api, {"linkedin": JANE_ON_LINKEDIN["linkedin"]})
    assert found["contact"]["id"] == by_mail["id"]
    assert found["contact"]["name"] == "Jane Doe"
    assert found["tie"]["interaction_count"] == 4
    wait_until(
        lambda: live_api.request("GET", f"/api/v1/contacts/{on_linkedin['id']}").status_code == 404,
        message="the second contact is gone",
    )
    popup.close()
    page.close()
