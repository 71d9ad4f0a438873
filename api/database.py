"""Engine set-up per backend, and the schema brought up to date through Alembic.

SQLite has one writer at a time, so what a write does while it holds the lock decides how many
writes a second the server takes. A request that writes reads its token on a read connection of
its own (`connection`), parses and checks its body outside any lock, and only then begins its
write transaction, which takes the lock up front (BEGIN IMMEDIATE). Writers queue for it on a
lock file (`flock`), which lets the next one in within a millisecond of the lock's release,
where SQLite's busy handler sleeps up to 100 ms between tries.
"""

import logging
import os
import sqlite3
import stat
import threading
import time
import weakref
from collections import namedtuple
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from alembic import command
from alembic.config import Config
from flask import g, has_app_context, has_request_context
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Executable
from sqlalchemy.util import asbool

from .config import SYNCHRONOUS_MODES

try:
    import fcntl
except ImportError:  # Windows: writers wait in SQLite's busy handler instead
    fcntl = None

MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")
BUSY_TIMEOUT_MS = 15_000
# Per thread: does it hold the writer queue (through any connection)? Its kept read connection.
_this_thread = threading.local()
_log = logging.getLogger(__name__)


def configure_engine(engine: Engine, synchronous: str = "FULL") -> None:
    """SQLite: WAL, foreign keys, a busy timeout, and writers that take the lock up front and
    queue for it. `synchronous=FULL` (the default) syncs every commit to disk before it returns,
    so nothing acknowledged is lost even on a power cut."""
    if engine.dialect.name != "sqlite":
        return
    synchronous = synchronous.upper()
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"SQLite synchronous must be one of {SYNCHRONOUS_MODES}: {synchronous!r}")
    database = database_file(engine.url)
    make_private(engine.url)
    queue = f"{database}-writer.lock" if database is not None and fcntl is not None else None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record):
        dbapi_connection.isolation_level = None  # we emit BEGIN and COMMIT ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()
        # SQLite's lower() (which SQLAlchemy's ILIKE uses there) folds ASCII letters only: a
        # search for "élodie" must find "Élodie", as it does on PostgreSQL.
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
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

    # Transactions begin and end in the dialect, not in connection events: an engine with
    # connection events dispatches them around every statement, which costs a lookup or a log
    # more than its SQL does. SQLAlchemy still turns the driver's errors into its own (a locked
    # database is an OperationalError, which the API answers with 503).
    dialect = engine.dialect
    dialect.do_begin = _begin
    dialect.do_commit = _commit
    dialect.do_rollback = _rollback  # also the pool's reset of a connection given back

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection, record):
        record.info.pop("writing", None)
        record.info.pop("reads_only", None)
        _leave_queue(record.info)  # never kept by a connection back in the pool


# PostgreSQL's lower() maps letter by letter; Python's str.lower() differs from it on two: "İ"
# (a Turkish capital) is "i" and a combining dot, and a capital sigma ending a word is "ς".
_AS_POSTGRESQL = str.maketrans({"\u0130": "i", "\u03a3": "\u03c3"})


