"""The server killed with SIGKILL in the middle of a burst of writes loses nothing it acknowledged.

Threads PUT interactions as fast as the server takes them; once enough are acknowledged the
server's process group gets SIGKILL while requests are in flight. After a restart on the same
database every interaction that got a 2xx is there, each contact's aggregates agree with its
ledger (a write is all or nothing), the changes feed has every one, and at most the requests in
flight at the kill (one per thread) were stored without an acknowledgement.

SIGKILL leaves the OS page cache intact, so it shows commit-before-acknowledge and atomicity;
surviving power loss needs the commit to reach the disk before the answer, which
test_sqlite_commits_are_synced_before_the_answer checks in the SQLite configuration (the writer
syncs the log after its commit, outside the write lock). PostgreSQL's own fsync defaults do the
same there.
"""

from __future__ import annotations

import os
import random
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from sqlalchemy import text

from api import auth, create_app, database
from api.models import db

WORKERS = 6
KILL_AFTER = 30  # acknowledged writes before the kill
CONTACTS = 3


def test_acknowledged_writes_survive_sigkill(database_url, make_token, live_server_factory):
    token = make_token("burst")
    server = live_server_factory(database_url)
    contact_ids = []
    for i in range(CONTACTS):
        r = server.request(
            "POST",
            "/api/v1/contacts",
            token,
            json={"name": f"Burst {i}", "identities": [{"kind": "email", "value": f"b{i}@x.io"}]},
        )
        assert r.status_code == 201, r.text
        contact_ids.append(r.json()["id"])

    acknowledged: dict[uuid.UUID, int] = {}
    sent: set[uuid.UUID] = set()
    server_errors: list[str] = []
    failures: list[str] = []
    lock = threading.Lock()
    url, headers = server.url, {"Authorization": f"Bearer {token}"}

    def burst(worker: int) -> None:
        rng = random.Random(worker)  # fixed seeds: the same ids and bodies every run
        session = requests.Session()
        session.trust_env = False
        while True:
            interaction_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            contact_id = rng.choice(contact_ids)
            body = {
                "contact_id": contact_id,
                "kind": rng.choice(["call", "email", "coffee", "meeting"]),
                "closeness": rng.randint(1, 5),
                "note": f"worker {worker}",
            }
            with lock:
                sent.add(interaction_id)
            try:
                r = session.put(
                    f"{url}/api/v1/interactions/{interaction_id}",
                    json=body,
                    headers=headers,
                    timeout=20,
                )
            except requests.RequestException as exc:  # the server died under us
                with lock:
                    failures.append(type(exc).__name__)
                return
            with lock:
                if r.status_code in (200, 201):
                    acknowledged[interaction_id] = contact_id
                elif r.status_code >= 500:
                    server_errors.append(f"{r.status_code} {r.text[:200]}")

    threads = [threading.Thread(target=burst, args=(n,), daemon=True) for n in range(WORKERS)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.005)
    server.kill()  # SIGKILL to the whole process group, mid-burst
    for thread in threads:
        thread.join(30)
    assert len(acknowledged) >= KILL_AFTER, "the burst was too slow to reach the kill point"
    assert not server_errors, server_errors[:5]
    assert len(failures) == WORKERS, "every worker should have lost its connection at the kill"

    server.start()  # the same database, after the crash
    stored: set[uuid.UUID] = set()
    for contact_id in contact_ids:
        rows = server.request("GET", f"/api/v1/contacts/{contact_id}/interactions", token).json()
        ids = {uuid.UUID(row["id"]) for row in rows["interactions"]}
        stored |= ids
        tie = server.request("GET", f"/api/v1/contacts/{contact_id}", token).json()["tie"]
        assert tie["interaction_count"] == len(ids), "aggregates disagree with the ledger"
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged interactions lost: {sorted(missing)[:3]}"
    assert stored <= sent
    assert len(stored - set(acknowledged)) <= WORKERS  # at most one in flight per worker

    feed = server.request("GET", "/api/v1/changes?since=0&limit=1000", token).json()
    assert not feed["has_more"]
    in_feed = {uuid.UUID(c["id"]) for c in feed["changes"] if c["entity"] == "interaction"}
    assert stored <= in_feed

    # And the server takes writes again: a replay of an acknowledged id changes nothing.
    replay_id, contact_id = next(iter(acknowledged.items()))
    r = server.request(
        "PUT",
        f"/api/v1/interactions/{replay_id}",
        token,
        json={"contact_id": contact_id, "kind": "call"},
    )
    assert r.status_code == 200, r.text


def test_sqlite_commits_are_synced_before_the_answer(sqlite_url, monkeypatch):
    """WAL with synchronous=NORMAL, and the writer syncs the log to disk itself once it has
    committed and released the write lock, before it answers: a write's answer means its frames
    are on disk. Reads sync nothing. The sync is the real fdatasync, observed on its way."""
    seen = []
    real_sync = database._datasync

    def observed_sync(fd: int) -> None:
        seen.append(os.fstat(fd).st_size)  # how much of the log this sync makes durable
        real_sync(fd)

    monkeypatch.setattr(database, "_datasync", observed_sync)
    app = create_app({"SQLALCHEMY_DATABASE_URI": sqlite_url, "TESTING": True})
    wal = Path(sqlite_url.removeprefix("sqlite:///") + "-wal")
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        _, token = auth.create_device(auth.default_user(), "sync test")
        db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    body = {
        "kind": "call",
        "contact": {"name": "Ada", "identities": [{"kind": "email", "value": "ada@example.org"}]},
    }

    for _ in range(3):  # a new contact (the general path), then the one-click path twice
        before = len(seen)
        r = client.put(f"/api/v1/interactions/{uuid.uuid4()}", json=body, headers=headers)
        assert r.status_code == 201, r.text
        assert len(seen) == before + 1, "the write was answered without syncing the log"
        assert seen[-1] == wal.stat().st_size  # the sync covered every frame written so far

    before = len(seen)
    assert client.get("/api/v1/lookup?email=ada@example.org", headers=headers).status_code == 200
    assert len(seen) == before


def test_sqlite_full_synchronous_leaves_the_sync_to_sqlite(sqlite_url, monkeypatch):
    """STRONGTIES_SQLITE_SYNCHRONOUS=FULL: SQLite syncs inside every commit itself."""
    seen = []
    monkeypatch.setattr(database, "_datasync", seen.append)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": sqlite_url, "STRONGTIES_SQLITE_SYNCHRONOUS": "FULL"}
    )
    with app.app_context():
        assert db.session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        auth.create_device(auth.default_user(), "sync test")
        db.session.commit()
    assert seen == []


def test_an_unknown_synchronous_mode_is_refused(sqlite_url):
    with pytest.raises(ValueError, match="synchronous"):
        create_app(
            {"SQLALCHEMY_DATABASE_URI": sqlite_url, "STRONGTIES_SQLITE_SYNCHRONOUS": "1; DROP"}
        )
