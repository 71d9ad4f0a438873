"""Configuration from the environment (STRONGTIES_*), with defaults for one user on one laptop."""

import os
from pathlib import Path

from platformdirs import user_data_dir

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


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def from_environment() -> dict:
    url = os.environ.get("STRONGTIES_DATABASE_URL") or default_database_url()
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]  # psycopg 3, not psycopg2
    return {
        "SQLALCHEMY_DATABASE_URI": url,
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
