"""The real Strong Ties API in a subprocess, for end-to-end tests.

api = LiveApi(workdir)          # nothing runs yet
api.start()                     # strongties serve on a free port, temp SQLite, waits for health
api.url                         # "http://localhost:<port>" (Firefox needs localhost, not 127.0.0.1)
api.token                       # a device token made with `strongties token create`
api.request("GET", "/api/v1/lookup", params={"linkedin": "alice"})   # -> requests.Response
api.get_json("/api/v1/lookup", linkedin="alice")                     # -> dict, asserts 2xx
api.stop(); api.start()         # down and back on the same port and database
api.close()                     # stop for good

The process itself is tests/live_server.py's ``ServerProcess``; this adds the database, the
token, the CLI on that database and the ledger shortcuts the browser tests use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from live_server import ServerProcess, cli_env, run_cli


class LiveApi(ServerProcess):
    """``strongties serve`` on ``127.0.0.1:<port>``, its own SQLite database under ``workdir``."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        env: dict[str, str] | None = None,
        token_name: str = "browser-tests",
        startup_timeout: float = 30.0,
    ) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.db_path = self.workdir / "strongties.db"
        self.db_url = f"sqlite:///{self.db_path}"
        super().__init__(
            cli_env(self.db_url, **(env or {})),
            self.workdir / "server.log",
            port=port,
            startup_timeout=startup_timeout,
        )
        self.token_name = token_name
        self._token: str | None = None

    # -- addresses -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """``http://localhost:<port>`` (Firefox's background cannot fetch 127.0.0.1); if the
        server is starting, waits until it answers, so whoever is handed the URL can use it."""
        if self.proc is not None and not self._ready:
            self.wait_ready()
        return self.base_url

    @property
    def origin_pattern(self) -> str:
        """The match pattern for this server, e.g. to grant host permissions in Firefox."""
        return "http://localhost/*"

    # -- the CLI ---------------------------------------------------------------------------------
    def cli(self, *args: str, timeout: float = 60.0) -> str:
        """``strongties <args>`` against this server's database (once the server has migrated
        it); asserts exit 0 and returns its stdout."""
        if self.proc is not None and not self._ready:
            self.wait_ready()
        return run_cli(self.env, *args, cwd=self.workdir, timeout=timeout)

    def create_token(self, name: str | None = None) -> str:
        """A new device token (the last stdout line of ``strongties token create NAME``)."""
        out = self.cli("token", "create", name or self.token_name).strip().splitlines()
        assert out and out[-1].strip(), "`strongties token create` printed nothing"
        return out[-1].strip()

    def pairing_code(self) -> str:
        """A fresh one-time pairing code (the last word of ``strongties pair``)."""
        words = self.cli("pair").split()
        assert words, "`strongties pair` printed nothing"
        return words[-1]

    # -- lifecycle -------------------------------------------------------------------------------
    def wait_ready(self, timeout: float | None = None) -> LiveApi:
        """Wait for /api/v1/health (and make the token on first start). ``start(wait=False)``
        lets a browser launch meanwhile; every request and CLI helper calls this first."""
        super().wait_ready(timeout)
        if self._token is None:
            self._token = self.create_token()
        return self

    @property
    def token(self) -> str:
        """The device token (made with ``strongties token create`` once the server is up)."""
        if self._token is None:
            self.wait_ready()
        assert self._token is not None
        return self._token

    # -- HTTP ------------------------------------------------------------------------------------
    def request(
        self, method: str, path: str, json: Any = None, *, token: str | bool | None = True, **kw
    ) -> requests.Response:
        """One HTTP request to the live server; ``token=True`` sends this server's bearer token,
        a string sends that token, ``False``/``None`` sends none; ``kw`` go to requests."""
        bearer = self.token if token is True else (token or None)
        return super().request(method, path, bearer, json=json, **kw)

    def _ok(self, r: requests.Response) -> Any:
        if not r.ok:
            raise AssertionError(f"{r.request.method} {r.url} -> {r.status_code}: {r.text[:500]}")
        return r.json() if r.content else None

    def get_json(self, path: str, **params: Any) -> Any:
        return self._ok(self.request("GET", path, params=params or None))

    def post_json(self, path: str, body: Any) -> Any:
        return self._ok(self.request("POST", path, body))

    # -- ledger shortcuts used by the e2e tests ------------------------------------------------
    def create_contact(
        self,
        name: str,
        linkedin: str | None = None,
        email: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        identities = []
        if linkedin:
            identities.append({"kind": "linkedin", "value": linkedin})
        if email:
            identities.append({"kind": "email", "value": email})
        return self.post_json("/api/v1/contacts", {"name": name, "identities": identities, **extra})

    def log_interaction(self, contact_id: Any, kind: str = "meeting", **fields: Any) -> Any:
        return self.post_json(
            "/api/v1/interactions", {"contact_id": contact_id, "kind": kind, **fields}
        )

    def lookup(self, linkedin: str | None = None, email: str | None = None) -> dict[str, Any]:
        params = {"linkedin": linkedin} if linkedin else {"email": email}
        return self.get_json("/api/v1/lookup", **params)

    def interactions(self, contact_id: Any) -> list[dict[str, Any]]:
        return self.get_json(f"/api/v1/contacts/{contact_id}/interactions")["interactions"]

    def contacts(self, **params: Any) -> list[dict[str, Any]]:
        params.setdefault("page_size", 200)
        return self.get_json("/api/v1/contacts", **params)["contacts"]
