"""The real Strong Ties API in a subprocess, for end-to-end tests.

api = LiveApi(workdir)          # nothing runs yet
api.start()                     # strongties serve on a free port, temp SQLite, waits for health
api.url                         # "http://localhost:<port>" (Firefox needs localhost, not 127.0.0.1)
api.token                       # a device token made with `strongties token create`
api.request("GET", "/api/v1/lookup", params={"linkedin": "alice"})   # -> requests.Response
api.get_json("/api/v1/lookup", linkedin="alice")                     # -> dict, asserts 2xx
api.stop(); api.start()         # down and back on the same port and database
api.close()                     # stop for good
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import requests

from .net import StopWaiting, free_port, wait_until
from .paths import strongties_cli


class LiveApiError(RuntimeError):
    pass


class LiveApi:
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
        self.port = port or free_port()
        self.db_path = self.workdir / "strongties.db"
        self.db_url = f"sqlite:///{self.db_path}"
        self.log_path = self.workdir / "server.log"
        self.extra_env = dict(env or {})
        self.token_name = token_name
        self.startup_timeout = startup_timeout
        self._token: str | None = None
        self._ready = False
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = None
        self._session = requests.Session()
        self._session.trust_env = False  # never go through a proxy to loopback

    # -- addresses -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://localhost:<port>`` without waiting for the server."""
        return f"http://localhost:{self.port}"

    @property
    def url(self) -> str:
        """``http://localhost:<port>`` (Firefox's background cannot fetch 127.0.0.1); if the
        server is starting, waits until it answers, so whoever is handed the URL can use it."""
        if self._proc is not None and not self._ready:
            self.wait_ready()
        return self.base_url

    @property
    def origin_pattern(self) -> str:
        """The match pattern for this server, e.g. to grant host permissions in Firefox."""
        return "http://localhost/*"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- the CLI ---------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "STRONGTIES_DATABASE_URL": self.db_url,
                "PYTHONUNBUFFERED": "1",
                "NO_PROXY": "*",
            }
        )
        env.update(self.extra_env)
        return env

    def cli(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run ``strongties <args>`` against this server's database; raise on a non-zero exit."""
        if self._proc is not None and not self._ready:
            self.wait_ready()  # the server migrates the database first
        exe = strongties_cli()
        if exe is None:
            raise LiveApiError("the `strongties` console script is missing: run `pip install -e .`")
        result = subprocess.run(
            [exe, *args],
            env=self.env(),
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if result.returncode != 0:
            raise LiveApiError(
                f"`strongties {' '.join(args)}` exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def create_token(self, name: str | None = None) -> str:
        """A new device token (the last stdout line of ``strongties token create NAME``)."""
        out = self.cli("token", "create", name or self.token_name).stdout.strip().splitlines()
        if not out or not out[-1].strip():
            raise LiveApiError("`strongties token create` printed nothing")
        return out[-1].strip()

    def pairing_code(self) -> str:
        """A fresh one-time pairing code (the last word of ``strongties pair``)."""
        words = self.cli("pair").stdout.split()
        if not words:
            raise LiveApiError("`strongties pair` printed nothing")
        return words[-1]

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self, wait: bool = True) -> LiveApi:
        """Start (or restart) the server on the same port and database; with ``wait``, wait for
        /api/v1/health (see ``wait_ready``)."""
        if self.running:
            return self.wait_ready() if wait else self
        exe = strongties_cli()
        if exe is None:
            raise LiveApiError("the `strongties` console script is missing: run `pip install -e .`")
        self._log = open(self.log_path, "ab")  # closed in stop()
        self._log.write(f"\n=== start {time.strftime('%H:%M:%S')} port {self.port}\n".encode())
        self._log.flush()
        self._proc = subprocess.Popen(
            [exe, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env(),
            cwd=self.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so stop() gets any children too
        )
        self._ready = False
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self) -> LiveApi:
        """Wait for /api/v1/health (and make the token on first start). ``start(wait=False)``
        lets a browser launch meanwhile; every request and CLI helper calls this first."""
        if self._ready:
            return self
        if self._proc is None:
            raise LiveApiError("the server is stopped: call start()")
        try:
            wait_until(
                self._healthy,
                timeout=self.startup_timeout,
                interval=0.1,
                message=lambda: f"{self.base_url}/api/v1/health never answered\n{self.log_tail()}",
            )
        except (AssertionError, StopWaiting) as exc:
            self.stop()
            raise LiveApiError(str(exc)) from None
        self._ready = True
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

    def _healthy(self) -> bool:
        if self._proc is not None and self._proc.poll() is not None:
            raise StopWaiting(f"server exited with {self._proc.returncode}\n{self.log_tail()}")
        try:
            r = self._session.get(f"{self.base_url}/api/v1/health", timeout=1)
        except requests.RequestException:
            return False
        return r.status_code == 200

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL); the port and the database stay reserved."""
        self._ready = False
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    proc.wait(timeout)
            else:
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        # Wait until nobody answers any more, so a test that stops the server really sees it down.
        wait_until(lambda: not self._answers(), timeout=timeout, message="server still answering")

    def _answers(self) -> bool:
        try:
            self._session.get(f"{self.base_url}/api/v1/health", timeout=0.5)
        except requests.RequestException:
            return False
        return True

    def close(self) -> None:
        self.stop()
        self._session.close()

    def __enter__(self) -> LiveApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "server log (tail):\n" + "\n".join(text.splitlines()[-lines:])

    # -- HTTP ------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        params: dict[str, Any] | None = None,
        token: str | None | bool = True,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
    ) -> requests.Response:
        """One HTTP request to the live server; ``token=True`` sends this server's bearer token,
        a string sends that token, ``False``/``None`` sends none."""
        if self._proc is not None:
            self.wait_ready()
        hdrs = dict(headers or {})
        bearer = self.token if token is True else (token or None)
        if bearer:
            hdrs["Authorization"] = f"Bearer {bearer}"
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        return self._session.request(
            method, url, json=json, params=params, headers=hdrs, timeout=timeout
        )

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
