"""Fixtures of the hardening suite (the shared ones live in tests/conftest.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest

from .live import LiveServer


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> str:
    """A migrated SQLite database of its own (for tests that need one backend only)."""
    path = tmp_path / "live.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def live_server_factory(tmp_path) -> Iterator[Callable[..., LiveServer]]:
    made: list[LiveServer] = []

    def make(database_url: str, env: dict[str, str] | None = None) -> LiveServer:
        workdir = tmp_path / f"server{len(made)}"
        workdir.mkdir()
        server = LiveServer(database_url, workdir, env)
        made.append(server)
        return server.start()

    yield make
    for server in made:
        server.stop()
        server.session.close()
