"""Firefox ESR with the extension, driven through Marionette (Mozilla's own Python client).

    fx = FirefoxExtension(profile_dir, executable="/usr/bin/firefox-esr")
    fx.start()                          # headless firefox, marionette session, addon installed
    fx.grant_host_permissions(["http://localhost/*"])   # what a user grants in the prompt
    fx.configure(server=api.url, token=api.token)       # through the options page UI
    fx.navigate("https://www.linkedin.com/in/alice/")   # served by SiteServer on :443
    ov = fx.overlay(); ov.wait_for_state("known"); ov.field("score"); ov.click("log")
    fx.restart(); fx.quit()

The profile's user.js pins the extension's internal UUID (so moz-extension://<uuid>/ is known),
resolves the site hosts to 127.0.0.1, lets unsigned add-ons in and keeps Firefox off the network.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import warnings
import zipfile
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # mozinfo (imported by marionette_driver) calls the deprecated distro.linux_distribution()
    # at import time; the project's pytest config turns warnings into errors.
    warnings.simplefilter("ignore", DeprecationWarning)
    from marionette_driver import errors as mn_errors
    from marionette_driver.addons import Addons
    from marionette_driver.marionette import Marionette

from .net import StopWaiting, wait_until
from .overlay import PAGE_WORLD_SEARCH_JS, OverlayBase, OverlayNotFound
from .paths import EXTENSION_DIR, screenshot_path
from .sites import SITE_HOSTS, SiteRoutes

EXTENSION_UUID = "5d1b7e5e-57a0-4a3e-9c1f-5713e7a1e500"

# Prefs that keep Firefox quiet and off the network (no updates, telemetry, safe browsing,
# remote settings, captive portal or connectivity probes, prefetching, first-run pages).
QUIET_PREFS: dict[str, Any] = {
    "app.normandy.enabled": False,
    "app.normandy.api_url": "",
    "app.shield.optoutstudies.enabled": False,
    "app.update.auto": False,
    "app.update.checkInstallTime": False,
    "app.update.disabledForTesting": True,
    "app.update.enabled": False,
    "browser.aboutwelcome.enabled": False,
    "browser.discovery.enabled": False,
    "browser.newtabpage.activity-stream.feeds.section.topstories": False,
    "browser.newtabpage.activity-stream.feeds.snippets": False,
    "browser.newtabpage.activity-stream.feeds.telemetry": False,
    "browser.newtabpage.activity-stream.telemetry": False,
    "browser.newtabpage.enabled": False,
    "browser.ping-centre.telemetry": False,
    "browser.region.network.url": "",
    "browser.region.update.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.downloads.remote.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.provider.google.updateURL": "",
    "browser.safebrowsing.provider.google4.updateURL": "",
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "browser.search.geoip.url": "",
    "browser.search.update": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage": "about:blank",
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "browser.tabs.warnOnClose": False,
    "browser.topsites.contile.enabled": False,
    "browser.urlbar.suggest.quicksuggest.sponsored": False,
    "browser.urlbar.quicksuggest.enabled": False,
    "captivedetect.canonicalURL": "",
    "datareporting.healthreport.uploadEnabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.policy.firstRunURL": "",
    "dom.push.connection.enabled": False,
    "dom.push.serverURL": "",
    "extensions.blocklist.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.getAddons.discovery.api_url": "",
    "extensions.systemAddon.update.enabled": False,
    "extensions.systemAddon.update.url": "",
    "extensions.update.autoUpdateDefault": False,
    "extensions.update.enabled": False,
    "extensions.webservice.discoverURL": "",
    "geo.provider.network.url": "",
    "identity.fxaccounts.enabled": False,
    "media.gmp-gmpopenh264.enabled": False,
    "media.gmp-manager.url": "",
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.http.speculative-parallel-limit": 0,
    "network.prefetch-next": False,
    "network.trr.mode": 5,
    "security.OCSP.enabled": 0,
    "security.remote_settings.crlite_filters.enabled": False,
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    "startup.homepage_welcome_url": "about:blank",
    "startup.homepage_welcome_url.additional": "",
    "toolkit.telemetry.archive.enabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "toolkit.telemetry.server": "",
    "toolkit.telemetry.unified": False,
}


def extension_gecko_id(extension_dir: Path = EXTENSION_DIR) -> str:
    manifest = json.loads((Path(extension_dir) / "manifest.json").read_text())
    try:
        return manifest["browser_specific_settings"]["gecko"]["id"]
    except KeyError:
        raise AssertionError(
            f"{extension_dir}/manifest.json has no browser_specific_settings.gecko.id; "
            "Firefox needs it to install the extension"
        ) from None


# A server's host name outside the extension's host permissions (resolved to 127.0.0.1 like the
# site hosts): the background's requests to it are CORS requests, as to any server whose
# permission the person has not granted.
UNGRANTED_HOST = "ledger.strongties.test"


def profile_prefs(
    gecko_id: str, uuid: str = EXTENSION_UUID, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    prefs = dict(QUIET_PREFS)
    prefs.update(
        {
            # Port 0: Firefox picks a free port and writes it to <profile>/MarionetteActivePort.
            "marionette.port": 0,
            "extensions.webextensions.uuids": json.dumps({gecko_id: uuid}),
            # Keep storage and UUID when the temporary add-on goes away at shutdown (restart tests).
            "extensions.webextensions.keepStorageOnUninstall": True,
            "extensions.webextensions.keepUuidOnUninstall": True,
            "network.dns.localDomains": ",".join((*SITE_HOSTS, UNGRANTED_HOST)),
            "xpinstall.signatures.required": False,
            "extensions.autoDisableScopes": 0,
            "extensions.enabledScopes": 5,
            "devtools.console.stdout.content": True,  # page/extension console -> firefox.log
        }
    )
    prefs.update(extra or {})
    return prefs


def write_user_js(profile: Path, prefs: dict[str, Any]) -> None:
    lines = [f"user_pref({json.dumps(k)}, {json.dumps(v)});" for k, v in prefs.items()]
    (profile / "user.js").write_text("\n".join(lines) + "\n")


def build_xpi(extension_dir: Path, out: Path) -> Path:
    """Zip the unpacked extension into an .xpi (for a permanent, unsigned install on ESR)."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(Path(extension_dir).rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(extension_dir).as_posix())
    return out


