"""Configuration from the environment (STRONGTIES_*), with defaults for one user on one laptop."""

import math
import os
import re
from pathlib import Path

from platformdirs import user_data_dir
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_PORT = 5151
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
MINUTES_PER_YEAR = 365 * 24 * 60
HOURS_PER_CENTURY = 100 * 365 * 24


class ConfigError(ValueError):
    """A setting that cannot be used; the message names it (and never shows a password)."""


def first_line(exc: BaseException) -> str:
    """An exception's message, its first line: what a one-line error says of it."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


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
    if not re.match(r"[A-Za-z][A-Za-z0-9+.-]+:", value):  # no scheme (C: is a drive)
        value = "sqlite:///" + value
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError("STRONGTIES_DATABASE_URL is not a database URL") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    name = url.database
    if url.get_backend_name() == "sqlite" and name and name != ":memory:":
        if not name.startswith("file:"):
            url = url.set(database=os.path.abspath(os.path.expanduser(name)))
    return url.render_as_string(hide_password=False)


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _number(name: str, default, minimum, kind=int, maximum=None):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{name} must be {what}, not {raw!r}") from None
    if not math.isfinite(value) or value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {raw!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, not {raw!r}")
    return value


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "").strip().upper() or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def from_environment() -> dict:
    url = os.environ.get("STRONGTIES_DATABASE_URL") or default_database_url()
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(url),
        "MAX_CONTENT_LENGTH": _number("STRONGTIES_MAX_BODY_BYTES", 64 * 1024, 1),
        # Host names this server answers to; anything else is refused (DNS rebinding).
        # Empty means the loopback names only.
        "STRONGTIES_ALLOWED_HOSTS": _list("STRONGTIES_ALLOWED_HOSTS"),
        # Web origins allowed to call the API besides browser extensions.
        "STRONGTIES_CORS_ORIGINS": _list("STRONGTIES_CORS_ORIGINS"),
        # A code lives at most a year and scores are refreshed at least once a century: much
        # longer lifetimes are past the dates Python can hold (every pairing or lookup fails).
        "STRONGTIES_PAIR_CODE_MINUTES": _number(
            "STRONGTIES_PAIR_CODE_MINUTES", 10, 1, maximum=MINUTES_PER_YEAR
        ),
        "STRONGTIES_PAIR_MAX_FAILURES": _number("STRONGTIES_PAIR_MAX_FAILURES", 10, 1),
        "STRONGTIES_SCORE_REFRESH_HOURS": _number(
            "STRONGTIES_SCORE_REFRESH_HOURS", 24.0, 0, kind=float, maximum=HOURS_PER_CENTURY
        ),
        # SQLite: FULL syncs every commit to disk before it returns (nothing acknowledged is
        # lost, even on a power cut); NORMAL survives a crashed process but not a power cut.
        "STRONGTIES_SQLITE_SYNCHRONOUS": _choice(
            "STRONGTIES_SQLITE_SYNCHRONOUS", "FULL", SYNCHRONOUS_MODES
        ),
        # Requests one process serves at once (gunicorn's --threads; `serve` sets its own):
        # a PostgreSQL connection pool is sized to fit them.
        "STRONGTIES_THREADS": _number("STRONGTIES_THREADS", 1, 1, maximum=1024),
        # Behind a load balancer, how many proxy hops to trust for the client address.
        "STRONGTIES_TRUSTED_PROXIES": _number("STRONGTIES_TRUSTED_PROXIES", 0, 0),
    }
