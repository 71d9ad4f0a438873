"""Details of the Chromium extension the main e2e file leaves out: the toolbar badge, the options
page (test connection, default kind, per-site switches), the /connect page with and without the
extension, LinkedIn's other URL forms, Gmail's one-interaction-per-email rule, keyboard use,
collapsing and the dark colour scheme.

One browser and one API serve the module (connected once with a token). Tests that change the
extension's settings put them back before they end.
"""

from __future__ import annotations

import re
import time

import pytest
from harness.chromium import CHROMIUM_ARGS
from harness.ledger import ensure_contact, tie_score
from harness.net import wait_until
from harness.scenarios import (
    GMAIL_URL,
    JANE,
    JANE_URL,
    JOHN,
    JOHN_URL,
    PRIYA,
    assert_shows,
    live_interactions,
    log_by_click,
    lookup,
    route_all,
    seed_people,
)

pytestmark = pytest.mark.browser

# A LinkedIn profile host other than www. (the manifest matches https://*.linkedin.com/*).
OTHER_LINKEDIN_HOSTS = ("https://de.linkedin.com",)
# /pub/<name>/<a>/<b>/<c> is /in/<name>-<c><b><a> with c and b zero-padded to three digits.
LEGACY_URL = "https://www.linkedin.com/pub/jane-doe/4c/1b2/a3"
LEGACY = {"name": "Jane Doe (legacy URL)", "linkedin": "jane-doe-0a31b24c"}


@pytest.fixture(scope="module")
def seeded(live_api):
    people = seed_people(live_api)
    people["legacy"] = ensure_contact(live_api, **LEGACY, interactions=[])
    return people


@pytest.fixture(scope="module")
def chromium(live_api, chromium_ext, seeded):  # live_api first: it boots meanwhile
    chromium_ext.configure(live_api.url, token=live_api.token).close()
    for origin in OTHER_LINKEDIN_HOSTS:
        chromium_ext.context.route(f"{origin}/**", chromium_ext._fulfill)
    route_all(chromium_ext)
    return chromium_ext


@pytest.fixture
def tab(chromium):
    route_all(chromium)
    p = chromium.new_page()
    yield p
    p.close()


def worker_tab_id(chromium, url_prefix: str) -> int:
    """The id of the tab whose URL starts with ``url_prefix``, as the service worker sees it."""
    tabs = chromium.evaluate_in_worker(
        "async () => (await chrome.tabs.query({})).map(t => ({id: t.id, url: t.url || ''}))"
    )
    ids = [t["id"] for t in tabs if t["url"].startswith(url_prefix)]
    assert len(ids) == 1, f"tabs for {url_prefix}: {tabs}"
    return ids[0]


def badge_text(chromium, tab_id: int) -> str:
    return chromium.evaluate_in_worker(
        "async (tabId) => await chrome.action.getBadgeText({tabId})", tab_id
    )


def options_status(page) -> tuple[str | None, str]:
    status = page.locator("#status")
    return status.get_attribute("data-status"), (status.text_content() or "").strip()


def save_options(page) -> None:
    """Click "Save" (token left empty: the saved one is kept) and wait for it."""
    page.locator("form#settings button[type=submit]").click()
    wait_until(
        lambda: options_status(page)[0] in ("connected", "error"),
        timeout=15,
        message=lambda: f"options status after saving: {options_status(page)}",
    )
    assert options_status(page)[0] == "connected", options_status(page)


def stored_settings(chromium) -> dict:
    return chromium.evaluate_in_worker(
        "async () => (await chrome.storage.local.get('settings')).settings || {}"
    )


def luminance(css_colour: str) -> float:
    parts = [float(x) for x in re.findall(r"[\d.]+", css_colour)[:3]]
    assert len(parts) == 3, css_colour
    r, g, b = parts
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


# -- 1. the toolbar badge -------------------------------------------------------------------------
def test_badge_shows_the_current_tabs_score(chromium, tab, live_api):
    chromium.open(JOHN_URL, tab)
    found = assert_shows(chromium.overlay(tab), live_api, JOHN)
    tab_id = worker_tab_id(chromium, JOHN_URL)
    wait_until(
        lambda: badge_text(chromium, tab_id) != "",
        timeout=10,
        message="the badge of John's tab stayed empty",
    )
    shown = badge_text(chromium, tab_id)
    assert shown.isdigit(), shown
    assert abs(int(shown) - tie_score(found)) <= 1, (shown, found["tie"])

    # Another tab with another person has its own badge.
    other = chromium.open(JANE_URL)
    try:
        jane = assert_shows(chromium.overlay(other), live_api, JANE)
        assert tie_score(jane) != tie_score(found)
        jane_tab = worker_tab_id(chromium, JANE_URL)
        wait_until(lambda: badge_text(chromium, jane_tab) != "", timeout=10)
        assert abs(int(badge_text(chromium, jane_tab)) - tie_score(jane)) <= 1
        assert abs(int(badge_text(chromium, tab_id)) - tie_score(found)) <= 1
    finally:
        other.close()


