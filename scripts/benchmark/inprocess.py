"""Where a request's time goes, without HTTP (`scripts/bench --in-process`).

The ceiling app, the health check, a lookup and a log are called through WSGI in this process,
each on a fresh copy of the synthetic ledger, and timed per call (the mean of many, in wall-clock
time and in CPU time, which on a shared machine leaves out the other processes). The log is
also timed with SQLite's commits not synced, and as its bare SQL: the statements real logs ran,
recorded, then replayed on the raw driver from a bare Flask view, synced and not. The
difference between a log and its bare SQL is what the stack (Flask-SQLAlchemy, webargs,
flask-smorest, the model's arithmetic) costs; the difference between synced and not is the disk.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
import uuid
from pathlib import Path

from flask import Flask, Response
from sqlalchemy import event
from werkzeug.test import EnvironBuilder

from . import synth
from .ceiling import create_app as create_ceiling

SYNCED, NOT_SYNCED = "FULL", "OFF"


class Ledger:
    """A pristine ledger file; every measurement runs on a fresh copy of it."""

    def __init__(self, work: Path, size: synth.Size, seed: int):
        self.work = work
        self.pristine = work / "pristine.db"
        built = synth.build(f"sqlite:///{self.pristine}", size, seed)
        self.plan, self.token = built.ledger, built.token

    def copy(self, name: str) -> Path:
        path = self.work / f"{name}.db"
        for suffix in ("-wal", "-shm", "-writer.lock"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copy(self.pristine, path)
        return path

    def app(self, name: str, synchronous: str = SYNCED) -> Flask:
        from api import create_app

        return create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{self.copy(name)}",
                "STRONGTIES_SQLITE_SYNCHRONOUS": synchronous,
            }
        )


def _dispose(app: Flask) -> None:
    from api.models import db

    with app.app_context():
        db.engine.dispose()


BASE_URL = "http://127.0.0.1:8000"


def requests_for(ledger: Ledger, seed: int, n: int) -> dict[str, list[tuple]]:
    """n lookups and n logs, as scripts/bench sends them: (method, path, body)."""
    return {
        "lookup": [("GET", path, None) for path in synth.lookup_paths(ledger.plan, seed, n)],
        "log": [
            ("PUT", f"/api/v1/interactions/{uuid.uuid4()}", body)
            for body in synth.put_bodies(ledger.plan, seed, n)
        ],
    }


def environs(requests: list[tuple], token: str | None = None) -> list[dict]:
    """WSGI environs of the requests, built before the clock starts (each is read once)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    built = []
    for method, path, body in requests:
        builder = EnvironBuilder(
            path=path, method=method, json=body, headers=headers, base_url=BASE_URL
        )
        built.append(builder.get_environ())
        builder.close()
    return built


def timed(app, environs: list[dict], warmup: int) -> tuple[float, float]:
    """Mean microseconds per call, past the first `warmup` calls, of wall-clock time and of
    this process's CPU time; every answer must be 2xx. The CPU time leaves out what other
    processes on a shared machine take from this one (and the waits for the disk's syncs)."""
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(status)

    def call(environ):
        body = app(environ, start_response)
        b"".join(body)
        getattr(body, "close", lambda: None)()

    for environ in environs[:warmup]:
        call(environ)
    started, cpu_started = time.perf_counter(), time.process_time()
    for environ in environs[warmup:]:
        call(environ)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    failed = [s for s in statuses if not s.startswith("2")]
    if failed:
        raise RuntimeError(f"{len(failed)} calls failed, e.g. {failed[0]}")
    calls = len(environs) - warmup
    return round(elapsed / calls * 1e6, 1), round(cpu / calls * 1e6, 1)