def _lower(value):
    """SQLite's lower() for every script, letter by letter as PostgreSQL's (a search finds the
    same contacts on both); NULL stays NULL, a number reads as its text."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.lower()
    return str(value).translate(_AS_POSTGRESQL).lower()


def database_file(url: URL) -> str | None:
    """The file a SQLite database is in: its name, or with `uri=true` the path of its `file:`
    URI as SQLite reads it (an empty or `localhost` authority, percent-decoded); None for a
    database in memory or on another backend."""
    name = url.database or ""
    if url.get_backend_name() != "sqlite" or name in ("", ":memory:"):
        return None
    if not (asbool(url.query.get("uri", False)) and name.startswith("file:")):
        return name
    uri = urlsplit(name)
    path = unquote(uri.path)
    in_memory = url.query.get("mode") == "memory" or url.query.get("vfs") == "memdb"
    if uri.netloc not in ("", "localhost") or in_memory or path in ("", ":memory:"):
        return None
    return path


def is_file(url: URL) -> bool:
    """Is this a SQLite database in a file of its own (not in memory)?"""
    return database_file(url) is not None


def make_private(url: URL) -> None:
    """Create a SQLite file that does not exist yet as readable by its owner only: a ledger is
    personal data, and SQLite gives its -wal and -shm files the database file's mode (left to
    SQLite, the umask decides, usually readable by all). One that exists, wherever it is (made
    by an older version, copied, restored), loses what its group and others could do with it,
    and so do its -wal, -shm and lock files."""
    database = database_file(url)
    if database is None:
        return
    if url.query.get("mode") not in ("ro", "rw"):  # those never create the file: nor do we
        try:
            os.close(os.open(database, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
            return
        except FileExistsError:
            pass
        except OSError:  # its folder does not exist, which SQLite reports on connecting
            return
    for end in ("", "-wal", "-shm", "-writer.lock"):
        path = database + end
        try:
            info = os.stat(path)
            mode = stat.S_IMODE(info.st_mode)
            # Another account's file is theirs to share (root could change it, and would take
            # a backup group's access away): only our own are tightened.
            if mode & 0o077 and info.st_uid == os.geteuid():
                os.chmod(path, mode & 0o700)
        except OSError:  # not there, or not ours to change: left as it is
            pass


def _begin(connection: PoolProxiedConnection) -> None:
    """A deferred transaction that reads and then writes fails at once when another process
    wrote in between; taking the write lock up front lets writers queue instead."""
    driver, info = connection.dbapi_connection, _info(connection)
    if info.get("reads_only") or not _takes_write_lock():
        driver.execute("BEGIN")
        return
    _queue_for_writing(info)
    try:
        driver.execute("BEGIN IMMEDIATE")
    except BaseException:
        _leave_queue(info)
        raise
    info["writing"] = True


def _commit(connection: PoolProxiedConnection) -> None:
    driver = connection.dbapi_connection

    def commit() -> None:
        """A COMMIT that fails may leave SQLite's transaction open (a deferred constraint, a
        busy or full disk), and with it the database's write lock: SQLAlchemy counts its
        transaction as over and gives the connection back to the pool without a rollback when
        it is closed (as `writing` and `Engine.begin` close it), where it would keep every
        other writer out. Rolled back here, before the writers' queue is left."""
        try:
            driver.commit()
        except BaseException:
            try:
                driver.rollback()
            except Exception:  # a broken connection: its error is the one to report
                _log.warning("could not roll back after a failed commit", exc_info=True)
            raise

    wrote = _end(connection, commit)
    if wrote and has_request_context():
        g._sqlite_phase = "written"  # what the request does next only reads (the answer)


def _rollback(connection: PoolProxiedConnection) -> None:
    _end(connection, connection.dbapi_connection.rollback)


def _end(connection: PoolProxiedConnection, end) -> bool:
    """End the transaction on the driver, which knows our BEGIN (it sends COMMIT or ROLLBACK,
    or nothing when none is open, as after a failed COMMIT), then leave the writer queue if
    this was a write; returns whether it was."""
    info = _info(connection)
    writing = info.pop("writing", False)
    try:
        end()
    finally:
        if writing:
            _leave_queue(info)
    return writing


def _info(connection: PoolProxiedConnection) -> dict:
    """The pooled connection's own dict; none for the dialect's check of a first connection."""
    try:
        return connection.info
    except NotImplementedError:
        return {}


def _queue_for_writing(info: dict) -> None:
    """Take the writer lock file, waiting as long as SQLite's busy timeout would.

    A thread already writing through another connection does not queue again (it would wait
    for itself): SQLite's busy timeout then decides, as it does for writers from elsewhere.
    """
    fd = info.get("writer_queue")
    if fd is None or getattr(_this_thread, "writing", False):
        return
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.0001
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise sqlite3.OperationalError("database is locked") from None
            time.sleep(pause)
            pause = min(pause * 2, 0.001)  # a writer holds the lock for about a millisecond
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


def connection(db: SQLAlchemy) -> Connection:
    """Where a plain statement runs: in the ORM session's transaction if one is going (it may
    hold writes not committed yet), else on the app context's read connection.

    The read connection serves the token check and the lookup without the ORM session, whose
    set-up and teardown cost as much as the statements. It never writes (its transactions are
    plain BEGINs); its transaction ends with the app context (`close_reads`), or when a request
    is about to write.
    """
    session = db.session
    if session.registry.has() and session().in_transaction():
        return session.connection()
    writes = g.get("_writes")
    if writes is not None:
        return writes
    reads = g.get("_reads")
    if reads is None:  # the engine itself: asking the session for it would make a session
        reads = g._reads = _read_connection(db.engine)
    return reads