# -- 2. the options page --------------------------------------------------------------------------
def test_options_test_connection_success_and_wrong_token(chromium, live_api, shot):
    page = chromium.open_options()
    try:
        page.locator("input[name=server]").fill(live_api.url)
        page.locator("input[name=token]").fill(live_api.token)
        page.locator("[data-action=test]").click()
        wait_until(
            lambda: options_status(page)[0] in ("connected", "error"),
            timeout=15,
            message=lambda: f"status after testing: {options_status(page)}",
        )
        assert options_status(page) == (
            "connected",
            f"Connected to {live_api.url} as “{live_api.token_name}”",
        )
        page.screenshot(path=str(shot("test-ok")))

        page.locator("input[name=token]").fill("st_wrong_" + "x" * 30)
        page.locator("[data-action=test]").click()
        wait_until(
            lambda: options_status(page)[0] in ("connected", "error"),
            timeout=15,
            message=lambda: f"status after testing a wrong token: {options_status(page)}",
        )
        kind, text = options_status(page)
        assert kind == "error", (kind, text)
        assert text and "connected" not in text.lower(), text
        page.screenshot(path=str(shot("test-wrong-token")))
    finally:
        page.close()
    # Testing saved nothing: the extension still works with its token.
    t = chromium.open(JANE_URL)
    try:
        assert_shows(chromium.overlay(t), live_api, JANE)
    finally:
        t.close()


def test_default_kind_call_is_what_one_click_logs(chromium, tab, live_api):
    page = chromium.open_options()
    try:
        page.locator("select[name=default_kind]").select_option("call")
        save_options(page)
        assert stored_settings(chromium).get("defaultKind") == "call"
        chromium.open(JOHN_URL, tab)
        ov = chromium.overlay(tab)
        assert_shows(ov, live_api, JOHN)
        new = log_by_click(ov, live_api, JOHN)
        assert len(new) == 1 and new[0]["kind"] == "call", new
    finally:
        page.locator("select[name=default_kind]").select_option("message")
        save_options(page)
        page.close()
    assert stored_settings(chromium).get("defaultKind") == "message"


def test_site_switch_hides_linkedin_but_not_gmail(chromium, tab, live_api):
    page = chromium.open_options()
    try:
        page.locator("input[name=site_linkedin]").uncheck()
        save_options(page)
        assert stored_settings(chromium)["sites"]["linkedin"] is False
        chromium.open(JANE_URL, tab)
        ov = chromium.overlay(tab)
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            assert not ov.exists(), f"LinkedIn is switched off but: {ov.describe()}"
            time.sleep(0.2)
        chromium.open(GMAIL_URL, tab)
        assert_shows(chromium.overlay(tab), live_api, PRIYA)
    finally:
        page.locator("input[name=site_linkedin]").check()
        save_options(page)
        page.close()
    assert stored_settings(chromium)["sites"]["linkedin"] is True
    chromium.open(JANE_URL, tab)
    assert_shows(chromium.overlay(tab), live_api, JANE)


# -- 3. the /connect page -------------------------------------------------------------------------
def test_connect_page_without_the_extension_shows_install_steps(
    playwright, chromium_executable, chromium, live_api, shot
):
    plain = playwright.chromium.launch(
        executable_path=chromium_executable, headless=True, args=list(CHROMIUM_ARGS)
    )
    try:
        page = plain.new_page()
        page.goto(f"{live_api.url}/connect")
        page.wait_for_timeout(1000)  # an extension would have marked the page by now
        assert page.evaluate("() => document.documentElement.dataset.strongtiesExtension") is None
        needs = page.locator(".needs-extension")
        assert needs.is_visible()
        assert "Load unpacked" in (needs.text_content() or "")
        code = page.locator("button[data-action=connect]").get_attribute("data-pairing-code")
        assert code and code.strip()
        assert code.strip() in (needs.text_content() or "")
        page.screenshot(path=str(shot("no-extension")))
    finally:
        plain.close()

    page = chromium.open(f"{live_api.url}/connect")
    try:
        wait_until(
            lambda: (
                page.evaluate("() => document.documentElement.dataset.strongtiesExtension")
                == "present"
            ),
            timeout=10,
            message="the extension never marked the connect page",
        )
        assert page.locator("html[data-strongties-extension=present]").count() == 1
        assert not page.locator(".needs-extension").is_visible()
        page.screenshot(path=str(shot("with-extension")))
    finally:
        page.close()


# -- 4. LinkedIn URL forms ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "person"),
    [
        pytest.param(
            "https://de.linkedin.com/in/jane-doe/details/experience/", JANE, id="de-details"
        ),
        pytest.param("https://www.linkedin.com/m/in/jane-doe/", JANE, id="mobile"),
        pytest.param("https://www.linkedin.com/in/Jane-Doe/?trk=abc#x", JANE, id="case-query-hash"),
        pytest.param(LEGACY_URL, LEGACY, id="legacy-pub"),
    ],
)
def test_linkedin_url_forms_show_the_right_contact(chromium, tab, live_api, url, person, shot):
    route_all(chromium)
    chromium.serve_site("https://*.linkedin.com/**", "linkedin-profile-classic")
    try:
        chromium.open(url, tab)
        ov = chromium.overlay(tab)
        found = assert_shows(ov, live_api, person)
        assert found["contact"]["name"] == person["name"]
        ov.screenshot(shot("overlay"))
    finally:
        route_all(chromium)


