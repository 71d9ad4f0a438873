"""The personal store is private to its account: other users of the machine cannot read it.

The default SQLite database lives in the user's data directory, which the server creates (or
tightens) to mode 0700; the database file, which the server creates mode 0600 wherever it is,
gives its mode to its write-ahead log and shared-memory file, whatever the umask.
"""

from __future__ import annotations

import os
import stat
import uuid

import pytest
from live_server import ServerProcess, cli_env, run_cli

from api import config


def test_default_database_folder_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    folder = tmp_path / "data" / "strongties"

    url = config.default_database_url()
    assert url == f"sqlite:///{folder / 'strongties.db'}"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

    folder.chmod(0o755)  # as an older version left it
    config.default_database_url()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


@pytest.fixture
def loose_umask():
    """The usual umask, which leaves new files readable by every account."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("where", ["default", "configured"])
def test_the_ledger_files_are_readable_by_their_owner_only(tmp_path, loose_umask, where):
    if where == "default":  # the user's data directory, as a first `strongties serve` makes it
        folder = tmp_path / "data" / "strongties"
        env = cli_env("", XDG_DATA_HOME=str(tmp_path / "data"))
        del env["STRONGTIES_DATABASE_URL"]
    else:
        folder = tmp_path
        env = cli_env(f"sqlite:///{tmp_path / 'ledger.db'}")
    database = folder / ("strongties.db" if where == "default" else "ledger.db")
    with ServerProcess(env, tmp_path / "server.log", cwd=tmp_path) as server:
        token = run_cli(env, "token", "create", "Laptop").strip().splitlines()[-1]
        jane = {"name": "Jane Doe", "identities": [{"kind": "email", "value": "jane@example.com"}]}
        body = {"kind": "call", "contact": jane}
        r = server.request("PUT", f"/api/v1/interactions/{uuid.uuid4()}", token, json=body)
        assert r.status_code == 201, r.text
        files = [database, *(database.with_name(database.name + end) for end in ("-wal", "-shm"))]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    if where == "default":
        assert mode(folder) == 0o700


def test_a_ledger_file_left_readable_by_others_is_tightened(tmp_path, loose_umask):
    """A database file an older version (or a copy, a restore) left readable by every account,
    at a path the user chose, is made private when the server opens it, with its -wal, -shm and
    lock files; the data in it stays."""
    database = tmp_path / "ledger.db"
    env = cli_env(f"sqlite:///{database}")
    token = run_cli(env, "token", "create", "Laptop").strip().splitlines()[-1]
    files = [
        database.with_name(database.name + end) for end in ("", "-wal", "-shm", "-writer.lock")
    ]
    for path in files:
        path.touch()
        path.chmod(0o644)  # as SQLite leaves them under a umask of 022
    with ServerProcess(env, tmp_path / "server.log", cwd=tmp_path) as server:
        r = server.request("GET", "/api/v1/contacts", token)
        assert r.status_code == 200, r.text  # the token made before is still there
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another account")
def test_a_ledger_file_of_another_account_keeps_its_mode(tmp_path, loose_umask):
    """Run by root (sudo strongties ...) on another account's ledger, the server does not take
    away what that account chose to share (a backup group's read access)."""
    database = tmp_path / "ledger.db"
    env = cli_env(f"sqlite:///{database}")
    token = run_cli(env, "token", "create", "Laptop").strip().splitlines()[-1]
    database.chmod(0o640)
    os.chown(database, 1000, 1000)
    with ServerProcess(env, tmp_path / "server.log", cwd=tmp_path) as server:
        assert server.request("GET", "/api/v1/contacts", token).status_code == 200
    assert mode(database) == 0o640


@pytest.mark.parametrize("form", ["file:{path}", "file://{path}", "file://localhost{path}"])
def test_a_ledger_given_as_a_sqlite_uri_is_private_too(tmp_path, loose_umask, form):
    """`sqlite:///file:...?mode=rwc&uri=true` (SQLite's URI filenames, which take options such
    as the vfs) names the same kind of file: created private, or tightened if it exists."""
    database = tmp_path / "my ledger.db"
    uri = form.format(path=str(database).replace(" ", "%20"))
    env = cli_env(f"sqlite:///{uri}?mode=rwc&uri=true")
    token = run_cli(env, "token", "create", "Laptop").strip().splitlines()[-1]
    siblings = [database.with_name(database.name + end) for end in ("-wal", "-shm")]
    assert mode(database) == 0o600
    for path in [database, *siblings]:
        path.touch()
        path.chmod(0o644)
    with ServerProcess(env, tmp_path / "server.log", cwd=tmp_path) as server:
        jane = {"name": "Jane Doe", "identities": [{"kind": "email", "value": "jane@example.com"}]}
        body = {"kind": "call", "contact": jane}
        r = server.request("PUT", f"/api/v1/interactions/{uuid.uuid4()}", token, json=body)
        assert r.status_code == 201, r.text
        files = [database, *siblings, database.with_name(database.name + "-writer.lock")]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("file:")) == []
