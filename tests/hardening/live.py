"""The real server in a subprocess, killable at any moment, and what the live tests share.

``LiveServer(database_url, workdir).start()`` runs ``strongties serve`` on a free loopback port;
``.kill()`` sends SIGKILL to its process group, ``.start()`` again restarts it on the same database
(on a fresh port). Tokens and pairing codes are made in-process in the same database
(``token_for``, ``pairing_code``), so no CLI round trip is needed.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from api import auth, create_app
from api.models import db

# A pairing code as /connect and `strongties pair` show it.
CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
# Ledger data no attacker may see.
SECRET = {"name": "Secret Person", "email": "secret@example.com", "notes": "SECRET-NOTE-7731"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def strongties_cli() -> str:
    beside = Path(sys.executable).with_name("strongties")
    found = str(beside) if beside.exists() else shutil.which("strongties")
    if not found:
        pytest.fail("the `strongties` console script is missing: run `pip install -e .`")
    return found


class LiveServer:
    """``strongties serve --host 127.0.0.1 --port <free>`` on a given database URL."""

    def __init__(self, database_url: str, workdir: Path, env: dict[str, str] | None = None):
        self.database_url = database_url
        self.workdir = workdir
        self.extra_env = dict(env or {})
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_path = workdir / "server.log"
        self.session = requests.Session()
        self.session.trust_env = False  # never through a proxy to loopback

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"

    def start(self, timeout: float = 30.0) -> LiveServer:
        """Start on a fresh port (a killed server's port may linger) and wait for health."""
        self.port = free_port()
        env = {
            **os.environ,
            "STRONGTIES_DATABASE_URL": self.database_url,
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": "*",
            **self.extra_env,
        }
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [strongties_cli(), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                env=env,
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: kill() reaches everything
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}\n{self.log()}")
            try:
                if self.session.get(f"{self.url}/api/v1/health", timeout=1).ok:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"server never became healthy\n{self.log()}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        proc.wait(timeout=15)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def log(self) -> str:
        try:
            return "server log (tail):\n" + "\n".join(
                self.log_path.read_text(errors="replace").splitlines()[-40:]
            )
        except OSError:
            return "(no server log)"

    def request(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.url + path, headers=headers, **kwargs)


def token_for(database_url: str, name: str = "hardening") -> str:
    """A device token of the personal user, made directly in the database."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    with app.app_context():
        _, token = auth.create_device(auth.default_user(), name)
        db.session.commit()
        db.engine.dispose()
    return token


def pairing_code(database_url: str) -> str:
    """A fresh pairing code of the personal user, as `strongties pair` would print it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    with app.app_context():
        code = auth.create_pairing_code(auth.default_user())
        db.session.commit()
        db.engine.dispose()
    return code


def seed_secret(server: LiveServer, token: str) -> None:
    r = server.request(
        "POST",
        "/api/v1/contacts",
        token,
        json={
            "name": SECRET["name"],
            "identities": [{"kind": "email", "value": SECRET["email"]}],
            "notes": SECRET["notes"],
        },
    )
    assert r.status_code == 201, r.text
