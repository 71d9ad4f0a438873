"""Serving saved site fixtures at the real site URLs.

Both browsers share one routing table (:class:`SiteRoutes`): ``serve(url_glob, fixture)`` maps
every URL matching the glob to one fixture file (or inline HTML). Globs follow Playwright's
rules: ``**`` matches anything, ``*`` anything but ``/``; the most recently added match wins.

- Chromium: ``ctx.route`` on each site origin answers from the table (no TLS involved).
- Firefox: :class:`SiteServer` is an in-process HTTPS server on 127.0.0.1:443 with a trustme
  certificate for the site hosts; the profile pref ``network.dns.localDomains`` sends the hosts
  there and Marionette's ``acceptInsecureCerts`` accepts the certificate.
"""

from __future__ import annotations

import mimetypes
import re
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .paths import SITE_FIXTURES_DIR

SITE_HOSTS = (
    "www.linkedin.com",
    "de.linkedin.com",
    "mail.google.com",
    "outlook.office.com",
    "outlook.live.com",
    "outlook.office365.com",
    "outlook.cloud.microsoft",
)
SITE_ORIGINS = tuple(f"https://{h}" for h in SITE_HOSTS)

NOT_FOUND_HTML = "<!doctype html><title>404</title><h1>no fixture routed for this URL</h1>"


def fixture_path(name: str | Path) -> Path:
    """Resolve a fixture under tests/fixtures/sites/: exact, ``+.html``, or ``<dir>/index.html``."""
    p = Path(name)
    candidates = [p] if p.is_absolute() else []
    base = SITE_FIXTURES_DIR / p
    candidates += [base, base.with_name(base.name + ".html"), base / "index.html"]
    for c in candidates:
        if c.is_file():
            return c
    available = (
        sorted(
            str(f.relative_to(SITE_FIXTURES_DIR))
            for f in SITE_FIXTURES_DIR.rglob("*")
            if f.is_file()
        )
        if SITE_FIXTURES_DIR.is_dir()
        else []
    )
    raise FileNotFoundError(
        f"site fixture {str(name)!r} not found under {SITE_FIXTURES_DIR}; available: {available}"
    )


def glob_to_regex(glob: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


@dataclass
class Response:
    status: int
    content_type: str
    body: bytes
    source: str  # fixture path or "inline", for error messages


class SiteRoutes:
    """URL glob -> fixture content. Thread-safe; read at request time, so changes apply at once."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Response]] = []
        self._lock = threading.Lock()
        self.requests: list[str] = []  # every URL asked for, in order (for debugging)

    def serve(
        self,
        url_glob: str,
        fixture: str | Path | None = None,
        *,
        html: str | bytes | None = None,
        status: int = 200,
        content_type: str | None = None,
    ) -> None:
        """Answer URLs matching ``url_glob`` with the fixture file (or ``html``)."""
        if (fixture is None) == (html is None):
            raise ValueError("give exactly one of fixture or html")
        if html is not None:
            body = html.encode() if isinstance(html, str) else html
            ctype = content_type or "text/html; charset=utf-8"
            source = "inline"
        else:
            path = fixture_path(fixture)
            body = path.read_bytes()
            guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if guessed.startswith("text/"):
                guessed += "; charset=utf-8"
            ctype = content_type or guessed
            source = str(path)
        with self._lock:
            self._routes.append(
                (url_glob, glob_to_regex(url_glob), Response(status, ctype, body, source))
            )

    def clear(self) -> None:
        with self._lock:
            self._routes.clear()

    def resolve(self, url: str) -> Response:
        """The response for ``url`` (query and fragment are ignored only if the glob has none)."""
        self.requests.append(url)
        bare = url.split("#", 1)[0]
        no_query = bare.split("?", 1)[0]
        with self._lock:
            routes = list(reversed(self._routes))
        for _glob, rx, resp in routes:
            if rx.match(bare) or rx.match(no_query):
                return resp
        return Response(404, "text/html; charset=utf-8", NOT_FOUND_HTML.encode(), "404")


class _Handler(BaseHTTPRequestHandler):
    server: _SiteHTTPServer
    protocol_version = "HTTP/1.1"

    def _answer(self, head_only: bool = False) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        resp = self.server.routes.resolve(f"https://{host}{self.path}")
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head_only:
            self.wfile.write(resp.body)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._answer()

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(head_only=True)

    def do_POST(self) -> None:  # noqa: N802 - sites' own beacons etc.: swallow
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    routes: SiteRoutes

    def handle_error(self, request, client_address):  # TLS resets etc. are noise here
        pass


class SiteServer:
    """HTTPS server on ``host:port`` (default 127.0.0.1:443) answering from a :class:`SiteRoutes`.

    Binding 443 needs root (the tests run as root, as does CI). ``ca_pem`` is the trustme CA, if a
    browser should be told to trust it instead of accepting insecure certificates.
    """

    def __init__(self, routes: SiteRoutes | None = None, host: str = "127.0.0.1", port: int = 443):
        import trustme

        self.routes = routes or SiteRoutes()
        self.ca = trustme.CA()
        self.cert = self.ca.issue_cert(*SITE_HOSTS, "localhost", "127.0.0.1")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.cert.configure_cert(ctx)
        self._httpd = _SiteHTTPServer((host, port), _Handler)
        self._httpd.routes = self.routes
        # Handshake lazily in the handler thread, so one slow client cannot stall accept().
        self._httpd.socket = ctx.wrap_socket(
            self._httpd.socket, server_side=True, do_handshake_on_connect=False
        )
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True, name="sites")
        self._thread.start()

    @property
    def ca_pem(self) -> bytes:
        return self.ca.cert_pem.bytes()

    def serve(self, url_glob: str, fixture: str | Path | None = None, **kw) -> None:
        self.routes.serve(url_glob, fixture, **kw)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(5)
