"""Configuration from the environment (STRONGTIES_*), with defaults for one user on one laptop."""

import os
from pathlib import Path

from platformdirs import user_data_dir
from sqlalchemy.engine import make_url

DEFAULT_PORT = 5151


def default_database_url() -> str:
    """A SQLite file in the user's data directory (created on first use)."""
    folder = Path(user_data_dir("strongties", appauthor=False))
    # The ledger is private: other accounts on the machine must not read the database file.
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        folder.chmod(0o700)  # also for a folder made by an older version
    except OSError:
        pass
    return f"sqlite:///{folder / 'strongties.db'}"


def database_url(value: str) -> str:
    """The SQLAlchemy URL for STRONGTIES_DATABASE_URL: a plain path is a SQLite file, and a
    relative SQLite path is taken from the current directory, once, at start-up (left relative,
    Flask-SQLAlchemy would open it in the app's instance folder and Alembic in the current one)."""
    if "://" not in value:
        value = "sqlite:///" + value
    url = make_url(value)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    name = url.database
    if url.get_backend_name() == "sqlite" and name and name != ":memory:":
        if not name.startswith("file:"):
            url = url.set(database=os.path.abspath(os.path.expanduser(name)))
    return url.render_as_string(hide_password=False)


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def from_environment() -> dict:
    url = os.environ.get("STRONGTIES_DATABASE_URL") or default_database_url()
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(url),
        "MAX_CONTENT_LENGTH": int(os.environ.get("STRONGTIES_MAX_BODY_BYTES", 64 * 1024)),
        # Host names this server answers to; anything else is refused (DNS rebinding).
        # Empty means the loopback names only.
        "STRONGTIES_ALLOWED_HOSTS": _list("STRONGTIES_ALLOWED_HOSTS"),
        # Web origins allowed to call the API besides browser extensions.
        "STRONGTIES_CORS_ORIGINS": _list("STRONGTIES_CORS_ORIGINS"),
        "STRONGTIES_PAIR_CODE_MINUTES": int(os.environ.get("STRONGTIES_PAIR_CODE_MINUTES", 10)),
        "STRONGTIES_PAIR_MAX_FAILURES": int(os.environ.get("STRONGTIES_PAIR_MAX_FAILURES", 10)),
        "STRONGTIES_SCORE_REFRESH_HOURS": float(
            os.environ.get("STRONGTIES_SCORE_REFRESH_HOURS", 24)
        ),
        # SQLite: FULL syncs every commit to disk before it returns (nothing acknowledged is
        # lost, even on a power cut); NORMAL survives a crashed process but not a power cut.
        "STRONGTIES_SQLITE_SYNCHRONOUS": os.environ.get("STRONGTIES_SQLITE_SYNCHRONOUS", "FULL"),
        # Behind a load balancer, how many proxy hops to trust for the client address.
        "STRONGTIES_TRUSTED_PROXIES": int(os.environ.get("STRONGTIES_TRUSTED_PROXIES", 0)),
    }
