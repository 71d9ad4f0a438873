"""Chromium with the unpacked extension, driven by Playwright (sync API), plus a CDP overlay reader.

browser = ChromiumExtension(playwright, user_data_dir, routes)
browser.launch()                      # persistent context, waits for the extension's worker
browser.extension_id                  # from the service worker URL
browser.serve_site("https://www.linkedin.com/in/**", "linkedin/profile-alice.html")
page = browser.open("https://www.linkedin.com/in/alice/")
ov = ChromiumOverlay(page); ov.wait_for_state("known"); ov.field("score"); ov.click("log")
browser.configure(server=api.url, token=api.token)   # through the options page UI
browser.restart()                     # close and relaunch on the same profile
browser.close()
"""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from playwright.sync_api import BrowserContext, Page, Playwright, Worker
from playwright.sync_api import Error as PlaywrightError

from .net import wait_until
from .overlay import PAGE_WORLD_SEARCH_JS, OverlayBase, OverlayNotFound
from .paths import EXTENSION_DIR, screenshot_path
from .sites import SITE_ORIGINS, SiteRoutes

CHROMIUM_ARGS = (
    "--no-sandbox",  # the tests run as root
    "--disable-background-networking",  # no internet here: do not retry outbound connections
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--no-first-run",
    "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
    "--password-store=basic",
)


class ChromiumExtension:
    """A persistent Chromium context with the unpacked extension loaded (headless by default)."""

    def __init__(
        self,
        playwright: Playwright,
        user_data_dir: Path,
        routes: SiteRoutes | None = None,
        *,
        executable: str = "/usr/bin/chromium",
        extension_dir: Path = EXTENSION_DIR,
        headless: bool = True,
        slow_mo: float = 0,
    ) -> None:
        self.playwright = playwright
        self.user_data_dir = Path(user_data_dir)
        self.routes = routes or SiteRoutes()
        self.executable = executable
        self.extension_dir = Path(extension_dir)
        self.headless = headless
        self.slow_mo = slow_mo
        self.context: BrowserContext | None = None
        self.extension_id: str | None = None
        self.console: list[str] = []  # console messages of pages and the service worker

    # -- lifecycle -------------------------------------------------------------------------------
    def launch(self, timeout: float = 30.0) -> ChromiumExtension:
        ext = str(self.extension_dir)
        self.context = self.playwright.chromium.launch_persistent_context(
            str(self.user_data_dir),
            executable_path=self.executable,
            headless=self.headless,
            slow_mo=self.slow_mo,
            args=[*CHROMIUM_ARGS, f"--disable-extensions-except={ext}", f"--load-extension={ext}"],
            viewport={"width": 1280, "height": 900},
            timeout=timeout * 1000,
        )
        self.context.set_default_timeout(15_000)
        for origin in SITE_ORIGINS:
            self.context.route(f"{origin}/**", self._fulfill)
        self.context.on("console", lambda msg: self.console.append(f"[{msg.type}] {msg.text}"))
        worker = self.service_worker(timeout)
        self.extension_id = urlparse(worker.url).netloc
        return self

    def _fulfill(self, route) -> None:
        resp = self.routes.resolve(route.request.url)
        try:
            route.fulfill(
                status=resp.status,
                headers={"Content-Type": resp.content_type, "Cache-Control": "no-store"},
                body=resp.body,
            )
        except PlaywrightError:
            pass  # the page went away meanwhile

    def service_worker(self, timeout: float = 30.0) -> Worker:
        """The extension's service worker (waits for it to register)."""
        assert self.context is not None, "browser not launched"

        def find() -> Worker | None:
            for w in self.context.service_workers:
                if w.url.startswith("chrome-extension://"):
                    return w
            return None

        worker = find()
        if worker is None:
            try:
                worker = self.context.wait_for_event(
                    "serviceworker",
                    predicate=lambda w: w.url.startswith("chrome-extension://"),
                    timeout=timeout * 1000,
                )
            except PlaywrightError:
                worker = find()
        if worker is None:
            raise AssertionError(
                f"the extension's service worker never started ({self.extension_dir}); "
                f"console: {self.console[-20:]}"
            )
        return worker

    def close(self) -> None:
        if self.context is not None:
            try:
                self.context.close()
            except PlaywrightError:
                pass
            self.context = None

    def restart(self) -> ChromiumExtension:
        """Close the browser and launch it again on the same profile (extension storage kept)."""
        self.close()
        return self.launch()

    # -- sites -----------------------------------------------------------------------------------
    def serve_site(self, url_glob: str, fixture: str | Path | None = None, **kw: Any) -> None:
        """Answer real site URLs matching ``url_glob`` with a fixture from tests/fixtures/sites/
        (or ``html=...``). Only the site origins in ``sites.SITE_HOSTS`` are routed."""
        self.routes.serve(url_glob, fixture, **kw)

    # -- pages -----------------------------------------------------------------------------------
    def new_page(self) -> Page:
        assert self.context is not None, "browser not launched"
        page = self.context.new_page()
        page.on("pageerror", lambda err: self.console.append(f"[pageerror] {err}"))
        return page

    def open(self, url: str, page: Page | None = None, wait_until: str = "load") -> Page:
        """Navigate ``page`` (or a new tab) to ``url``."""
        page = page or self.new_page()
        page.goto(url, wait_until=wait_until)
        return page

    def extension_url(self, path: str) -> str:
        return f"chrome-extension://{self.extension_id}/{path.lstrip('/')}"

    def open_options(self, page: Page | None = None) -> Page:
        page = self.open(self.extension_url("options/options.html"), page)
        page.locator("input[name=server]").wait_for(state="attached")
        return page

    def configure(
        self,
        server: str,
        token: str | None = None,
        code: str | None = None,
        timeout: float = 15.0,
        page: Page | None = None,
    ) -> Page:
        """Connect the extension through its options page; wait for ``[data-status]`` connected."""
        page = self.open_options(page)
        fill_options_form(page, server, token, code)
        status = page.locator("[data-status]").first
        try:
            wait_until(
                lambda: (
                    (status.text_content() or "").strip().lower() == "connected"
                    or status.get_attribute("data-status") == "connected"
                ),
                timeout=timeout,
                message="options page [data-status] never read 'connected'",
            )
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}; status now {status.text_content()!r} "
                f"(data-status={status.get_attribute('data-status')!r}); "
                f"console: {self.console[-10:]}"
            ) from None
        return page

    def overlay(self, page: Page) -> ChromiumOverlay:
        return ChromiumOverlay(page)

    def evaluate_in_worker(self, js: str, arg: Any = None) -> Any:
        """Evaluate in the extension's service worker (e.g. to inspect chrome.storage)."""
        return self.service_worker().evaluate(js, arg)


