"""Acceptance 6 and 7 against a live server: `gunicorn -w 3 'api:create_app()'` on SQLite and on
PostgreSQL, set up as docs/deploy.md says (`strongties migrate`, then `strongties user create`).

Line 7: bounded parallel writers over two devices: 8 client threads, a few hundred PUTs with client
UUIDs (replays of the same UUID, several writers on the same contact, the same email logged twice,
the same new person logged from both browsers at once) and racing PATCH/DELETE. Afterwards every
acknowledged interaction is present exactly once, the kept aggregates equal a rebuild from the
ledger, a follower of the changes feed ends with the same state, and no request failed (a 503
with Retry-After is retried, as the extension's outbox does)."""

import random
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests
from live_server import invoke_cli, run_cli
from synctools import (
    HttpDevice,
    assert_aggregates_match_rebuild,
    comparable,
    follow_feed,
    replay,
    stored_ranks,
)

from api import create_app
from api.models import db

KINDS = ["email", "message", "call", "video", "meeting", "coffee", "meal", "event"]


@pytest.fixture(scope="module")
def users(live_database, gunicorn):
    """alice and bob, created by the CLI with a password; each pairs browsers over HTTP."""
    _, url, env = live_database
    out = run_cli(env, "user", "create", "alice", "--password", "alice-secret-pw")
    assert "User alice created." in out
    out = invoke_cli(url, "user", "create", "bob", "--password", "bob-secret-pw").output
    assert "User bob created." in out

    def pair(username, device_name):
        r = requests.post(
            gunicorn.url + "/api/v1/pair",
            json={
                "username": username,
                "password": f"{username}-secret-pw",
                "device_name": device_name,
            },
            timeout=30,
        )
        assert r.status_code == 201, r.text
        return HttpDevice(gunicorn.url, r.json()["token"], device_name)

    return {
        "alice": [pair("alice", "Firefox on Linux"), pair("alice", "Chrome on Linux")],
        "bob": [pair("bob", "Firefox on Windows")],
    }


