"""The harness itself works: browsers start with the extension, sites are served at real URLs,
the live API answers. Kept small and fast; the product behaviour is in the e2e test modules."""

from __future__ import annotations

import pytest
from harness.net import wait_until

pytestmark = pytest.mark.browser

PROFILE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>Harness Probe | LinkedIn</title></head>
<body><main><section><h1 class="text-heading-xlarge">Harness Probe</h1>
<div class="text-body-medium break-words">Testing the harness</div></section></main>
<div id="open-host"></div><div id="closed-host"></div>
<script>
  window.__fixtureLoaded = true;
  // (the words are joined at run time so that this script's own text does not contain them)
  const s = "-" + "secret";
  document.getElementById("open-host").attachShadow({mode: "open"}).innerHTML =
    `<span title='open-attr${s}'>open-text${s}</span>`;
  document.getElementById("closed-host").attachShadow({mode: "closed"}).innerHTML =
    `<span>closed-text${s}</span>`;
</script></body></html>"""
SECRETS = ["open-attr-secret", "open-text-secret", "closed-text-secret"]


def assert_page_world_search_works(hits):
    """The main-world search reaches open shadow roots (text and attributes), not closed ones."""
    assert any("open-attr-secret" in h for h in hits), hits
    assert any("open-text-secret" in h for h in hits), hits
    assert not any("closed-text-secret" in h for h in hits), hits


def test_live_api_health_token_and_restart(live_api):
    assert live_api.url.startswith("http://localhost:")
    health = live_api.get_json("/api/v1/health")
    assert health["status"] == "ok"
    # The token works and an unauthenticated call does not.
    assert live_api.request("GET", "/api/v1/contacts").status_code == 200
    assert live_api.request("GET", "/api/v1/contacts", token=False).status_code == 401
    contact = live_api.create_contact("Harness Probe", linkedin="harness-probe")
    live_api.stop()
    assert not live_api.running
    live_api.start()
    assert live_api.lookup(linkedin="harness-probe")["contact"]["id"] == contact["id"]


def test_chromium_extension_worker_and_options(chromium_ext, shot):
    assert chromium_ext.extension_id and len(chromium_ext.extension_id) == 32
    worker = chromium_ext.service_worker()
    assert worker.url.startswith(f"chrome-extension://{chromium_ext.extension_id}/")
    page = chromium_ext.open_options()
    try:
        assert page.locator("input[name=server]").count() == 1
        assert page.locator("input[name=token]").count() == 1
        page.screenshot(path=str(shot("options")))
    finally:
        page.close()


def test_chromium_serves_linkedin_fixture(chromium_ext):
    chromium_ext.serve_site("https://www.linkedin.com/in/**", html=PROFILE_HTML)
    page = chromium_ext.open("https://www.linkedin.com/in/harness-probe/")
    try:
        assert page.url == "https://www.linkedin.com/in/harness-probe/"
        assert page.evaluate("window.__fixtureLoaded") is True
        assert page.locator("h1").inner_text() == "Harness Probe"
        assert_page_world_search_works(chromium_ext.overlay(page).page_world_search(SECRETS))
    finally:
        page.close()


@pytest.mark.firefox
def test_firefox_addon_installs_and_options_open(firefox_ext, shot):
    assert firefox_ext.addon_id == firefox_ext.gecko_id
    # host permission for the local API (granted by the fixture, as a user would in the prompt)
    assert "http://localhost/*" in firefox_ext.host_permissions()
    firefox_ext.open_options()
    assert firefox_ext.js("return document.querySelectorAll('input[name=token]').length") == 1
    firefox_ext.screenshot(shot("options"))


@pytest.mark.firefox
def test_firefox_serves_linkedin_fixture(firefox_ext):
    firefox_ext.serve_site("https://www.linkedin.com/in/**", html=PROFILE_HTML)
    firefox_ext.navigate("https://www.linkedin.com/in/harness-probe/")
    assert firefox_ext.url == "https://www.linkedin.com/in/harness-probe/"
    assert firefox_ext.js("return document.querySelector('h1').textContent") == "Harness Probe"
    # The page's own main world ran its script (checked from the main world itself).
    assert firefox_ext.page_world("return window.__fixtureLoaded === true;") is True
    assert_page_world_search_works(firefox_ext.overlay().page_world_search(SECRETS))
    wait_until(lambda: firefox_ext.js("return document.readyState") == "complete", timeout=5)