def fill_options_form(page: Page, server: str, token: str | None, code: str | None) -> None:
    """Fill the options form (Playwright page or frame) and submit it."""
    page.locator("input[name=server]").fill(server)
    if token is not None:
        page.locator("input[name=token]").fill(token)
    if code is not None:
        page.locator("input[name=code]").fill(code)
    form = page.locator("form").filter(has=page.locator("input[name=server]"))
    submit = form.locator("button[type=submit], input[type=submit], button:not([type])")
    if form.count() and submit.count():
        submit.first.click()
    else:
        page.locator("button[type=submit], input[type=submit]").first.click()


class ChromiumOverlay(OverlayBase):
    """The overlay of ``page`` reached through CDP, closed shadow roots included.

    ``DOM.getDocument {depth: -1, pierce: true}`` lists every shadow root; the first one holding
    ``[data-strongties-root]`` (or the document itself) wins. If it lives in an out-of-process
    extension iframe instead, that frame's own CDP session is used.
    """

    name = "chromium"
    GROUP = "strongties-tests"

    def __init__(self, page: Page) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self._object_id: str | None = None
        self._session = self.cdp
        self.shadow_root_type: str | None = None  # "closed" / "open" / None (light DOM)

    # -- locating --------------------------------------------------------------------------------
    def _walk(self, node: dict):
        yield node
        for sr in node.get("shadowRoots", []) or []:
            yield from self._walk(sr)
        for child in node.get("children", []) or []:
            yield from self._walk(child)
        if node.get("contentDocument"):
            yield from self._walk(node["contentDocument"])
        if node.get("templateContent"):
            pass  # inert

    def _find(self) -> str:
        if self._object_id is not None:
            try:
                connected = self._session.send(
                    "Runtime.callFunctionOn",
                    {
                        "objectId": self._object_id,
                        "functionDeclaration": "function(){return this.isConnected}",
                        "returnByValue": True,
                    },
                )["result"].get("value")
                if connected:
                    return self._object_id
            except PlaywrightError:
                pass
            self._object_id = None
        try:
            self._session.send("Runtime.releaseObjectGroup", {"objectGroup": self.GROUP})
        except PlaywrightError:
            pass
        self._session = self.cdp
        if self._find_in_page_dom():
            return self._object_id
        # Out-of-process extension iframes (chrome-extension://...) are not in the page's DOM tree.
        for frame in self.page.frames:
            if not frame.url.startswith("chrome-extension://"):
                continue
            try:
                session = self.page.context.new_cdp_session(frame)
            except PlaywrightError:
                continue
            res = session.send(
                "Runtime.evaluate",
                {
                    "expression": "document.querySelector('[data-strongties-root]')",
                    "objectGroup": self.GROUP,
                },
            )["result"]
            if res.get("objectId"):
                self._session = session
                self._object_id = res["objectId"]
                self.shadow_root_type = "extension-frame"
                return self._object_id
        raise OverlayNotFound(f"no [data-strongties-root] in {self.page.url}")

    def _find_in_page_dom(self) -> bool:
        """Look through the page's DOM and its shadow roots; True once the root is resolved.

        The page may replace nodes between DOM.getDocument and the queries that follow (a
        navigation, a site script re-rendering): those node ids then no longer exist, so the
        walk starts over on a fresh snapshot rather than failing.
        """
        for attempt in range(5):
            try:
                doc = self.cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
                for node in self._walk(doc):
                    if node.get("nodeType") not in (9, 11):  # document / shadow root / fragment
                        continue
                    found = self.cdp.send(
                        "DOM.querySelector",
                        {"nodeId": node["nodeId"], "selector": "[data-strongties-root]"},
                    )["nodeId"]
                    if found:
                        obj = self.cdp.send(
                            "DOM.resolveNode", {"nodeId": found, "objectGroup": self.GROUP}
                        )
                        self._object_id = obj["object"]["objectId"]
                        self.shadow_root_type = node.get("shadowRootType")
                        return True
                return False
            except PlaywrightError as exc:
                if "find node" not in str(exc):
                    raise
                if attempt == 4:
                    raise OverlayNotFound(f"the DOM kept changing while searching: {exc}") from exc
                time.sleep(0.05)
        return False

    def _call(self, body: str, *args: Any) -> Any:
        object_id = self._find()
        try:
            res = self._session.send(
                "Runtime.callFunctionOn",
                {
                    "objectId": object_id,
                    "functionDeclaration": f"function(){{ {body} }}",
                    "arguments": [{"value": a} for a in args],
                    "returnByValue": True,
                    "awaitPromise": True,
                },
            )
        except PlaywrightError as exc:
            self._object_id = None
            raise OverlayNotFound(str(exc)) from exc
        if "exceptionDetails" in res:
            raise RuntimeError(f"overlay script failed: {res['exceptionDetails']}")
        return res["result"].get("value")

    def _node_id(self, selector: str | None) -> int:
        """A DOM nodeId for ``selector`` inside the overlay root (or the root itself)."""
        object_id = self._find()
        if self._session is not self.cdp:
            raise OverlayNotFound("node ids are only available for overlays in the page itself")
        if selector:
            res = self.cdp.send(
                "Runtime.callFunctionOn",
                {
                    "objectId": object_id,
                    "functionDeclaration": "function(s){return this.querySelector(s)}",
                    "arguments": [{"value": selector}],
                    "objectGroup": self.GROUP,
                },
            )["result"]
            if not res.get("objectId"):
                raise OverlayNotFound(f"no {selector!r} in the overlay: {self.describe()}")
            object_id = res["objectId"]
        self.cdp.send("DOM.getDocument", {"depth": 0})  # nodes must be known to request one
        return self.cdp.send("DOM.requestNode", {"objectId": object_id})["nodeId"]

    def _center(self, selector: str | None) -> tuple[float, float]:
        node_id = self._node_id(selector)
        try:
            self.cdp.send("DOM.scrollIntoViewIfNeeded", {"nodeId": node_id})
        except PlaywrightError:
            pass
        quads = self.cdp.send("DOM.getContentQuads", {"nodeId": node_id})["quads"]
        if not quads:
            raise OverlayNotFound(f"{selector!r} has no layout box (hidden?): {self.describe()}")
        q = quads[0]
        return (q[0] + q[2] + q[4] + q[6]) / 4, (q[1] + q[3] + q[5] + q[7]) / 4

    # -- actions ---------------------------------------------------------------------------------
    def click(self, action: str, *, trusted: bool = True) -> None:
        """Click ``[data-action=<action>]``: a real mouse click at its centre (``trusted``), or a
        DOM ``click()``."""
        selector = f'[data-action="{action}"]'
        if not trusted or self._session is not self.cdp:
            self.click_selector(selector)
            return
        x, y = self._center(selector)
        # Make sure the click lands on the button, not on something covering it.
        hit = self._call(
            "const el = this.querySelector(arguments[0]);"
            "const root = el.getRootNode();"
            "const at = (root.elementFromPoint ? root : document)"
            ".elementFromPoint(arguments[1], arguments[2]);"
            "return !!at && (at === el || el.contains(at));",
            selector,
            x,
            y,
        )
        if not hit:
            raise AssertionError(f"{selector} is covered at ({x:.0f},{y:.0f}): {self.describe()}")
        self.page.mouse.click(x, y)

    def type_into(self, selector: str, text: str) -> None:
        """Focus an input of the overlay with a real click and type with the keyboard."""
        x, y = self._center(selector)
        self.page.mouse.click(x, y)
        self.page.keyboard.type(text)

    def bounding_box(self, selector: str | None = None) -> dict[str, float] | None:
        box = self._call(
            "const el = arguments[0] ? this.querySelector(arguments[0]) : this;"
            "if (!el) return null; const r = el.getBoundingClientRect();"
            "return {x: r.x, y: r.y, width: r.width, height: r.height};",
            selector,
        )
        return box

    def screenshot(
        self, path: str | Path | None = None, *, full_page: bool = False, label: str = "overlay"
    ) -> Path:
        """PNG of the overlay (its box plus a margin), or of the viewport if it has no box."""
        out = Path(path) if path else screenshot_path(label)
        out.parent.mkdir(parents=True, exist_ok=True)
        clip = None
        if not full_page:
            try:
                if self._session is self.cdp:
                    self.cdp.send("DOM.scrollIntoViewIfNeeded", {"nodeId": self._node_id(None)})
                box = self.bounding_box()
            except (OverlayNotFound, PlaywrightError):
                box = None
            if box and box["width"] > 0 and box["height"] > 0 and self._session is self.cdp:
                vp = self.page.viewport_size or {"width": 1280, "height": 900}
                m = 16
                x = max(box["x"] - m, 0)
                y = max(box["y"] - m, 0)
                clip = {
                    "x": x,
                    "y": y,
                    "width": min(box["width"] + 2 * m, vp["width"] - x),
                    "height": min(box["height"] + 2 * m, vp["height"] - y),
                }
        if clip:
            self.page.screenshot(path=str(out), clip=clip)
        else:
            self.page.screenshot(path=str(out), full_page=full_page)
        return out

    def page_world_search(self, needles: list[str]) -> list[str]:
        """Run the search from the page's main world (what LinkedIn's own scripts could do)."""
        return self.page.evaluate(PAGE_WORLD_SEARCH_JS, needles)


def page_screenshot(page: Page, label: str) -> Path:
    out = screenshot_path(label)
    page.screenshot(path=str(out))
    return out


def data_url_png(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()
