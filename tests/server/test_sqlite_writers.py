"""SQLite's one writer at a time: every commit synced before it returns, writers queued on a lock
file beside the database, and a writer that cannot get the database in time answered with 503
(Retry-After), having changed nothing, never a 500 and never an endless wait."""

import fcntl
import shutil
import sqlite3
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from api import auth, create_app, database
from api.models import db

BODY = {
    "kind": "call",
    "contact": {"name": "Ada", "identities": [{"kind": "email", "value": "ada@example.org"}]},
}


@pytest.fixture
def sqlite_file(tmp_path, sqlite_template, monkeypatch):
    """A migrated SQLite file of its own, served with a busy timeout of 0.3 s."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 300)
    path = tmp_path / "ties.db"
    shutil.copy(sqlite_template, path)
    return path


@pytest.fixture
def served(sqlite_file):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{sqlite_file}", "TESTING": True})
    with app.app_context():
        _, token = auth.create_device(auth.default_user(), "writers")
        db.session.commit()
    yield app, {"Authorization": f"Bearer {token}"}
    with app.app_context():
        db.engine.dispose()


def interaction_count(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM interactions").fetchone()[0]


def test_commits_are_synced_before_they_return(served, sqlite_file):
    """WAL with synchronous=FULL (the default): SQLite syncs the log inside every commit, so
    an acknowledged write survives a power cut as well as a killed process."""
    app, _ = served
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL


def test_writers_queue_on_a_lock_file_beside_the_database(served, sqlite_file):
    app, headers = served
    r = app.test_client().put(f"/api/v1/interactions/{uuid.uuid4()}", json=BODY, headers=headers)
    assert r.status_code == 201, r.get_json()
    queue = sqlite_file.with_name("ties.db-writer.lock")
    assert queue.is_file() and queue.stat().st_mode & 0o777 == 0o600


def test_a_writer_elsewhere_holding_the_database_gives_503(served, sqlite_file):
    """Another program (not queued on our lock file) holds SQLite's write lock: the log waits
    the busy timeout, then is refused with 503 and Retry-After, and nothing is written."""
    app, headers = served
    before = interaction_count(sqlite_file)
    other = sqlite3.connect(sqlite_file, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        url = f"/api/v1/interactions/{uuid.uuid4()}"
        r = app.test_client().put(url, json=BODY, headers=headers)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert r.status_code == 503, r.get_json()
    assert r.headers["Retry-After"]
    assert interaction_count(sqlite_file) == before
    # The lock is free again: the same log goes through.
    assert app.test_client().put(url, json=BODY, headers=headers).status_code == 201


def test_a_writer_stuck_in_the_queue_gives_503_not_an_endless_wait(served, sqlite_file):
    """A writer of ours that never lets go of the queue (a stalled process): the next one
    waits as long as the busy timeout, then gets 503; reads carry on meanwhile."""
    app, headers = served
    client = app.test_client()
    assert (
        client.put(f"/api/v1/interactions/{uuid.uuid4()}", json=BODY, headers=headers).status_code
        == 201
    )
    before = interaction_count(sqlite_file)
    stalled = open(sqlite_file.with_name("ties.db-writer.lock"), "rb")
    fcntl.flock(stalled, fcntl.LOCK_EX)
    try:
        r = client.put(f"/api/v1/interactions/{uuid.uuid4()}", json=BODY, headers=headers)
        lookup = client.get("/api/v1/lookup?email=ada@example.org", headers=headers)
    finally:
        stalled.close()
    assert r.status_code == 503, r.get_json()
    assert lookup.status_code == 200 and lookup.get_json()["tie"]["interaction_count"] == before
    assert interaction_count(sqlite_file) == before


def test_an_unknown_synchronous_mode_is_refused(sqlite_file):
    with pytest.raises(ValueError, match="synchronous"):
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{sqlite_file}",
                "STRONGTIES_SQLITE_SYNCHRONOUS": "1; DROP",
            }
        )


def test_a_command_reading_in_nested_app_contexts_can_still_write(served):
    """Outside a request every transaction may write; a read in an app context nested inside
    another that is reading must still not take the writer queue, or the write that follows
    would wait for its own thread (busy timeout, then an error)."""
    app, _ = served
    with app.app_context():
        database.connection(db).execute(text("SELECT count(*) FROM contacts")).scalar()
        with app.app_context():
            database.connection(db).execute(text("SELECT count(*) FROM devices")).scalar()
            auth.create_device(auth.default_user(), "nested")
            db.session.commit()
    with app.app_context():
        names = db.session.execute(text("SELECT name FROM devices")).scalars().all()
    assert sorted(names) == ["nested", "writers"]


def open_files() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_disposing_the_engine_leaves_no_file_open(served):
    """Each thread keeps a read connection between requests; `engine.dispose()` (as tests and
    a reconfigured server do) must not strand it, with its database and lock files, open."""
    app, headers = served
    client = app.test_client()

    def lookups_then_dispose():
        r = client.get("/api/v1/lookup?email=ada@example.org", headers=headers)
        assert r.status_code == 200
        with app.app_context():
            db.engine.dispose()

    lookups_then_dispose()
    before = open_files()
    for _ in range(20):
        lookups_then_dispose()
    assert open_files() <= before
