"""Starting and stopping the API the way it is deployed: gunicorn, two workers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import gunicorn
import psutil

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
# The deployment set-up (docs/deploy.md): two of gunicorn's default (sync) worker processes. The
# ceiling is served by the very same command, only the application differs.
GUNICORN_ARGS = ["--workers", "2"]
# Several servers run side by side here: gunicorn 27+ would give them one control socket.
_OWN_ARGS = ["--no-control-socket"] if gunicorn.version_info >= (27,) else []
API_APP = "api:create_app()"
CEILING_APP = "benchmark.ceiling:create_app()"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    app: str
    env: dict = field(default_factory=dict)
    log: Path | None = None
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str, timeout: float = 60) -> Server:
        self.port = self.port or free_port()
        env = {**os.environ, **self.env}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT), str(ROOT / "scripts"), env.get("PYTHONPATH")) if p
        )
        if self.log:
            with open(self.log, "ab") as out:  # the child keeps its own copy of the file
                self.process = self._spawn(env, out)
        else:
            self.process = self._spawn(env, subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}); see {self.log}")
            try:
                with urllib.request.urlopen(self.base + ready_path, timeout=2) as response:
                    if response.status == 200 and len(self.workers()) >= 2:
                        return self
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer {ready_path} within {timeout} s")

    def _spawn(self, env: dict, out) -> subprocess.Popen:
        return subprocess.Popen(
            [GUNICORN, *GUNICORN_ARGS, *_OWN_ARGS, "--bind", f"127.0.0.1:{self.port}", self.app],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )

    def workers(self) -> list[psutil.Process]:
        if self.process is None:
            return []
        try:
            return psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []

    def worker_rss_mb(self) -> list[float]:
        return [round(w.memory_info().rss / 2**20, 1) for w in self.workers()]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