# Locates the overlay root from a system-privileged sandbox; closed shadow roots included.
_FIND_ROOT_JS = """
const __find = (root) => {
  const direct = root.querySelector('[data-strongties-root]');
  if (direct) return direct;
  for (const el of root.querySelectorAll('*')) {
    const sr = el.openOrClosedShadowRoot;
    if (sr) { const f = __find(sr); if (f) return f; }
  }
  return null;
};
const __root = __find(document);
"""


class FirefoxExtension:
    """A headless firefox-esr with the extension installed, controlled through Marionette."""

    def __init__(
        self,
        profile_dir: Path,
        *,
        executable: str = "/usr/bin/firefox-esr",
        extension_dir: Path = EXTENSION_DIR,
        headless: bool = True,
        extra_prefs: dict[str, Any] | None = None,
        permanent: bool = False,
        routes: SiteRoutes | None = None,
    ) -> None:
        self.routes = routes or SiteRoutes()
        self.profile_dir = Path(profile_dir)
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self.executable = executable
        self.extension_dir = Path(extension_dir)
        self.headless = headless
        self.extra_prefs = extra_prefs or {}
        self.permanent = permanent
        self.gecko_id = extension_gecko_id(self.extension_dir)
        self.uuid = EXTENSION_UUID
        self.log_path = self.profile_dir.parent / f"{self.profile_dir.name}-firefox.log"
        self.m: Marionette | None = None
        self.addon_id: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = None
        self._installed_permanent = False
        self._granted: list[str] = []  # re-granted after a restart

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> FirefoxExtension:
        write_user_js(self.profile_dir, profile_prefs(self.gecko_id, self.uuid, self.extra_prefs))
        port_file = self.profile_dir / "MarionetteActivePort"
        port_file.unlink(missing_ok=True)
        args = [self.executable, "--marionette", "--remote-allow-system-access", "-no-remote"]
        if self.headless:
            args.append("--headless")
        args += ["-profile", str(self.profile_dir)]
        env = dict(os.environ, MOZ_CRASHREPORTER_DISABLE="1", MOZ_CRASHREPORTER_SHUTDOWN="1")
        env.setdefault("MOZ_HEADLESS_WIDTH", "1280")
        env.setdefault("MOZ_HEADLESS_HEIGHT", "900")
        self._log = open(self.log_path, "ab")  # closed in quit()
        self._proc = subprocess.Popen(
            args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
        )

        def port() -> int | None:
            if self._proc.poll() is not None:
                raise StopWaiting(f"firefox exited with {self._proc.returncode}\n{self.log_tail()}")
            text = port_file.read_text().strip() if port_file.exists() else ""
            return int(text) if text.isdigit() else None

        try:
            mport = wait_until(port, timeout=timeout, message="Marionette never wrote its port")
            self.m = Marionette(host="127.0.0.1", port=mport, startup_timeout=int(timeout))
            self.m.start_session({"acceptInsecureCerts": True}, timeout=timeout)
            self.m.timeout.page_load = 30
            self.m.timeout.script = 30
            self._install()
            if self._granted:
                self.grant_host_permissions(self._granted)
        except BaseException:
            self.quit()
            raise
        return self

    def _install(self) -> None:
        assert self.m is not None
        addons = Addons(self.m)
        if self.permanent:
            if not self._installed_permanent:
                xpi = build_xpi(self.extension_dir, self.profile_dir.parent / "strongties-test.xpi")
                self.addon_id = addons.install(str(xpi), temp=False)
                self._installed_permanent = True
            else:
                self.addon_id = self.gecko_id  # still installed in the profile
        else:
            self.addon_id = addons.install(str(self.extension_dir), temp=True)
        self.wait_for_background()

    def wait_for_background(self, timeout: float = 15.0) -> None:
        """Wait until the extension is running (its policy exists and its background started)."""
        js = """
        const [id, resolve] = arguments;
        const policy = WebExtensionPolicy.getByID(id);
        if (!policy || !policy.extension) { resolve(false); return; }
        const ext = policy.extension;
        Promise.race([
          ext.promiseBackgroundStarted
            ? ext.promiseBackgroundStarted().then(() => true)
            : Promise.resolve(true),
          new Promise(r => setTimeout(() => r(false), 2000)),
        ]).then(resolve, () => resolve(false));
        """
        wait_until(
            lambda: self.chrome_async(js, self.gecko_id),
            timeout=timeout,
            message=f"extension {self.gecko_id} never started\n{self.log_tail()}",
        )

    def quit(self, timeout: float = 20.0) -> None:
        """Shut Firefox down cleanly (Marionette:Quit), killing it if it hangs."""
        m, self.m = self.m, None
        if m is not None:
            try:
                m._send_message("Marionette:AcceptConnections", {"value": False})
                m._send_message("Marionette:Quit", {})
            except (OSError, mn_errors.MarionetteException):
                pass
            try:
                m.delete_session(send_request=False)
            except (OSError, mn_errors.MarionetteException):
                pass
            m.cleanup_ran = True
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> FirefoxExtension:
        """Quit and start again on the same profile (the temporary add-on is reinstalled; storage
        and UUID are kept by prefs; ``permanent=True`` keeps the installed add-on itself)."""
        self.quit()
        return self.start()

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no firefox log)"
        return "firefox log (tail):\n" + "\n".join(text.splitlines()[-lines:])

    # -- privileged helpers ----------------------------------------------------------------------
    def chrome_async(self, js: str, *args: Any) -> Any:
        """Run an async script in the browser's chrome (system) context; call the last argument
        (resolve) with the result."""
        assert self.m is not None
        with self.m.using_context("chrome"):
            return self.m.execute_async_script(js, script_args=list(args))

    def grant_host_permissions(self, origins: list[str]) -> list[str]:
        """Grant host permissions (e.g. ``http://localhost/*``) as the user would in Firefox's
        prompt; returns the origins the extension now holds."""
        js = """
        const [id, origins, resolve] = arguments;
        (async () => {
          const { ExtensionPermissions } = ChromeUtils.importESModule(
            "resource://gre/modules/ExtensionPermissions.sys.mjs");
          const policy = WebExtensionPolicy.getByID(id);
          const ext = policy && policy.extension;
          await ExtensionPermissions.add(id, {permissions: [], origins}, ext);
          const now = await ExtensionPermissions.get(id);
          resolve({ok: true, origins: now.origins});
        })().catch(e => resolve({ok: false, error: String(e)}));
        """
        res = self.chrome_async(js, self.gecko_id, list(origins))
        if not res.get("ok"):
            raise AssertionError(f"granting {origins} failed: {res.get('error')}")
        self._granted = sorted(set(self._granted) | set(origins))
        return res["origins"]

    def host_permissions(self) -> list[str]:
        js = """
        const [id, resolve] = arguments;
        const { ExtensionPermissions } = ChromeUtils.importESModule(
          "resource://gre/modules/ExtensionPermissions.sys.mjs");
        ExtensionPermissions.get(id).then(p => resolve(p.origins), e => resolve(['ERR ' + e]));
        """
        return self.chrome_async(js, self.gecko_id)

    # -- pages -----------------------------------------------------------------------------------
    def serve_site(self, url_glob: str, fixture: str | Path | None = None, **kw: Any) -> None:
        """Answer site URLs matching ``url_glob`` with a fixture (see ``SiteRoutes.serve``); the
        HTTPS site server on :443 reads these routes."""
        self.routes.serve(url_glob, fixture, **kw)

    def navigate(self, url: str) -> None:
        assert self.m is not None
        self.m.navigate(url)

    def reload(self) -> None:
        assert self.m is not None
        self.m.refresh()

    def back(self) -> None:
        assert self.m is not None
        self.m.go_back()

    def click(self, css: str) -> None:
        """A WebDriver click on the first page element matching ``css`` (a real user click)."""
        assert self.m is not None
        self.m.find_element("css selector", css).click()

    @property
    def url(self) -> str:
        assert self.m is not None
        return self.m.get_url()

    def extension_url(self, path: str) -> str:
        return f"moz-extension://{self.uuid}/{path.lstrip('/')}"

    def open_options(self) -> None:
        self.navigate(self.extension_url("options/options.html"))
        wait_until(
            lambda: self.js("return !!document.querySelector('input[name=server]');"),
            timeout=10,
            message="options page has no input[name=server]",
        )

    def js(self, script: str, *args: Any, sandbox: str | None = "default") -> Any:
        """Run ``script`` in the current page (``sandbox="system"`` for privileged access,
        ``None`` for the page's own main world)."""
        assert self.m is not None
        return self.m.execute_script(
            script, script_args=list(args), sandbox=sandbox, new_sandbox=False
        )

    def page_world(self, script: str, *args: Any) -> Any:
        """Evaluate ``script`` (a function body) in the page's main world, where the site's own
        scripts run, via an injected <script> element; returns its JSON-serialisable result."""
        wrapper = """
        const [src, args] = arguments;
        const id = 'st-probe-' + Math.random().toString(36).slice(2);
        const s = document.createElement('script');
        s.textContent = `(() => { document.currentScript.remove(); let r;
          try { r = {ok: true, v: (function(){ ${src} }).apply(null, ${JSON.stringify(args)}) }; }
          catch (e) { r = {ok: false, v: String(e)}; }
          document.documentElement.setAttribute('${id}', JSON.stringify(r)); })();`;
        document.documentElement.appendChild(s);
        s.remove();
        const out = document.documentElement.getAttribute(id);
        document.documentElement.removeAttribute(id);
        return out;
        """
        raw = self.js(wrapper, script, list(args), sandbox="system")
        if raw is None:
            raise AssertionError(
                "the page-world probe did not run (page CSP blocks inline scripts?)"
            )
        res = json.loads(raw)
        if not res["ok"]:
            raise RuntimeError(f"page-world script failed: {res['v']}")
        return res["v"]

    def fill_options(self, server: str, token: str | None = None, code: str | None = None) -> None:
        js = """
        const [server, token, code] = arguments;
        const set = (name, value) => {
          const el = document.querySelector(`input[name=${name}]`);
          if (!el || value === null) return;
          el.focus(); el.value = value;
          el.dispatchEvent(new Event('input', {bubbles: true}));
          el.dispatchEvent(new Event('change', {bubbles: true}));
        };
        set('server', server); set('token', token); set('code', code);
        """
        self.js(js, server, token, code)
        assert self.m is not None
        form_submit = (
            "form:has(input[name=server]) button[type=submit], "
            "form:has(input[name=server]) input[type=submit], "
            "form:has(input[name=server]) button:not([type])"
        )
        try:
            btn = self.m.find_element("css selector", form_submit)
        except mn_errors.NoSuchElementException:
            btn = self.m.find_element("css selector", "button[type=submit], input[type=submit]")
        btn.click()

    def options_status(self) -> str:
        return self.js(
            "const el = document.querySelector('[data-status]');"
            "if (!el) return '';"
            "const a = el.getAttribute('data-status');"
            "return (a === 'connected') ? a : el.textContent.trim();"
        )

    def configure(
        self, server: str, token: str | None = None, code: str | None = None, timeout: float = 15.0
    ) -> None:
        """Connect the extension through its options page; wait for ``[data-status]`` connected."""
        self.open_options()
        self.fill_options(server, token, code)
        wait_until(
            lambda: self.options_status().lower() == "connected",
            timeout=timeout,
            message=lambda: f"options page status is {self.options_status()!r}, not 'connected'",
        )

    def overlay(self) -> FirefoxOverlay:
        return FirefoxOverlay(self)

    def screenshot(self, target: str | Path, full: bool = False) -> Path:
        """PNG of the current tab: ``target`` is a Path, or a label for test-output/screenshots/."""
        assert self.m is not None
        out = target if isinstance(target, Path) else screenshot_path(target)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(self.m.screenshot(full=full)))
        return out


