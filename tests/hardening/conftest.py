"""Fixtures of the hardening suite (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest
from live_server import ServerProcess, cli_env


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    """A migrated SQLite database of its own (for tests that need one backend only)."""
    path = tmp_path / "live.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def live_server_factory(tmp_path) -> Iterator[Callable[..., ServerProcess]]:
    """``live_server_factory(database_url, env=None)`` -> a started ``strongties serve`` on that
    database (``env``: more settings); all are stopped at the end of the test."""
    made: list[ServerProcess] = []

    def make(database_url: str, env: dict[str, str] | None = None) -> ServerProcess:
        log = tmp_path / f"server{len(made)}" / "server.log"
        server = ServerProcess(cli_env(database_url, **(env or {})), log)
        made.append(server)
        return server.start()

    yield make
    for server in made:
        server.close()