@pytest.fixture(scope="module")
def inspector(live_database):
    """The app in this process, on the same database, to look at rows and rebuild."""
    _, url, _ = live_database
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_gunicorn_workers_serve_several_users(live_database, gunicorn, users):
    backend = live_database[0]
    health = requests.get(gunicorn.url + "/api/v1/health", timeout=10).json()
    assert health["database"] == {"sqlite": "sqlite", "postgres": "postgresql"}[backend]
    # Only the configured host names are served (STRONGTIES_ALLOWED_HOSTS).
    r = requests.get(
        gunicorn.url + "/api/v1/health", headers={"Host": "evil.example.net"}, timeout=10
    )
    assert r.status_code == 400
    r = requests.get(
        gunicorn.url + "/api/v1/health", headers={"Host": "ties.example.com"}, timeout=10
    )
    assert r.status_code == 200

    firefox, chrome = users["alice"]
    (bob,) = users["bob"]
    r = bob.put(
        f"/api/v1/interactions/{uuid.uuid4()}",
        json={
            "kind": "call",
            "contact": {
                "name": "Bob's client",
                "identities": [{"kind": "email", "value": "client@bob.example"}],
            },
        },
    )
    assert r.status_code == 201
    bob_contact = r.get_json()["contact"]["id"]

    # Each user's browsers see their own devices and ledger, whichever worker answers.
    for _ in range(6):
        names = [d["name"] for d in chrome.get("/api/v1/devices").get_json()["devices"]]
        assert names == ["Firefox on Linux", "Chrome on Linux"]
        assert firefox.get("/api/v1/lookup?email=client@bob.example").get_json()["contact"] is None
        assert firefox.get(f"/api/v1/contacts/{bob_contact}").status_code == 404
        assert [d["name"] for d in bob.get("/api/v1/devices").get_json()["devices"]] == [
            "Firefox on Windows"
        ]

    # Failed pairings are counted in the database, per client address as the proxy tells it:
    # the limit holds whichever worker answers, and other clients are not locked out.
    def pair(address, password):
        return requests.post(
            gunicorn.url + "/api/v1/pair",
            json={"username": "bob", "password": password, "device_name": "Spare"},
            headers={"X-Forwarded-For": address},
            timeout=30,
        )

    assert [pair("198.51.100.7", "guess").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert pair("198.51.100.7", "bob-secret-pw").status_code == 429
    spare = pair("198.51.100.8", "bob-secret-pw").json()

    # Revoking a device on one worker is seen by all of them at once.
    assert bob.delete(f"/api/v1/devices/{spare['device']['id']}").status_code == 204
    spare_device = HttpDevice(gunicorn.url, spare["token"])
    assert all(spare_device.get("/api/v1/devices").status_code == 401 for _ in range(6))


class Run:
    """Outcomes of the parallel writers, gathered across threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked: dict[str, dict] = {}  # interaction id -> the body that created it
        self.deleted: set[str] = set()
        self.delete_sent: set[str] = set()
        self.contact_of_identity: dict[str, set[int]] = {}
        self.statuses: list[tuple[str, int]] = []
        self.unexpected: list[str] = []


def _plan(rng: random.Random, hot: list[int], n_puts: int) -> list[list]:
    """PUTs in groups sent back to back: a group of two is a replay of the same uuid from the
    other browser, at about the same moment."""
    now = datetime.now(UTC)
    puts = []
    for i in range(n_puts):
        body = {
            "kind": rng.choice(KINDS),
            "occurred_at": (now - timedelta(days=rng.uniform(0, 300))).isoformat(),
            "initiated_by": rng.choice(["me", "them", "mutual"]),
        }
        roll = rng.random()
        if roll < 0.15:  # a new person, met from both browsers at about the same time
            k = rng.randrange(5)
            body["contact"] = {
                "name": f"New person {k}",
                "identities": [{"kind": "email", "value": f"new{k}@example.org"}],
            }
        else:
            body["contact_id"] = rng.choice(hot[:2] if roll < 0.6 else hot)  # hot spots
        if roll > 0.9:  # the same email message, logged under different ids
            body["external_ref"] = f"<msg-{rng.randrange(6)}@mail.example>"
            body["kind"] = "email"
        if rng.random() < 0.2:
            body["favor"] = {"direction": rng.choice(["given", "received"]), "value": 1 + i % 5}
        if rng.random() < 0.3:
            body["closeness"] = rng.randint(1, 5)
        op = ("put", str(uuid.uuid4()), body)
        puts.append([op, op] if rng.random() < 0.25 else [op])
    return puts


def _edits(rng: random.Random, hot: list[int], targets: list[str], n: int) -> list[list]:
    """Edits and deletes of earlier interactions, in groups sent back to back: an edit racing
    a delete, or two browsers editing the same interaction at once."""
    now = datetime.now(UTC)
    ops = []
    for _ in range(n):
        target = rng.choice(targets)
        roll = rng.random()
        patch = {"note": f"edit {rng.randrange(10**6)}", "closeness": rng.randint(1, 5)}
        if rng.random() < 0.3:
            patch["occurred_at"] = (now - timedelta(days=rng.uniform(0, 300))).isoformat()
        if rng.random() < 0.2:
            patch["contact_id"] = rng.choice(hot)
        if rng.random() < 0.2:
            patch["favor"] = rng.choice([None, {"direction": "received", "value": 3}])
        if roll < 0.15:
            ops.append([("patch", target, patch), ("delete", target, None)])
        elif roll < 0.35:
            ops.append([("patch", target, patch), ("patch", target, {"note": "other browser"})])
        elif roll < 0.45:
            ops.append([("delete", target, None)])
        elif roll < 0.65:
            ops.append([("read", None, None)])
        else:
            ops.append([("patch", target, patch)])
    return ops


def _execute(run: Run, devices, op, rng_seed: int):
    kind, target, body = op
    dev = devices[rng_seed % len(devices)]
    if kind == "put":
        r = dev.put(f"/api/v1/interactions/{target}", json=body)
        ok = r.status_code in (200, 201)
        if ok:
            got = r.get_json()["interaction"]
            with run.lock:
                run.acked[got["id"]] = body
                if "contact" in body:
                    email = body["contact"]["identities"][0]["value"]
                    run.contact_of_identity.setdefault(email, set()).add(got["contact_id"])
            if got["id"] != target:  # only an external_ref already logged gives another id
                assert body.get("external_ref") == got["external_ref"], (target, got)
    elif kind == "patch":
        r = dev.patch(f"/api/v1/interactions/{target}", json=body)
        # A 409: the interaction was deleted meanwhile, or the move would give the contact a
        # second copy of a message it holds.
        refused = r.status_code == 409 and (
            target in run.delete_sent
            or ("contact_id" in body and "external_ref already" in r.get_json()["message"])
        )
        ok = r.status_code == 200 or refused
    elif kind == "delete":
        with run.lock:
            run.delete_sent.add(target)
        r = dev.delete(f"/api/v1/interactions/{target}")
        ok = r.status_code == 200
        if ok:
            with run.lock:
                run.deleted.add(target)
    else:
        path = [
            "/api/v1/contacts",  # refreshes the stored scores while others write
            "/api/v1/contacts?sort=name",
            "/api/v1/lookup?email=new1@example.org",
            "/api/v1/changes?since=0&limit=50",
        ][rng_seed % 4]
        r = dev.get(path)
        ok = r.status_code == 200
    with run.lock:
        run.statuses.append((kind, r.status_code))
        if not ok:
            run.unexpected.append(f"{kind} {target} {body} -> {r.status_code} {r.get_json()}")


def _follow(dev, stop: threading.Event, seen: list):
    """A browser syncing while the writers write: pages of 20 from its cursor."""
    cursor = 0
    while True:
        done = stop.is_set()
        changes, cursor = follow_feed(dev, since=cursor, limit=20)
        seen += changes
        if done:
            return
        stop.wait(0.05)


def test_parallel_writers_over_two_devices(live_database, gunicorn, users, inspector):
    backend = live_database[0]
    firefox, chrome = users["alice"]
    (bob,) = users["bob"]
    rng = random.Random(20261125)
    hot = []
    for n in range(4):
        r = firefox.post(
            "/api/v1/contacts",
            json={
                "name": f"Hot {n}",
                "identities": [{"kind": "linkedin", "value": f"hot-{n}"}],
            },
        )
        assert r.status_code == 201
        hot.append(r.get_json()["id"])
    start_cursor = follow_feed(firefox)[1]

    run = Run()
    devices = [firefox, chrome]
    phase1 = [op for group in _plan(rng, hot, 120) for op in group]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda p: _execute(run, devices, p[1], p[0]), enumerate(phase1)))
    assert not run.unexpected, run.unexpected[:5]

    # Phase 2: edits and deletes racing each other, more PUTs, bob writing too, and a live
    # follower of alice's feed.
    targets = sorted(run.acked)
    groups = _edits(rng, hot, targets, 60) + _plan(rng, hot, 25)
    rng.shuffle(groups)
    phase2 = [op for group in groups for op in group]
    stop, seen = threading.Event(), []
    follower = threading.Thread(target=_follow, args=(chrome, stop, seen))
    follower.start()

    def bob_writes(i):
        r = bob.put(f"/api/v1/interactions/{uuid.uuid4()}", json=_bob_body(i))
        with run.lock:
            run.statuses.append(("bob", r.status_code))
            if r.status_code != 201:
                run.unexpected.append(f"bob -> {r.status_code}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        jobs = [pool.submit(_execute, run, devices, op, i) for i, op in enumerate(phase2)]
        jobs += [pool.submit(bob_writes, i) for i in range(8)]
        for job in jobs:
            job.result()
    stop.set()
    follower.join(timeout=60)
    assert not follower.is_alive()

    assert not run.unexpected, run.unexpected[:5]
    assert all(status < 500 for _, status in run.statuses)
    assert len([1 for kind, _ in run.statuses if kind == "put"]) >= 160

    # Every acknowledged interaction is present exactly once; deleted ones are gone.
    contacts = firefox.get("/api/v1/contacts?page_size=500").get_json()["contacts"]
    live = {}
    for contact in contacts:
        rows = firefox.get(f"/api/v1/contacts/{contact['id']}/interactions").get_json()
        rows = rows["interactions"]
        assert contact["tie"]["interaction_count"] == len(rows), contact["name"]
        for row in rows:
            assert row["id"] not in live, "listed twice"
            live[row["id"]] = row
    assert set(live) == set(run.acked) - run.deleted
    for interaction_id in run.deleted:
        r = firefox.patch(f"/api/v1/interactions/{interaction_id}", json={"note": "late"})
        assert r.status_code == 409
    # The same new person logged from two browsers at once is one contact.
    for email, contact_ids in run.contact_of_identity.items():
        assert len(contact_ids) == 1, (email, contact_ids)
        found = firefox.get(f"/api/v1/lookup?email={email}").get_json()["contact"]
        assert found["id"] in contact_ids
    # The same email message is logged once per contact, moves by edits included.
    refs = [(r["contact_id"], r["external_ref"]) for r in live.values() if r["external_ref"]]
    assert len(refs) == len(set(refs))

    # Conflicts resolved deterministically: the current state of each interaction is the last
    # version in the feed, and nothing was written to it after its delete.
    changes, _ = follow_feed(firefox, since=start_cursor, limit=500)
    last = {}
    for change in changes:
        if change["entity"] != "interaction":
            continue
        assert last.get(change["id"], {}).get("op") != "delete", change
        last[change["id"]] = change
    for interaction_id, row in live.items():
        assert last[interaction_id]["op"] == "upsert"
        assert comparable(last[interaction_id]["data"]) == comparable(row)
    for interaction_id in run.deleted:
        assert last[interaction_id]["op"] == "delete"

    # The browser that followed the feed while the others wrote has the same ledger.
    _, _, followed = replay(seen)
    assert set(followed) == set(live)
    assert all(comparable(followed[k]) == comparable(v) for k, v in live.items())

    # Each worker's ordered copy of the scores caught up with the others' writes: every
    # worker answering the list ranks every contact as the database counts it.
    truth = stored_ranks(inspector, "alice")
    for _ in range(6):  # requests land on any of the workers
        listed = firefox.get("/api/v1/contacts?page_size=500").get_json()["contacts"]
        assert {c["id"]: c["tie"]["rank"] for c in listed} == truth

    # The kept aggregates equal a rebuild from the ledger, for both users.
    assert assert_aggregates_match_rebuild(inspector, "alice") == len(contacts)
    assert assert_aggregates_match_rebuild(inspector, "bob") >= 1

    retried = firefox.retried + chrome.retried + bob.retried
    tally = Counter(run.statuses)
    print(f"{backend}: {sorted(tally.items())}; {len(retried)} answered 503 and were retried")


def _bob_body(i: int) -> dict:
    return {
        "kind": "call",
        "note": f"bob {i}",
        "contact": {
            "name": "Bob's other client",
            "identities": [{"kind": "email", "value": "other@bob.example"}],
        },
    }
