"""Fixtures of the sync suite: devices of the in-process app, the CLI in-process, and a live
multi-worker gunicorn on a database of its own (helpers live in synctools.py)."""

import uuid

import pytest
from live_server import cli_env, invoke_cli, run_cli
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from synctools import POSTGRES_URL, Device, Gunicorn


@pytest.fixture
def device(client, make_token):
    """device(name, username=None) -> a Device calling the in-process app."""

    def make(name="Test browser", username=None):
        return Device(client, make_token(name, username), name)

    return make


@pytest.fixture(name="run_cli")
def run_cli_fixture(app, database_url):
    """Run `strongties ...` in-process against the test database; returns the click result."""

    def run(*args, input=None, ok=True):
        return invoke_cli(database_url, *args, input=input, expect=0 if ok else None)

    return run


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def live_database(request, tmp_path_factory):
    """An empty database of its own, migrated by `strongties migrate` as docs/deploy.md says.

    Yields (backend, url, env for the server processes).
    """
    cleanup = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'shared.db'}"
    else:
        request.getfixturevalue("postgres_database")  # skips (or fails) when unreachable
        name = f"strongties_sync_{uuid.uuid4().hex[:10]}"
        admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

        def cleanup():
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    env = cli_env(
        url,
        STRONGTIES_ALLOWED_HOSTS="ties.example.com,127.0.0.1,localhost",
        STRONGTIES_TRUSTED_PROXIES="1",  # as behind nginx: X-Forwarded-For names the client
        STRONGTIES_PAIR_MAX_FAILURES="3",
        STRONGTIES_SCORE_REFRESH_HOURS="0",  # every list refreshes the stored scores
    )
    assert "Schema up to date" in run_cli(env, "migrate")
    yield request.param, url, env
    if cleanup:
        cleanup()


@pytest.fixture(scope="module")
def gunicorn(live_database, tmp_path_factory):
    """`gunicorn -w 3 'api:create_app()'` serving the live database; its log must stay clean."""
    _, _, env = live_database
    server = Gunicorn(env, tmp_path_factory.mktemp("gunicorn") / "gunicorn.log", workers=3)
    yield server.start()
    server.close()
    log = server.log_text()
    for sign in ("Traceback", "unexpected error", "deadlock detected"):
        assert sign not in log, log
