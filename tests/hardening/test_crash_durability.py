"""The server killed with SIGKILL in the middle of a burst of writes loses nothing it acknowledged.

Threads PUT interactions as fast as the server takes them; once enough are acknowledged the
server's process group gets SIGKILL while requests are in flight. After a restart on the same
database every interaction that got a 2xx is there, each contact's aggregates agree with its
ledger (a write is all or nothing), the changes feed has every one, and at most the requests in
flight at the kill (one per thread) were stored without an acknowledgement.

SIGKILL leaves the OS page cache intact, so it shows commit-before-acknowledge and atomicity;
surviving power loss needs the commit to reach the disk before the answer, which
tests/server/test_sqlite_writers.py checks in the SQLite configuration (WAL with
synchronous=FULL). PostgreSQL's own fsync defaults do the same there.
"""

from __future__ import annotations

import random
import threading
import time
import uuid

import requests

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