@contextmanager
def writing(db: SQLAlchemy) -> Iterator[Connection]:
    """A write transaction on a connection of its own, without the ORM session, whose
    bookkeeping costs a one-click log about as much as its statements do: `connection()` is
    this one until the block ends. The caller commits; whatever it has not committed when the
    block ends (an error, or nothing to write after all) is rolled back."""
    with db.engine.connect() as conn:
        g._writes = conn
        try:
            conn.begin()
            yield conn
        finally:
            g.pop("_writes", None)


def _read_connection(engine: Engine) -> Connection:
    """On SQLite, each thread keeps its read connection from one request to the next: a file
    cannot drop a connection, and taking one from the pool and giving it back costs as much as
    the token check's statement. A database server's connections are taken per request (the
    pool pings them: the server may have restarted), and read in autocommit: PostgreSQL gives
    each statement its own snapshot anyway (READ COMMITTED), and no BEGIN or ROLLBACK costs a
    round trip (a lookup takes 40 % less time)."""
    if engine.dialect.name != "sqlite":
        return engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    kept = getattr(_this_thread, "reads", None)
    if kept is not None:
        current = _this_thread.reads_pool is engine.pool and not (kept.closed or kept.invalidated)
        if current and not kept.in_transaction():
            return kept
        if current:  # an app context around this one reads on it: its snapshot, not ours
            return _reads_only(engine.connect())
        _this_thread.reads = None  # another app's, or from before `engine.dispose()`
        if not kept.in_transaction():  # else the context reading on it closes it, at its end
            _discard(kept)
    kept = _this_thread.reads = _reads_only(engine.connect())
    _this_thread.reads_pool = engine.pool
    return kept


def _reads_only(conn: Connection) -> Connection:
    conn.connection.info["reads_only"] = True  # until it goes back to the pool (`_on_checkin`)
    return conn


def _discard(conn: Connection) -> None:
    """Close for good: a connection given back to a disposed pool would stay open there."""
    try:
        conn.invalidate()
    finally:
        conn.close()


def close_reads(_exc: BaseException | None = None) -> None:
    reads = g.pop("_reads", None) if has_app_context() else None
    if reads is None:
        return
    if reads is getattr(_this_thread, "reads", None):
        try:
            reads.rollback()  # ends the read; the connection stays for the thread's next one
            return
        except Exception:  # a broken connection: the next request takes another
            _this_thread.reads = None
    try:
        reads.close()
    except Exception:  # the teardown goes on: the session, which may hold the writer queue, next
        _log.warning("could not close a read connection", exc_info=True)


def end_read_before_write() -> None:
    """Called before a request that may write runs its handler: end the token check's read, so
    that the request's write transaction, begun next, is the only one it holds and, on SQLite,
    begins with the write lock."""
    close_reads()
    g._sqlite_phase = "write"


