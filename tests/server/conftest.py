"""Fixtures of the server suite (the shared ones live in tests/conftest.py).

`database_url` and `app` are redefined here for speed, not changed in meaning: each test still
gets an empty, migrated database on each backend. Building the app (its OpenAPI spec above all)
costs more than most tests, so one app per database serves every test of this suite: the SQLite
file is replaced by a fresh copy of the migrated template at one fixed path, and PostgreSQL is
emptied with DELETE (TRUNCATE syncs files to disk and takes a quarter of a second a test); the
app's connections are closed and its config restored after every test.
"""

import shutil
from pathlib import Path

import pytest
from server_helpers import JANE, new_id
from sqlalchemy import create_engine, func, select

from api import create_app
from api.models import db

SQLITE_PREFIX = "sqlite:///"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def _app_cache(tmp_path_factory):
    cache: dict = {"sqlite_path": tmp_path_factory.mktemp("server") / "strongties.db"}
    yield cache
    for value in cache.values():
        if hasattr(value, "app_context"):
            with value.app_context():
                db.engine.dispose()
        elif hasattr(value, "dispose"):
            value.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, sqlite_template, _app_cache):
    """An empty, migrated database on each backend."""
    if request.param == "sqlite":
        fixed: Path = _app_cache["sqlite_path"]
        for suffix in ("", "-wal", "-shm"):
            Path(f"{fixed}{suffix}").unlink(missing_ok=True)
        shutil.copy(sqlite_template, fixed)
        return f"{SQLITE_PREFIX}{fixed}"
    url = request.getfixturevalue("postgres_database")  # skips or fails as the shared suite does
    engine = _app_cache.get(("emptier", url))
    if engine is None:
        engine = _app_cache[("emptier", url)] = create_engine(url)
    with engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    return url


@pytest.fixture
def app(database_url, _app_cache):
    app = _app_cache.get(database_url)
    if app is None:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
        _app_cache[database_url] = app
    saved = dict(app.config)
    yield app
    app.config.clear()
    app.config.update(saved)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def log(api):
    """PUT one interaction (an inline contact Jane by default); returns the JSON answer."""

    def log(kind="coffee", *, contact=None, contact_id=None, id=None, expect=201, **fields):
        body = {"kind": kind, **fields}
        if contact_id is not None:
            body["contact_id"] = contact_id
        else:
            body["contact"] = contact or JANE
        r = api.put(f"/api/v1/interactions/{id or new_id()}", json=body)
        assert r.status_code == expect, r.get_json()
        return r.get_json()

    return log


@pytest.fixture
def table_counts(app):
    """Row count of every table: a failed request must leave all of them as they were."""

    def snapshot() -> dict[str, int]:
        with app.app_context():
            counts = {
                table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables
            }
            db.session.rollback()
            return counts

    return snapshot


@pytest.fixture
def changes(api):
    """The whole changes feed of the personal user."""

    def everything() -> list[dict]:
        r = api.get("/api/v1/changes?since=0&limit=1000")
        assert r.status_code == 200
        assert not r.json["has_more"]
        return r.json["changes"]

    return everything


@pytest.fixture
def other_api(client, make_token):
    """A second user of the same server (a shared install)."""
    headers = {"Authorization": f"Bearer {make_token('Alice laptop', username='alice')}"}

    class Caller:
        def __getattr__(self, method):
            def call(path, **kwargs):
                return getattr(client, method)(
                    path, headers={**headers, **kwargs.pop("headers", {})}, **kwargs
                )

            return call

    return Caller()
