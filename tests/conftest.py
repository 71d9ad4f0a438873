"""Shared fixtures: the API on a real database, SQLite always and PostgreSQL where reachable.

Each test gets an empty, migrated database on each backend. Building the app (its OpenAPI spec
above all) costs more than most tests, so one app per database serves every test: the SQLite
file is replaced by a fresh copy of the migrated template at one fixed path, and PostgreSQL is
emptied with DELETE (TRUNCATE syncs files to disk and takes a quarter of a second a test); the
app's connections are closed and its config restored after every test.

`STRONGTIES_TEST_POSTGRES_URL` names the PostgreSQL server (default the local one, trust auth);
with `STRONGTIES_REQUIRE_POSTGRES=1` (set by CI) an unreachable PostgreSQL fails the run
instead of skipping its half of the suite.
"""

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from api import create_app
from api.database import upgrade
from api.models import db

POSTGRES_URL = os.environ.get(
    "STRONGTIES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("STRONGTIES_REQUIRE_POSTGRES") == "1"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite file, copied for each test (faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database for this run, migrated once, dropped at the end."""
    if not _postgres_available():
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required but not reachable at {POSTGRES_URL}")
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    name = f"strongties_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
        return f"sqlite:///{fixed}"
    url = request.getfixturevalue("postgres_database")  # skips, or fails when required
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
def client(app):
    return app.test_client()


@pytest.fixture
def make_token(app):
    """Create a device token for a user (the personal user by default)."""
    from sqlalchemy import select

    from api import auth
    from api.models import User

    def make(name="Test browser", username=None):
        with app.app_context():
            if username is None:
                user = auth.default_user()
            else:
                user = db.session.scalar(select(User).where(User.username == username))
                if user is None:
                    user = User(username=username, settings={})
                    db.session.add(user)
                    db.session.flush()
            _, token = auth.create_device(user, name)
            db.session.commit()
            return token

    return make


@pytest.fixture
def auth_headers(make_token):
    return {"Authorization": f"Bearer {make_token()}"}


@pytest.fixture
def api(client, auth_headers):
    """Call the API as the personal user: api.get(path), api.put(path, json=...), ..."""

    class Caller:
        def __getattr__(self, method):
            def call(path, **kwargs):
                headers = {**auth_headers, **kwargs.pop("headers", {})}
                return getattr(client, method)(path, headers=headers, **kwargs)

            return call

    return Caller()