@contextmanager
def giving_way(conn: Connection):
    """A short transaction for an optimisation (a last-seen time, refreshed ranking scores)
    that gives way at once when another writer holds the database, rather than waiting for
    it: the caller catches OperationalError and lets a later request do it."""
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        yield conn
    finally:
        if sqlite:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the schema at `url` up to the newest migration."""
    make_private(make_url(url))
    command.upgrade(alembic_config(url), "head")


class DriverStatement:
    """A statement that every lookup or log runs (the token check, a contact's view, a log's
    writes), run on the driver's cursor.

    SQLAlchemy's execution of a statement it has compiled already (its execution context, the
    result and its rows) costs more than the driver's own execution of the SQL: on a lookup,
    about twice as much. Here the statement is compiled once per dialect and run with what
    SQLAlchemy would use: its SQL, its types' conversions of the parameters and of the results
    (chosen from the driver's column types, as SQLAlchemy does), its transaction (begun on the
    connection as an execution would) and its exceptions (a locked or unreachable database is
    still an OperationalError, answered with 503). Rows are named tuples. Plain parameters
    only (no expanding IN lists), and an INSERT or UPDATE names every value it writes (no
    column defaults computed in Python). While cursor events are listened to (tests that count
    statements, the benchmark's recording), it runs through `Connection.execute` for them.
    """

    def __init__(self, statement: Executable):
        self.statement = statement
        self.row = namedtuple("Row", statement.exported_columns.keys())
        self._plans: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per dialect

    def all(self, conn: Connection, params: dict) -> list:
        """The rows it returns (a SELECT, or a write with RETURNING)."""
        return self._run(conn, params, many=False)

    def first(self, conn: Connection, params: dict):
        rows = self.all(conn, params)
        return rows[0] if rows else None

    def execute(self, conn: Connection, params: dict) -> None:
        """A write that returns no rows."""
        self._run(conn, params, many=False)

    def execute_many(self, conn: Connection, params: list[dict]) -> None:
        """A write, once per set of parameters (the driver's executemany)."""
        self._run(conn, params, many=True)

    def _run(self, conn: Connection, params, many: bool) -> list:
        if conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute:
            result = conn.execute(self.statement, params)
            return [self.row._make(row) for row in result] if result.returns_rows else []
        dialect = conn.dialect
        plan = self._plans.get(dialect)
        if plan is None:
            plan = self._plans[dialect] = _Plan(self.statement, dialect)
        if not conn.in_transaction():
            conn.begin()  # as an execution begins one
        dbapi_connection = conn.connection.dbapi_connection
        cursor = None
        try:
            cursor = dbapi_connection.cursor()  # fails on a connection the server dropped
            if many:
                cursor.executemany(plan.sql, [plan.parameters(p) for p in params])
                return []
            cursor.execute(plan.sql, plan.parameters(params))
            if cursor.description is None:
                return []
            convert = plan.converter(cursor.description)
            return [self.row._make(convert(row)) for row in cursor.fetchall()]
        except dialect.loaded_dbapi.Error as exc:
            disconnected = dialect.is_disconnect(exc, dbapi_connection, cursor)
            if disconnected:
                conn.invalidate()
            raise DBAPIError.instance(
                plan.sql, params, exc, dialect.loaded_dbapi.Error, False, disconnected, dialect
            ) from exc
        finally:
            if cursor is not None:
                cursor.close()


class _Plan:
    """A statement as one dialect runs it."""

    def __init__(self, statement: Executable, dialect):
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding or bind.callable for bind in compiled.bind_names):
            raise ValueError(
                "DriverStatement takes plain parameters, not expanding or computed ones"
            )
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("DriverStatement writes the values it is given, not defaults")
        self.sql = compiled.string
        self._dialect = dialect
        self._order = compiled.positiontup if compiled.positional else None
        escaped = compiled.escaped_bind_names or {}
        # What `compiled.construct_params` does for plain parameters, and each type's
        # conversion, worked out once: per bind, its name in the SQL, the keys it is given
        # by, whether it must be given, its value otherwise, and its conversion.
        self._binds = [
            (
                escaped.get(name, name),
                bind.key,
                name,
                bind.required,
                bind.value,
                bind.type.dialect_impl(dialect).bind_processor(dialect),
            )
            for bind, name in compiled.bind_names.items()
        ]
        self._types = [column.type.dialect_impl(dialect) for column in statement.exported_columns]
        self._result_processors: list | None = None  # known at the first execution

    def parameters(self, params: dict):
        values = {}
        for sql_name, key, name, required, default, processor in self._binds:
            if key in params:
                value = params[key]
            elif name in params:
                value = params[name]
            elif required:
                raise InvalidRequestError(f"A value is required for bind parameter {key!r}")
            else:
                value = default
            values[sql_name] = processor(value) if processor else value
        return values if self._order is None else [values[name] for name in self._order]

    def converter(self, description):
        """A row's values as SQLAlchemy's types convert them, given the driver's column types
        (a PostgreSQL number's conversion depends on its type there)."""
        if self._result_processors is None:
            self._result_processors = [
                (i, processor)
                for i, (type_, column) in enumerate(zip(self._types, description, strict=True))
                if (processor := type_.result_processor(self._dialect, column[1]))
            ]
        processors = self._result_processors

        def convert(row):
            values = list(row)
            for i, processor in processors:
                values[i] = processor(values[i])
            return values

        return convert