def recorded_logs(ledger: Ledger, environs: list[dict]) -> list[tuple[list, bytes]]:
    """The statements each log ran (in order, with their parameters) and its answer."""
    from api.models import db

    app = ledger.app("recording")
    with app.app_context():
        engine = db.engine
    statements: list = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn, _cursor, sql, params, _context, many):
        # The last-seen time and the busy-timeout switches around it are not the log's work.
        if not sql.startswith("PRAGMA") and not sql.startswith("UPDATE devices"):
            statements.append((sql, params, many))

    logs = []
    for environ in environs:
        statements = []
        body = b"".join(app(environ, lambda *a, **k: None))
        logs.append((statements, body))
    _dispose(app)
    return logs


def bare_sql_app(path: Path, logs: list[tuple[list, bytes]], synchronous: str) -> Flask:
    """A bare Flask view that runs the next recorded log's statements on the raw driver, in one
    BEGIN IMMEDIATE ... COMMIT like the API's, and answers with that log's recorded answer."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", f"synchronous={synchronous}"):
        conn.execute(f"PRAGMA {pragma}")
    pending = iter(logs)
    app = Flask(__name__)

    @app.put("/api/v1/interactions/<interaction_id>")
    def log(interaction_id):
        statements, answer = next(pending)
        (token_check, params, _), *writes = statements
        conn.execute(token_check, params).fetchall()
        conn.execute("BEGIN IMMEDIATE")
        for sql, params, many in writes:
            if many:
                conn.executemany(sql, params)
            else:
                conn.execute(sql, params).fetchall()
        conn.execute("COMMIT")
        return Response(answer, 201, mimetype="application/json")

    return app


def run(work: Path, size: synth.Size, seed: int, calls: int) -> dict:
    ledger = Ledger(work, size, seed)
    warmup = max(10, calls // 10)
    requests = requests_for(ledger, seed, calls + warmup)
    requests["ceiling"] = [("GET", "/", None)] * (calls + warmup)
    requests["health"] = [("GET", "/api/v1/health", None)] * (calls + warmup)
    results: dict = {}
    cpu: dict = {}

    def measure(name: str, app: Flask, kind: str) -> None:
        results[name], cpu[name] = timed(app, environs(requests[kind], ledger.token), warmup)
        if "sqlalchemy" in app.extensions:
            _dispose(app)

    measure("ceiling", create_ceiling(), "ceiling")
    measure("health", ledger.app("health"), "health")
    measure("lookup", ledger.app("lookup"), "lookup")
    measure("log", ledger.app("log"), "log")
    measure("log, commits not synced", ledger.app("log-off", NOT_SYNCED), "log")
    logs = recorded_logs(ledger, environs(requests["log"], ledger.token))
    for label, mode in (("", SYNCED), (", commits not synced", NOT_SYNCED)):
        app = bare_sql_app(ledger.copy(f"bare-{mode}"), logs, mode)
        measure(f"the log's SQL from a bare view{label}", app, "log")
    return {
        "contacts": size.contacts,
        "interactions": size.interactions,
        "calls": calls,
        "microseconds": results,
        "times_ceiling": {k: round(v / results["ceiling"], 1) for k, v in results.items()},
        "cpu_microseconds": cpu,
        "cpu_times_ceiling": {k: round(v / cpu["ceiling"], 1) for k, v in cpu.items()},
    }


def markdown(result: dict) -> str:
    lines = [
        f"### Where a request's time goes, in-process ({result['contacts']:,} contacts, "
        f"{result['interactions']:,} interactions, mean of {result['calls']:,} calls)",
        "",
        "| call | µs | × ceiling | CPU µs | CPU × ceiling |",
        "|---|---|---|---|---|",
    ]
    for name, micros in result["microseconds"].items():
        lines.append(
            f"| {name} | {micros:,.0f} | {result['times_ceiling'][name]} "
            f"| {result['cpu_microseconds'][name]:,.0f} | {result['cpu_times_ceiling'][name]} |"
        )
    return "\n".join(lines) + "\n"


def main(out: Path, work: Path, *, quick: bool, seed: int) -> dict:
    size = synth.QUICK if quick else synth.Size(10_000, 200_000)
    result = run(work, size, seed, calls=300 if quick else 3000)
    (out / "in-process.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "in-process.md").write_text(markdown(result))
    return result
