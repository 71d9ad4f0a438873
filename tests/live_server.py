"""The real API server in its own process, for every suite that talks to one over HTTP.

- ``free_port()``: a TCP port free right now on 127.0.0.1.
- ``cli_env(database_url, **extra)``: the environment of a server or CLI process on that database
  (this process's environment without any ``STRONGTIES_*`` setting, then ``extra``).
- ``run_cli(env, *args)``: the real ``strongties`` console script (``python -m api`` if the
  script is missing); asserts exit 0 and returns its stdout.
- ``invoke_cli(database_url, *args)``: the same command in this process (no interpreter start-up),
  with a fresh app as its own process would have; returns click's result.
- ``ServerProcess(env, log_path)``: ``strongties serve --port <port>`` (or any argv, e.g.
  gunicorn's, with ``{port}`` in it) in its own process group::

      server = ServerProcess(cli_env(url), tmp_path / "server.log").start()
      server.url                                # http://localhost:<port> (Firefox needs localhost)
      server.request("GET", "/api/v1/contacts", token)    # -> requests.Response
      server.stop(); server.start()             # SIGTERM (then SIGKILL), back on the same port
      server.kill()                             # SIGKILL to the process group: a crash
      server.log_tail()                         # the end of its log, for failure messages
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests

_SCRIPT = Path(sys.executable).with_name("strongties")
STRONGTIES = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "api"]
HEALTH = "/api/v1/health"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free right now on ``host``."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def cli_env(database_url: str, **extra: str) -> dict[str, str]:
    """This process's environment without ``STRONGTIES_*`` settings (a developer's shell must not
    change what a test sees), with the database URL, unbuffered output and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGTIES_")}
    return {
        **env,
        "STRONGTIES_DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def strongties(
    env: dict[str, str],
    *args: str,
    command: Sequence[str] = STRONGTIES,
    cwd: Path | str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """``strongties <args>`` as its own process, whatever its exit code."""
    return subprocess.run(
        [*command, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def run_cli(env: dict[str, str], *args: str, **kwargs) -> str:
    """``strongties <args>`` as its own process (options as `strongties`); asserts exit 0 and
    returns its stdout."""
    done = strongties(env, *args, **kwargs)
    assert done.returncode == 0, (
        f"`strongties {' '.join(args)}` exited {done.returncode}\n"
        f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    )
    return done.stdout


def invoke_cli(database_url: str, *args: str, input: str | None = None, expect: int | None = 0):
    """``strongties <args>`` in this process, with a fresh app as its own process would have;
    asserts the exit code unless ``expect`` is None and returns click's result. Exceptions
    propagate (an unexpected one is no exit code 1)."""
    from click.testing import CliRunner

    from api import cli
    from api.models import db

    held, cli._app = cli._app, None
    try:
        result = CliRunner().invoke(
            cli.main,
            list(args),
            input=input,
            env={"STRONGTIES_DATABASE_URL": database_url},
            catch_exceptions=False,
        )
        if expect is not None:
            assert result.exit_code == expect, result.output
        return result
    finally:
        if cli._app is not None:
            with cli._app.app_context():
                db.engine.dispose()
        cli._app = held


class ServerProcess:
    """A server process on ``port`` (a free one by default) that answers ``GET /api/v1/health``.

    ``command`` is the argv, ``{port}`` in any of its items replaced by the port (default
    ``strongties serve --port {port}``); ``host`` is the name in ``url`` (``localhost``: Firefox's
    background cannot fetch 127.0.0.1); ``log_path`` collects stdout and stderr of every start;
    ``cwd`` defaults to the log's folder. ``stop``/``start`` keep the port and the database.
    """

    def __init__(
        self,
        env: dict[str, str],
        log_path: Path | str,
        command: Sequence[str] | None = None,
        *,
        port: int | None = None,
        host: str = "localhost",
        cwd: Path | str | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.env = env
        self.log_path = Path(log_path)
        self.command = list(command or [*STRONGTIES, "serve", "--port", "{port}"])
        self.port = port or free_port()
        self.host = host
        self.cwd = Path(cwd) if cwd is not None else self.log_path.parent
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen[bytes] | None = None
        self._ready = False
        self._log_start = 0  # where the current run's log begins
        self.session = requests.Session()
        self.session.trust_env = False  # never through a proxy to loopback

    # -- addresses ----------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """``http://<host>:<port>``, whether or not the server is up."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url

    @property
    def argv(self) -> list[str]:
        return [part.replace("{port}", str(self.port)) for part in self.command]

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self, wait: bool = True) -> ServerProcess:
        """Start (or restart) on the same port; with ``wait``, wait until it is ready."""
        if not self.running:
            self.proc = None
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "ab") as log:
                self._log_start = log.tell()
                stamp = time.strftime("%H:%M:%S")
                log.write(f"=== {stamp} port {self.port}: {' '.join(self.argv)}\n".encode())
                log.flush()
                self.proc = subprocess.Popen(
                    self.argv,
                    env=self.env,
                    cwd=self.cwd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # its own process group: kill() reaches everything
                )
            self._ready = False
        return self.wait_ready() if wait else self

    def ready(self) -> bool:
        """Whether the started server is ready: GET /api/v1/health answers 200."""
        try:
            return self.session.get(self.base_url + HEALTH, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def wait_ready(self, timeout: float | None = None) -> ServerProcess:
        """Poll ``ready()`` while the process lives; an exit or a timeout stops it and fails
        with the log's tail."""
        if self._ready:
            return self
        assert self.proc is not None, "the server is stopped: call start()"
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        while not self.ready():
            if self.proc.poll() is not None:
                code, self.proc = self.proc.returncode, None
                raise AssertionError(f"the server exited with {code}\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{self.base_url} never got ready\n{self.log_tail()}")
            time.sleep(0.05)
        self._ready = True
        return self

    def _signal(self, sig: int) -> None:
        try:
            os.killpg(self.proc.pid, sig)  # the group is ours while its leader is not reaped
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the server (gunicorn's master stops its workers), SIGKILL to its process
        group if it is still there after ``timeout``; returns once nothing answers the port."""
        self._ready = False
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                proc.wait(timeout)
        self.proc = None
        self._wait_silent(timeout)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """``sig`` to the whole process group at once (a crash, by default), then wait for the
        server to exit."""
        self._ready = False
        proc = self.proc
        if proc is not None and proc.poll() is None:
            self._signal(sig)
            proc.wait(15)
        self.proc = None

    def restart(self, wait: bool = True) -> ServerProcess:
        self.stop()
        return self.start(wait)

    def close(self) -> None:
        self.stop()
        self.session.close()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait_silent(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
            except OSError:
                return
            assert time.monotonic() < deadline, f"port {self.port} still answers after stop()"
            time.sleep(0.05)

    # -- the log ------------------------------------------------------------------------------
    def log_text(self, current: bool = False) -> str:
        """Everything the server printed (``current``: since the last start)."""
        try:
            with open(self.log_path, "rb") as log:
                log.seek(self._log_start if current else 0)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_text()
        if not text:
            return "(no server log)"
        return "server log (tail):\n" + "\n".join(text.splitlines()[-lines:])

    # -- HTTP ---------------------------------------------------------------------------------
    def request(
        self, method: str, path: str, token: str | None = None, **kwargs: Any
    ) -> requests.Response:
        """One request to ``path`` (or a whole URL) with ``token`` as bearer, once the server is
        ready (if it was started); ``kwargs`` go to requests (timeout 10 s by default)."""
        if self.proc is not None:
            self.wait_ready()
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 10)
        url = path if path.startswith("http") else self.base_url + path
        return self.session.request(method, url, headers=headers, **kwargs)
