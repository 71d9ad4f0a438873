"""Fixtures for the browser tests (real Chromium / Firefox ESR + the real API).

Fixtures (see tests/browser/harness/ for the classes):

- ``live_api`` (module): :class:`harness.api.LiveApi` running ``strongties serve`` on a free port
  with a temp SQLite database and a device token. ``.url`` (http://localhost:<port>), ``.token``,
  ``.db_url``, ``.request(method, path, json)``, ``.get_json``, ``.post_json``, ``.create_contact``,
  ``.lookup``, ``.interactions``, ``.pairing_code()``, ``.stop()`` / ``.start()`` (same port + DB).
- ``live_api_factory`` (session): ``live_api_factory(env={...})`` starts another one.
- ``chromium_ext`` (module): :class:`harness.chromium.ChromiumExtension`, headless Chromium with
  the unpacked extension, fresh profile; ``.extension_id``, ``.serve_site(glob, fixture)``,
  ``.open(url)``, ``.open_options()``, ``.configure(server, token=|code=)``, ``.overlay(page)``,
  ``.restart()``. NOT configured: tests (or a module fixture) call ``configure`` themselves.
- ``chromium_factory`` (module): ``chromium_factory()`` launches another, independent Chromium.
- ``site_server`` (session): HTTPS server on 127.0.0.1:443 (trustme certificate) for Firefox.
- ``firefox_ext`` (module): :class:`harness.firefox.FirefoxExtension`, headless firefox-esr via
  Marionette with the extension installed and ``http://localhost/*`` granted; ``.serve_site``,
  ``.navigate``, ``.open_options()``, ``.configure(...)``, ``.overlay()``, ``.restart()``.
- ``firefox_factory`` (module): ``firefox_factory()`` starts another Firefox (shares site_server).
- ``shot`` (function): ``shot(label)`` -> Path under test-output/screenshots/, prefixed with the
  module and test name (the directory is emptied at the start of each session).

Browser binaries missing => the tests FAIL (CI installs them with ``scripts/setup --test``).
Every test under tests/browser/ gets the ``browser`` marker; tests using a Firefox fixture also get
``firefox``. On a failure, screenshots of the open Chromium pages / the Firefox tab are saved as
test-output/screenshots/FAILED-<test>-*.png.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from harness.api import LiveApi  # noqa: E402
from harness.chromium import ChromiumExtension  # noqa: E402
from harness.firefox import FirefoxExtension  # noqa: E402
from harness.paths import (  # noqa: E402
    EXTENSION_DIR,
    SCREENSHOT_DIR,
    SETUP_HINT,
    chromium_binary,
    firefox_binary,
    screenshot_path,
)
from harness.sites import SiteRoutes, SiteServer  # noqa: E402

BROWSER_DIR = Path(__file__).parent
FIREFOX_FIXTURES = {"firefox_ext", "firefox_factory", "site_server"}
_OPEN_BROWSERS: list[ChromiumExtension | FirefoxExtension] = []  # for failure screenshots


# -- markers and failure screenshots ------------------------------------------------------------
def pytest_collection_modifyitems(config, items):
    for item in items:
        try:
            in_dir = Path(str(item.path)).resolve().is_relative_to(BROWSER_DIR.resolve())
        except (AttributeError, ValueError):
            in_dir = False
        if not in_dir:
            continue
        if item.get_closest_marker("browser") is None:
            item.add_marker(pytest.mark.browser)
        if FIREFOX_FIXTURES & set(
            getattr(item, "fixturenames", ())
        ) and not item.get_closest_marker("firefox"):
            item.add_marker(pytest.mark.firefox)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _test_label(node) -> str:
    """``<module without test_>-<test name>``, e.g. ``firefox-test_xss_fixture_stays_inert``."""
    module = Path(str(node.path)).stem.removeprefix("test_")
    return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{module}-{node.name}").strip("_")


@pytest.fixture(scope="session", autouse=True)
def _fresh_screenshot_dir() -> None:
    """Screenshots of earlier runs would mislead: start each session with an empty directory."""
    if SCREENSHOT_DIR.is_dir():
        for png in SCREENSHOT_DIR.glob("*.png"):
            png.unlink()
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _screenshot_on_failure(request) -> Iterator[None]:
    yield
    rep = getattr(request.node, "rep_call", None)
    if rep is None or not rep.failed:
        return
    label = _test_label(request.node)
    for n, browser in enumerate(_OPEN_BROWSERS):
        try:
            if isinstance(browser, ChromiumExtension) and browser.context is not None:
                for i, page in enumerate(browser.context.pages):
                    page.screenshot(path=str(screenshot_path(f"FAILED-{label}-chromium{n}-{i}")))
                print(f"chromium {n} console (tail): {browser.console[-30:]}")
            elif isinstance(browser, FirefoxExtension) and browser.m is not None:
                browser.screenshot(f"FAILED-{label}-firefox{n}")
                print(browser.log_tail(40))
        except Exception as exc:  # diagnostics must not mask the failure
            print(f"could not save failure screenshot: {exc!r}")


# -- prerequisites ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def extension_dir() -> Path:
    if not (EXTENSION_DIR / "manifest.json").is_file():
        pytest.fail(f"no extension at {EXTENSION_DIR} (manifest.json missing)", pytrace=False)
    return EXTENSION_DIR


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    exe = chromium_binary()
    if exe is None:
        pytest.fail(
            f"Chromium not found (/usr/bin/chromium or $STRONGTIES_TEST_CHROMIUM): {SETUP_HINT}",
            pytrace=False,
        )
    return exe


@pytest.fixture(scope="session")
def firefox_executable() -> str:
    exe = firefox_binary()
    if exe is None:
        pytest.fail(
            f"Firefox ESR not found (/usr/bin/firefox-esr or $STRONGTIES_TEST_FIREFOX): "
            f"{SETUP_HINT}",
            pytrace=False,
        )
    return exe


# -- the API --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def live_api_factory(tmp_path_factory) -> Iterator[Callable[..., LiveApi]]:
    """``live_api_factory(env=None, start=True, wait=True)`` -> a running :class:`LiveApi`; all
    are stopped at the end of the session. ``wait=False`` returns while the server boots (its
    helpers, ``.url`` and ``.token`` wait for it), so a browser can launch meanwhile."""
    made: list[LiveApi] = []

    def make(env: dict[str, str] | None = None, start: bool = True, wait: bool = True) -> LiveApi:
        api = LiveApi(tmp_path_factory.mktemp("api"), env=env)
        made.append(api)
        if start:
            api.start(wait=wait)
        return api

    yield make
    for api in made:
        api.close()


@pytest.fixture(scope="module")
def live_api(live_api_factory) -> Iterator[LiveApi]:
    """Boots in the background: request ``live_api`` before a browser fixture to overlap them."""
    api = live_api_factory(wait=False)
    yield api
    api.close()


# -- Chromium -------------------------------------------------------------------------------------
def _headed(pytestconfig) -> bool:
    try:
        return bool(pytestconfig.getoption("--headed"))
    except ValueError:
        return False


def _slowmo(pytestconfig) -> float:
    try:
        return float(pytestconfig.getoption("--slowmo") or 0)
    except ValueError:
        return 0


@pytest.fixture(scope="module")
def chromium_factory(
    playwright, chromium_executable, extension_dir, tmp_path_factory, pytestconfig
) -> Iterator[Callable[..., ChromiumExtension]]:
    """``chromium_factory(launch=True)`` -> a new Chromium with the extension on a fresh profile."""
    made: list[ChromiumExtension] = []

    def make(launch: bool = True) -> ChromiumExtension:
        browser = ChromiumExtension(
            playwright,
            tmp_path_factory.mktemp("chromium-profile"),
            SiteRoutes(),
            executable=chromium_executable,
            extension_dir=extension_dir,
            headless=not _headed(pytestconfig),
            slow_mo=_slowmo(pytestconfig),
        )
        made.append(browser)
        _OPEN_BROWSERS.append(browser)
        if launch:
            browser.launch()
        return browser

    yield make
    for browser in made:
        _OPEN_BROWSERS.remove(browser)
        browser.close()


@pytest.fixture(scope="module")
def chromium_ext(chromium_factory) -> ChromiumExtension:
    return chromium_factory()


# -- Firefox --------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def site_server() -> Iterator[SiteServer]:
    try:
        server = SiteServer()
    except PermissionError:
        pytest.fail("binding 127.0.0.1:443 for the site fixtures needs root", pytrace=False)
    except OSError as exc:
        pytest.fail(f"cannot serve the site fixtures on 127.0.0.1:443: {exc}", pytrace=False)
    yield server
    server.close()


@pytest.fixture(scope="module")
def firefox_factory(
    firefox_executable, extension_dir, site_server, tmp_path_factory, pytestconfig
) -> Iterator[Callable[..., FirefoxExtension]]:
    """``firefox_factory(grant=("http://localhost/*",), permanent=False)`` -> a started Firefox.

    All Firefoxes share the one HTTPS site server; the routes are reset for each module.
    """
    made: list[FirefoxExtension] = []
    site_server.routes.clear()

    def make(
        grant: tuple[str, ...] = ("http://localhost/*",),
        permanent: bool = False,
        start: bool = True,
    ) -> FirefoxExtension:
        fx = FirefoxExtension(
            tmp_path_factory.mktemp("firefox") / "profile",
            executable=firefox_executable,
            extension_dir=extension_dir,
            headless=not _headed(pytestconfig),
            permanent=permanent,
            routes=site_server.routes,
        )
        made.append(fx)
        _OPEN_BROWSERS.append(fx)
        if start:
            fx.start()
            if grant:
                fx.grant_host_permissions(list(grant))
        return fx

    yield make
    for fx in made:
        _OPEN_BROWSERS.remove(fx)
        fx.quit()
    site_server.routes.clear()


@pytest.fixture(scope="module")
def firefox_ext(firefox_factory) -> FirefoxExtension:
    return firefox_factory()


# -- screenshots ----------------------------------------------------------------------------------
@pytest.fixture
def shot(request) -> Callable[[str], Path]:
    """``shot("linkedin-known")`` -> test-output/screenshots/<test>-linkedin-known.png."""
    prefix = _test_label(request.node)

    def path(label: str) -> Path:
        return screenshot_path(f"{prefix}-{label}")

    return path
