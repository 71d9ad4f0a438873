"""Storage: a SQLite file in the user's data directory by default, in WAL mode with foreign keys
enforced; PostgreSQL through a URL (the whole suite runs on both)."""

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from api import auth, config, create_app
from api.database import upgrade
from api.models import Interaction, db, utcnow


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.delenv("STRONGTIES_DATABASE_URL", raising=False)
    return tmp_path


def test_default_database_is_a_file_in_the_user_data_directory(home):
    url = config.default_database_url()
    expected = home / ".local" / "share" / "strongties" / "strongties.db"
    assert url == f"sqlite:///{expected}"
    assert expected.parent.is_dir()  # created on first use


def test_xdg_data_home_is_honoured(home, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert (
        config.default_database_url()
        == f"sqlite:///{tmp_path / 'data' / 'strongties' / 'strongties.db'}"
    )
    assert config.from_environment()["SQLALCHEMY_DATABASE_URI"] == config.default_database_url()


def test_a_database_url_from_the_environment_wins(home, monkeypatch):
    monkeypatch.setenv("STRONGTIES_DATABASE_URL", "sqlite:////srv/ties.db")
    assert config.from_environment()["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/ties.db"
    # A plain postgres:// URL (as hosting providers hand out) uses the installed psycopg 3.
    monkeypatch.setenv("STRONGTIES_DATABASE_URL", "postgres://u:p@db.internal:5432/ties")
    assert (
        config.from_environment()["SQLALCHEMY_DATABASE_URI"]
        == "postgresql+psycopg://u:p@db.internal:5432/ties"
    )


def test_the_default_sqlite_file_runs_in_wal_mode_with_foreign_keys(home):
    app = create_app({"TESTING": True})
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    assert url == config.default_database_url()
    upgrade(url)
    with app.app_context():
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() > 0
        r = app.test_client().get("/api/v1/health")
        assert r.json["database"] == "sqlite"
        db.engine.dispose()
    assert (home / ".local" / "share" / "strongties" / "strongties.db").stat().st_size > 0


def test_foreign_keys_are_enforced(app):
    """On both backends an interaction cannot point at a contact that does not exist."""
    with app.app_context():
        db.session.add(
            Interaction(
                id=uuid.uuid4(),
                user_id=424242,
                contact_id=424242,
                kind="call",
                occurred_at=utcnow(),
            )
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def test_the_app_reports_its_backend(app, database_url):
    with app.app_context():
        name = db.engine.dialect.name
        assert name == ("sqlite" if database_url.startswith("sqlite") else "postgresql")
        assert db.session.execute(text("SELECT 1")).scalar() == 1


ADA = "ada@example.org"


def test_instants_come_back_in_utc_whatever_the_database_session_time_zone(database_url):
    """PostgreSQL answers timestamps in its session's time zone (a server's default may be
    anything): the API still writes every instant in UTC, as on SQLite."""
    options = {"connect_args": {"options": "-c timezone=Asia/Kolkata"}}
    if database_url.startswith("sqlite"):
        options = {}
    settings = {"SQLALCHEMY_DATABASE_URI": database_url, "SQLALCHEMY_ENGINE_OPTIONS": options}
    app = create_app({"TESTING": True, **settings})
    try:
        with app.app_context():
            user = auth.default_user()
            _, token = auth.create_device(user, "tz")
            db.session.commit()
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        body = {
            "kind": "call",
            "occurred_at": "2021-03-04T10:36:07+05:30",
            "contact": {"name": "Ada", "identities": [{"kind": "email", "value": ADA}]},
        }
        r = client.put(f"/api/v1/interactions/{uuid.uuid4()}", json=body, headers=headers)
        assert r.status_code == 201, r.get_json()
        contact_id = r.get_json()["contact"]["id"]
        page = client.get(f"/api/v1/contacts/{contact_id}/interactions", headers=headers)
        (stored,) = page.get_json()["interactions"]
        assert stored["occurred_at"] == "2021-03-04T05:06:07+00:00"
        looked_up = client.get(f"/api/v1/lookup?email={ADA}", headers=headers)
        tie = looked_up.get_json()["tie"]
        assert tie["last_interaction"]["occurred_at"] == "2021-03-04T05:06:07+00:00"
        assert tie["first_interaction_at"] == "2021-03-04T05:06:07+00:00"
    finally:
        with app.app_context():
            db.engine.dispose()


def test_no_free_database_connection_is_a_503_with_retry_after(database_url, make_token):
    """Every connection of the pool in use (more requests at once than it holds) is the
    database being busy: a 503 the client retries, not a 500 after the pool's timeout."""
    token = make_token()
    options = {"pool_size": 2, "max_overflow": 0, "pool_timeout": 0.2}
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "SQLALCHEMY_ENGINE_OPTIONS": options}
    )
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    with app.app_context():
        engine = db.engine  # used outside: each request has an app context of its own
    try:
        with engine.connect(), engine.connect():  # the pool's every connection, held elsewhere
            for method, path, body in [
                ("get", "/api/v1/contacts", None),
                ("post", "/api/v1/contacts", {"name": "Ann"}),
            ]:
                r = getattr(client, method)(path, headers=headers, json=body)
                assert r.status_code == 503, (r.status_code, r.get_data()[:300])
                assert r.json["code"] == "unavailable" and r.headers["Retry-After"] == "1"
        r = client.get("/api/v1/contacts", headers=headers)
        assert r.status_code == 200 and r.json["total"] == 0  # the refused write wrote nothing
    finally:
        engine.dispose()
