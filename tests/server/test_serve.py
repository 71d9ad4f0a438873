"""The real thing: `strongties serve` in its own process on a free port, talked to over HTTP,
stopped and started again on the same database, on SQLite and on a fresh PostgreSQL database."""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from api.models import db

BIN = Path(sys.executable).parent / "strongties"
STRONGTIES = [str(BIN)] if BIN.exists() else [sys.executable, "-m", "api"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_env(database_url: str, home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGTIES_")}
    return {**env, "STRONGTIES_DATABASE_URL": database_url, "HOME": str(home)}


class Server:
    def __init__(self, database_url: str, home: Path):
        self.env = cli_env(database_url, home)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = None
        self.log = home / f"serve-{self.port}.log"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [*STRONGTIES, "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            try:
                if requests.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise AssertionError("server did not come up:\n" + self.log.read_text())

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def run_cli(env: dict, *args: str) -> str:
    done = subprocess.run(
        [*STRONGTIES, *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def round_trip(database_url: str, home: Path) -> None:
    server = Server(database_url, home)
    try:
        server.start()  # on an empty database: serve brings the schema up to date first
        engine = create_engine(database_url)
        try:
            tables = set(inspect(engine).get_table_names())
            assert {t.name for t in db.metadata.sorted_tables} | {"alembic_version"} <= tables
        finally:
            engine.dispose()

        health = requests.get(f"{server.base}/api/v1/health", timeout=10).json()
        assert health["status"] == "ok"
        token = run_cli(server.env, "token", "create", "Laptop").strip().splitlines()[-1]
        headers = {"Authorization": f"Bearer {token}"}
        assert requests.get(f"{server.base}/api/v1/contacts", timeout=10).status_code == 401

        interaction_id = str(uuid.uuid4())
        body = {
            "kind": "coffee",
            "note": "first coffee",
            "favor": {"direction": "given", "value": 2},
            "contact": {
                "name": "Jane Doe",
                "identities": [{"kind": "linkedin", "value": "linkedin.com/in/jane-doe"}],
            },
        }
        url = f"{server.base}/api/v1/interactions/{interaction_id}"
        r = requests.put(url, json=body, headers=headers, timeout=10)
        assert r.status_code == 201, r.text
        tie = r.json()["tie"]
        assert requests.put(url, json=body, headers=headers, timeout=10).status_code == 200

        server.stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{server.base}/api/v1/health", timeout=2)
        server.start()

        lookup = f"{server.base}/api/v1/lookup?linkedin=https://www.linkedin.com/in/Jane-Doe/"
        r = requests.get(lookup, headers=headers, timeout=10)
        assert r.status_code == 200
        assert r.json()["contact"]["name"] == "Jane Doe"
        assert r.json()["tie"]["interaction_count"] == 1
        assert r.json()["tie"]["last_interaction"]["note"] == "first coffee"
        assert r.json()["tie"]["reciprocity"] == tie["reciprocity"]
        # The replay after a restart is still a replay.
        assert requests.put(url, json=body, headers=headers, timeout=10).status_code == 200
        feed = requests.get(f"{server.base}/api/v1/changes", headers=headers, timeout=10).json()
        assert sum(c["entity"] == "interaction" for c in feed["changes"]) == 1
    finally:
        server.stop()


def test_python_m_api_help(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "api", "--help"],
        env=cli_env("sqlite:///" + str(tmp_path / "unused.db"), tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    for command in ("serve", "token", "pair", "rebuild"):
        assert command in done.stdout
    assert not (tmp_path / "unused.db").exists()  # --help touches no database


def test_serve_keeps_the_ledger_across_restarts_on_sqlite(tmp_path):
    round_trip(f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)


@pytest.mark.postgres
def test_serve_keeps_the_ledger_across_restarts_on_postgresql(request, tmp_path):
    # The shared fixture skips (or fails, in CI) when PostgreSQL is unreachable.
    server_url = request.getfixturevalue("postgres_database")
    name = f"strongties_serve_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        round_trip(url, tmp_path)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
