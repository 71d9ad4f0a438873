"""Engine set-up per backend, and the schema brought up to date through Alembic."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
_READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")


def configure_engine(engine: Engine, sqlite_synchronous: str = "FULL") -> None:
    """SQLite: WAL, foreign keys, a busy timeout, and writers that take the lock up front."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A deferred transaction that reads and then writes fails at once when another process
        # wrote in between; taking the write lock up front lets the busy timeout queue writers.
        # Once a request has committed its write, what it does next only reads (the answer):
        # that must not queue behind, and hold up, the other writers.
        reading = has_request_context() and (
            request.method in _READ_ONLY_METHODS or g.get("_wrote", False)
        )
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    @event.listens_for(engine, "commit")
    def _on_commit(connection):
        if has_request_context():
            g._wrote = True


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema at `url` up to the newest migration."""
    command.upgrade(alembic_config(url), "head")
