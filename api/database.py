"""Engine set-up per backend, and the schema brought up to date through Alembic.

SQLite has one writer at a time, so what a write does while it holds the lock decides how many
writes a second the server takes. A request that writes reads its token in a short read
transaction of its own, parses and checks its body outside any lock, and only then begins its
write transaction, which takes the lock up front (BEGIN IMMEDIATE). Writers queue on a lock
file (`flock`), which wakes the next one the moment the lock is free, where SQLite's busy
handler would poll with sleeps of up to 100 ms; and the commit is synced to disk after the lock
is released, before the answer goes out (`WalSync`).
"""

import os
import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import g, has_request_context
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import scoped_session

try:
    import fcntl
except ImportError:  # Windows: writers wait in SQLite's busy handler instead
    fcntl = None

MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")
SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")
_this_thread = threading.local()  # does this thread hold the writer lock (through any connection)?


class WalSync:
    """Flush a SQLite database's write-ahead log to disk after a commit, before it is answered.

    With `synchronous=FULL` SQLite syncs the log inside the commit, while it holds the write
    lock, so every other writer waits for the disk too. Here the database runs with
    `synchronous=NORMAL` (the commit reaches the log file but not the disk) and the writer
    syncs the log file itself once the lock is released: the answer still waits for the disk,
    the next writer does not, and concurrent syncs share the disk's flush. A log file that is
    gone was checkpointed into the database, which SQLite syncs before removing it.
    """

    def __init__(self, database_path: str):
        self.path = f"{database_path}-wal"
        self._fd: int | None = None
        self._inode: int | None = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        try:
            inode = os.stat(self.path).st_ino
        except FileNotFoundError:
            return
        with self._lock:
            if inode != self._inode:
                # A new log file (every connection had closed): follow it. The old descriptor
                # stays open, since another thread may be syncing through it right now.
                self._fd = os.open(self.path, os.O_RDONLY)
                self._inode = os.fstat(self._fd).st_ino
            fd = self._fd
        _datasync(fd)


_datasync = getattr(os, "fdatasync", os.fsync)


def configure_engine(engine: Engine, synchronous: str = "NORMAL") -> None:
    """SQLite: WAL, foreign keys, a busy timeout, writers that take the lock up front and queue
    for it, and commits made durable before they are answered."""
    if engine.dialect.name != "sqlite":
        return
    synchronous = synchronous.upper()
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"SQLite synchronous must be one of {SYNCHRONOUS_MODES}: {synchronous!r}")
    database = engine.url.database
    on_disk = bool(database) and database != ":memory:" and not database.startswith("file:")
    queue = f"{database}-writer.lock" if on_disk and fcntl is not None else None
    wal_sync = None
    if synchronous == "NORMAL" and on_disk:
        if os.name == "posix":
            wal_sync = WalSync(database)
        else:  # no portable way to sync a file this process did not write: let SQLite do it
            synchronous = "FULL"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None  # we emit BEGIN and COMMIT ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()
        if queue is not None:
            try:
                record.info["writer_queue"] = os.open(queue, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # e.g. a read-only folder: writers wait in SQLite's busy handler
                pass

    @event.listens_for(engine, "close")
    def _on_close(_dbapi_connection, record):
        _leave_queue(record.info)  # a connection dropped mid-write (an error) frees the queue
        fd = record.info.pop("writer_queue", None)
        if fd is not None:
            os.close(fd)

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # A deferred transaction that reads and then writes fails at once when another process
        # wrote in between; taking the write lock up front lets writers queue instead.
        driver = connection.connection.dbapi_connection  # no statement events: cheap
        if not _takes_write_lock():
            driver.execute("BEGIN")
            return
        _queue_for_writing(connection.info)
        try:
            driver.execute("BEGIN IMMEDIATE")
        except BaseException:
            _leave_queue(connection.info)
            raise
        connection.info["writing"] = True

    @event.listens_for(engine, "commit")
    def _on_commit(connection):
        if not connection.info.pop("writing", False):
            return  # a read: the driver's own commit ends it
        try:
            connection.connection.dbapi_connection.commit()  # the driver's later commit: no-op
        finally:
            _leave_queue(connection.info)
        if has_request_context():
            g._sqlite_phase = "written"  # what the request does next only reads (the answer)
        if wal_sync is not None:
            wal_sync()

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection):
        if connection.info.pop("writing", False):
            try:
                connection.connection.dbapi_connection.rollback()
            finally:
                _leave_queue(connection.info)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info.pop("writing", None)
        _leave_queue(record.info)  # never kept by a connection back in the pool


def _queue_for_writing(info: dict) -> None:
    """Wait for the writer lock file; the kernel hands it to the next writer on release.

    A thread already writing through another connection does not queue again (it would wait
    for itself): SQLite's busy timeout then decides, as it does for writers from elsewhere.
    """
    fd = info.get("writer_queue")
    if fd is None or getattr(_this_thread, "writing", False):
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    info["queued"] = _this_thread.writing = True


def _leave_queue(info: dict) -> None:
    if info.pop("queued", False):
        _this_thread.writing = False
        fcntl.flock(info["writer_queue"], fcntl.LOCK_UN)


def _takes_write_lock() -> bool:
    """Outside a request (the CLI), every transaction may write; in a request, only the one
    that begins after `end_read_before_write` and before the request's write commits."""
    if not has_request_context():
        return True
    return g.get("_sqlite_phase") == "write"


def connection(session: scoped_session) -> Connection:
    """Where a plain statement runs: in the ORM session's transaction if the request has one
    going (it may hold writes not committed yet), else on the request's read connection.

    The read connection serves the token check and the lookup without the ORM session, whose
    set-up and teardown cost as much as the statements; it is opened on first use and closed
    when the request ends (`close_reads`), or when a write is about to begin.
    """
    if session.registry.has() and session().in_transaction():
        return session.connection()
    reads = g.get("_reads")
    if reads is None:
        reads = g._reads = session.get_bind().connect()
    return reads


def close_reads(_exc: BaseException | None = None) -> None:
    reads = g.pop("_reads", None)
    if reads is not None:
        reads.close()


def end_read_before_write() -> None:
    """Called once a writing request has checked its token: end that read, so that the
    request's write transaction, begun next, is the only one it holds and, on SQLite, begins
    with the write lock."""
    close_reads()
    g._sqlite_phase = "write"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema at `url` up to the newest migration."""
    command.upgrade(alembic_config(url), "head")