class FirefoxOverlay(OverlayBase):
    """The overlay of the current Firefox tab, through a system sandbox and
    ``element.openOrClosedShadowRoot``."""

    name = "firefox"

    def __init__(self, fx: FirefoxExtension) -> None:
        self.fx = fx

    def _call(self, body: str, *args: Any) -> Any:
        script = (
            _FIND_ROOT_JS
            + "if (!__root) return {__strongties_not_found: true};\n"
            + f"return {{__value: (function(){{ {body} }}).apply(__root, arguments)}};"
        )
        res = self.fx.js(script, *args, sandbox="system")
        if isinstance(res, dict) and res.get("__strongties_not_found"):
            raise OverlayNotFound(f"no [data-strongties-root] in {self.fx.url}")
        return res["__value"] if isinstance(res, dict) else None

    def _rect(self, selector: str | None) -> dict[str, float]:
        rect = self._call(
            "const el = arguments[0] ? this.querySelector(arguments[0]) : this;"
            "if (!el) return null;"
            "el.scrollIntoView({block: 'center', inline: 'center'});"
            "const r = el.getBoundingClientRect();"
            "return {x: r.x, y: r.y, width: r.width, height: r.height};",
            selector,
        )
        if not rect:
            raise OverlayNotFound(f"no {selector!r} in the overlay: {self.describe()}")
        return rect

    def click(self, action: str, *, trusted: bool = True) -> None:
        """Click ``[data-action=<action>]``: a WebDriver element click (scrolls it into view,
        refuses if it is covered, dispatches trusted events), or a DOM ``click()``."""
        selector = f'[data-action="{action}"]'
        if not trusted:
            self.click_selector(selector)
            return
        try:
            self.element(selector).click()
        except mn_errors.MarionetteException as exc:
            raise AssertionError(f"clicking {selector} failed: {exc}; {self.describe()}") from exc

    def element(self, selector: str | None = None):
        """A Marionette WebElement for ``selector`` inside the overlay (or its root); WebDriver
        commands such as ``click()`` and element screenshots work on it despite the closed root."""
        el = self.fx.js(
            _FIND_ROOT_JS
            + "if (!__root) return null;"
            + "return arguments[0] ? __root.querySelector(arguments[0]) : __root;",
            selector,
            sandbox="system",
        )
        if el is None:
            raise OverlayNotFound(f"no {selector or '[data-strongties-root]'!r} in {self.fx.url}")
        return el

    def screenshot(
        self, path: str | Path | None = None, *, full_page: bool = False, label: str = "overlay"
    ) -> Path:
        """PNG of the overlay element, or of the viewport (``full_page``: the whole page)."""
        out = Path(path) if path else screenshot_path(label)
        out.parent.mkdir(parents=True, exist_ok=True)
        m = self.fx.m
        assert m is not None
        png = None
        if not full_page:
            try:
                r = self._rect(None)
                if r["width"] > 0 and r["height"] > 0:
                    png = base64.b64decode(m.screenshot(element=self.element()))
            except (OverlayNotFound, mn_errors.MarionetteException):
                png = None
        if png is None:
            png = base64.b64decode(m.screenshot(full=full_page))
        out.write_bytes(png)
        return out

    def page_world_search(self, needles: list[str]) -> list[str]:
        return self.fx.page_world(
            f"return ({PAGE_WORLD_SEARCH_JS})(Array.from(arguments));", *needles
        )
