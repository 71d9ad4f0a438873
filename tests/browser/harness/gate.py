"""A reverse proxy in front of the live API, as a company's gateway or single sign-on proxy would
be: it passes requests through to the API, answers them itself (a 401 asking for credentials of
its own), or passes them on without their Authorization header (a misconfigured proxy). Like
nginx's proxy_pass, it sends the upstream's own Host header, so any name may reach it.

gate = Gate(api.url)                    # listens on a free port of 127.0.0.1
gate.url                                # http://localhost:<port>: the extension's server
gate.url_at("ledger.strongties.test")   # the same under another name that resolves to it
gate.refuse(401, {"WWW-Authenticate": 'Basic realm="Corporate"'})
gate.strip_authorization()
gate.pass_through()
gate.answered                           # [(method, path, status, by "gate" | "api"), ...]
gate.refused()                          # how many the gate answered itself
gate.origins                            # the Origin headers seen (CORS requests)
gate.close()
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# Hop-by-hop headers (RFC 9110 7.6.1), which a proxy does not pass on.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}


class Gate:
    def __init__(self, upstream: str) -> None:
        target = urlsplit(upstream)
        self.upstream = (target.hostname or "localhost", target.port or 80)
        self.mode = "pass"
        self.refusal: tuple[int, dict[str, str]] = (401, {})
        self.answered: list[tuple[str, str, int, str]] = []
        self.origins: set[str] = set()
        self._lock = threading.Lock()
        gate = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if self.headers.get("Origin"):
                    gate.origins.add(self.headers["Origin"])
                if gate.mode == "refuse":
                    status, headers = gate.refusal
                    page = b"<h1>Sign in to continue</h1>"
                    self.send_response(status)
                    for name, value in {**headers, "Content-Type": "text/html"}.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    gate._note(self.command, self.path, status, "gate")
                    return
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in HOP_BY_HOP
                    and k.lower() != "host"
                    and not (gate.mode == "strip" and k.lower() == "authorization")
                }
                headers["Host"] = "{}:{}".format(*gate.upstream)
                conn = http.client.HTTPConnection(*gate.upstream, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    answer = conn.getresponse()
                    data = answer.read()
                    self.send_response(answer.status)
                    for name, value in answer.getheaders():
                        if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                            self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    gate._note(self.command, self.path, answer.status, "api")
                finally:
                    conn.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_any

            def log_message(self, *args) -> None:  # quiet: the tests read `answered`
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return self.url_at("localhost")

    def url_at(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    def _note(self, method: str, path: str, status: int, by: str) -> None:
        with self._lock:
            self.answered.append((method, path, status, by))

    def refused(self) -> int:
        """How many requests the gate has answered itself."""
        with self._lock:
            return sum(1 for *_, by in self.answered if by == "gate")

    def refuse(self, status: int = 401, headers: dict[str, str] | None = None) -> None:
        self.refusal = (status, dict(headers or {}))
        self.mode = "refuse"

    def strip_authorization(self) -> None:
        self.mode = "strip"

    def pass_through(self) -> None:
        self.mode = "pass"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