# -- 5. Gmail: one interaction per email ----------------------------------------------------------
def gmail_refs(api) -> list[dict]:
    return [
        i
        for i in live_interactions(api, PRIYA)
        if (i.get("external_ref") or "").startswith("gmail:")
    ]


def test_gmail_log_records_the_email_once(chromium, tab, live_api):
    assert gmail_refs(live_api) == []
    total = len(live_interactions(live_api, PRIYA))
    chromium.open(GMAIL_URL, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, live_api, PRIYA)
    ov.click("log")
    refs = wait_until(lambda: gmail_refs(live_api), timeout=10, message="no gmail: interaction")
    assert len(refs) == 1 and refs[0]["kind"] == "email", refs
    ref = refs[0]["external_ref"]
    assert len(live_interactions(live_api, PRIYA)) == total + 1
    ov.wait_for(lambda: "Logged" in (ov.text() or ""), 5, "the 'Logged' confirmation")

    # Logging the same email again, at once and after reloading the thread, keeps one.
    ov.click("log")
    ov.wait_for(lambda: "Already logged" in (ov.text() or ""), 10, "'Already logged'")
    tab.reload()
    assert_shows(ov, live_api, PRIYA)
    ov.click("log")
    ov.wait_for(lambda: "Already logged" in (ov.text() or ""), 10, "'Already logged'")
    ov.wait_for_state("known")
    time.sleep(1.5)
    same = [i for i in live_interactions(live_api, PRIYA) if i.get("external_ref") == ref]
    assert len(same) == 1, same
    assert len(live_interactions(live_api, PRIYA)) == total + 1
    assert_shows(ov, live_api, PRIYA)


# -- 6. keyboard, collapsing, colour scheme -------------------------------------------------------
def test_enter_on_the_focused_log_button_logs_once(chromium, tab, live_api):
    before = live_interactions(live_api, JANE)
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, live_api, JANE)
    focused = ov._call(
        "const el = this.querySelector('[data-action=\"log\"]'); el.focus();"
        "return this.getRootNode().activeElement === el;"
    )
    assert focused, "the log button cannot take the keyboard focus"
    tab.keyboard.press("Enter")
    wait_until(
        lambda: len(live_interactions(live_api, JANE)) == len(before) + 1,
        timeout=10,
        message="Enter on the log button logged nothing",
    )
    time.sleep(1.5)
    assert len(live_interactions(live_api, JANE)) == len(before) + 1

    # Tab moves the focus on from the log button to the next control of the overlay.
    ov._call("this.querySelector('[data-action=\"log\"]').focus();")
    tab.keyboard.press("Tab")
    nxt = ov._call(
        "const a = this.getRootNode().activeElement;"
        "return a && this.contains(a) ? a.getAttribute('data-action') : null;"
    )
    assert nxt and nxt != "log", nxt


def test_collapse_and_expand(chromium, tab, live_api, shot):
    chromium.open(JANE_URL, tab)
    ov = chromium.overlay(tab)
    assert_shows(ov, live_api, JANE)
    assert ov.attr(None, "data-collapsed") != "true"
    try:
        ov.click("collapse")
        ov.wait_for(lambda: ov.attr(None, "data-collapsed") == "true", 5, "collapsed")
        assert not ov.visible('[data-action="log"]')
        assert ov.attr('[data-action="collapse"]', "aria-expanded") == "false"
        ov.screenshot(shot("collapsed"))
    finally:
        if ov.attr(None, "data-collapsed") == "true":
            ov.click("collapse")
    ov.wait_for(lambda: ov.attr(None, "data-collapsed") == "false", 5, "expanded")
    assert ov.visible('[data-action="log"]')
    assert ov.attr('[data-action="collapse"]', "aria-expanded") == "true"


def test_dark_and_light_colour_scheme(chromium, tab, live_api, shot):
    bg = "return getComputedStyle(this).backgroundColor;"
    try:
        tab.emulate_media(color_scheme="dark")
        chromium.open(JANE_URL, tab)
        ov = chromium.overlay(tab)
        assert_shows(ov, live_api, JANE)
        dark = ov._call(bg)
        assert luminance(dark) < 0.3, dark
        ov.screenshot(shot("dark"))

        tab.emulate_media(color_scheme="light")
        ov.wait_for(lambda: luminance(ov._call(bg)) > 0.7, 5, "a light background")
        ov.screenshot(shot("light"))
    finally:
        tab.emulate_media(color_scheme=None)
    assert lookup(live_api, JANE)["contact"]
