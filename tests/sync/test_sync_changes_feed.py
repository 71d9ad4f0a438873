"""Acceptance 2: GET /api/v1/changes?since=<cursor> is a monotonic, paged cursor over contacts,
identities, interactions and deletions; following it from 0 rebuilds the current state."""

from datetime import UTC, datetime, timedelta

from synctools import comparable, follow_feed, replay

U = "7a1c0d6e-5b7f-4f43-9a0e-3c2b1a00{:04d}".format


def _ok(r, status=(200, 201)):
    assert r.status_code in ((status,) if isinstance(status, int) else status), r.get_json()
    return r.get_json()


def _ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def _history(firefox, chrome) -> dict:
    """Every kind of write from two browsers; returns the ids it made."""
    ada = _ok(
        firefox.post(
            "/api/v1/contacts",
            json={
                "name": "Ada Lovelace",
                "identities": [
                    {"kind": "email", "value": "ada@example.org"},
                    {"kind": "linkedin", "value": "https://www.linkedin.com/in/ada-lovelace/"},
                ],
                "notes": "met at the Analytical Engine demo",
            },
        ),
        201,
    )["id"]
    bob = _ok(
        chrome.put(
            f"/api/v1/interactions/{U(1)}",
            json={
                "kind": "coffee",
                "contact": {
                    "name": "Bob",
                    "identities": [{"kind": "email", "value": "bob@example.org"}],
                },
                "favor": {"direction": "given", "value": 3},
                "closeness": 4,
                "occurred_at": _ago(40),
            },
        ),
        201,
    )["contact"]["id"]
    _ok(
        firefox.put(
            f"/api/v1/interactions/{U(2)}",
            json={
                "kind": "call",
                "contact_id": ada,
                "initiated_by": "them",
                "occurred_at": _ago(10),
            },
        ),
        201,
    )
    # Logging the same interaction again from a retrying outbox is a replay: no new change.
    before = len(follow_feed(firefox)[0])
    _ok(firefox.put(f"/api/v1/interactions/{U(2)}", json={"kind": "call", "contact_id": ada}), 200)
    assert len(follow_feed(firefox)[0]) == before
    # Inline contact with Bob's email and a new LinkedIn profile: linked to Bob, identity added.
    _ok(
        chrome.put(
            f"/api/v1/interactions/{U(3)}",
            json={
                "kind": "email",
                "contact": {
                    "name": "Robert",
                    "identities": [
                        {"kind": "email", "value": "BOB@example.org"},
                        {"kind": "linkedin", "value": "bob-builder"},
                    ],
                },
            },
        ),
        201,
    )
    _ok(
        firefox.patch(
            f"/api/v1/interactions/{U(1)}",
            json={"note": "he paid", "favor": {"direction": "received", "value": 2}},
        )
    )
    _ok(chrome.patch(f"/api/v1/interactions/{U(2)}", json={"contact_id": bob}))  # moved
    _ok(firefox.delete(f"/api/v1/interactions/{U(3)}"))
    _ok(
        chrome.patch(
            f"/api/v1/contacts/{ada}",
            json={
                "name": "Ada King",
                "identities": [
                    {"kind": "email", "value": "ada@example.org"},
                    {"kind": "email", "value": "countess@example.org"},
                ],
            },
        )
    )
    # A failed write changes nothing, so it leaves nothing in the feed.
    before = len(follow_feed(firefox)[0])
    r = firefox.post(
        "/api/v1/contacts",
        json={"name": "Impostor", "identities": [{"kind": "email", "value": "ada@example.org"}]},
    )
    assert r.status_code == 409
    assert chrome.patch(f"/api/v1/interactions/{U(999)}", json={"note": "x"}).status_code == 404
    assert len(follow_feed(firefox)[0]) == before

    carol = _ok(
        firefox.post(
            "/api/v1/contacts",
            json={"name": "Carol", "identities": [{"kind": "email", "value": "carol@example.org"}]},
        ),
        201,
    )["id"]
    _ok(
        firefox.put(
            f"/api/v1/interactions/{U(4)}",
            json={"kind": "email", "contact_id": carol, "external_ref": "msg-1"},
        ),
        201,
    )
    # The same email message logged by the other browser under another id: the stored one.
    same = _ok(
        chrome.put(
            f"/api/v1/interactions/{U(5)}",
            json={"kind": "email", "contact_id": carol, "external_ref": "msg-1"},
        ),
        200,
    )
    assert same["interaction"]["id"] == U(4)
    _ok(chrome.put(f"/api/v1/interactions/{U(6)}", json={"kind": "meal", "contact_id": carol}))
    # Deleting a contact deletes its identities and interactions: tombstones for each.
    assert firefox.delete(f"/api/v1/contacts/{carol}").status_code == 204
    # Carol's address is free again: a new contact takes it.
    dan = _ok(
        chrome.put(
            f"/api/v1/interactions/{U(7)}",
            json={
                "kind": "video",
                "contact": {
                    "name": "Dan",
                    "identities": [{"kind": "email", "value": "carol@example.org"}],
                },
            },
        ),
        201,
    )["contact"]["id"]
    for n in range(8, 20):
        who = (ada, bob, dan)[n % 3]
        dev = (firefox, chrome)[n % 2]
        body = {"kind": ("meeting", "message", "event")[n % 3], "contact_id": who}
        body["occurred_at"] = _ago(n)
        if n % 4 == 0:
            body["favor"] = {"direction": "given", "value": 1 + n % 5}
        _ok(dev.put(f"/api/v1/interactions/{U(n)}", json=body), 201)
    _ok(firefox.patch(f"/api/v1/interactions/{U(9)}", json={"closeness": 5, "note": "warm"}))
    _ok(chrome.delete(f"/api/v1/interactions/{U(10)}"))
    return {"ada": ada, "bob": bob, "carol": carol, "dan": dan}


def _server_state(dev):
    contacts = _ok(dev.get("/api/v1/contacts?page_size=500"))["contacts"]
    interactions = {}
    for contact in contacts:
        for row in _ok(dev.get(f"/api/v1/contacts/{contact['id']}/interactions"))["interactions"]:
            assert row["id"] not in interactions, "an interaction listed twice"
            interactions[row["id"]] = row
    return {str(c["id"]): c for c in contacts}, interactions


def _assert_replay_matches(dev, changes):
    contacts, identities, interactions = replay(changes)
    live_contacts, live_interactions = _server_state(dev)

    assert set(contacts) == set(live_contacts)
    for key, live in live_contacts.items():
        mine = contacts[key]
        for field in ("id", "name", "identities", "notes", "created_at", "updated_at"):
            assert comparable(mine)[field] == comparable(live)[field], (key, field)
        for field in ("interaction_count", "reciprocity", "first_interaction_at"):
            assert mine["tie"][field] == live["tie"][field], (key, field)

    assert identities == {
        f"{i['kind']}:{i['value']}": {**i, "contact_id": c["id"]}
        for c in live_contacts.values()
        for i in c["identities"]
    }

    assert set(interactions) == set(live_interactions)
    for key, live in live_interactions.items():
        assert comparable(interactions[key]) == comparable(live), key


def test_following_the_feed_from_zero_rebuilds_contacts_and_interactions(device):
    firefox, chrome = device("Firefox on Linux"), device("Chrome on macOS")
    ids = _history(firefox, chrome)

    changes, cursor = follow_feed(chrome, since=0, limit=7)  # several pages
    assert len(changes) > 7 * 4
    assert {c["entity"] for c in changes} == {"contact", "identity", "interaction"}
    assert {c["op"] for c in changes} == {"upsert", "delete"}
    device_ids = {d["id"] for d in firefox.get("/api/v1/devices").get_json()["devices"]}
    assert {c["device_id"] for c in changes} == device_ids
    _assert_replay_matches(chrome, changes)

    # Tombstones: Carol, her identity and both her interactions are deleted in the feed.
    deleted = {(c["entity"], c["id"]) for c in changes if c["op"] == "delete"}
    assert ("contact", str(ids["carol"])) in deleted
    assert ("identity", "email:carol@example.org") in deleted
    assert {("interaction", U(4)), ("interaction", U(6)), ("interaction", U(3))} <= deleted
    # ... and Ada's dropped LinkedIn identity.
    assert ("identity", "linkedin:ada-lovelace") in deleted

    # At the end, the cursor stays put and nothing more comes.
    r = chrome.get(f"/api/v1/changes?since={cursor}").get_json()
    assert r == {"changes": [], "cursor": cursor, "has_more": False}

    # A browser that synced half-way and resumes from its cursor ends in the same state.
    half = changes[len(changes) // 2 - 1]["seq"]
    first, _ = follow_feed(firefox, since=0, limit=1000)
    rest, end = follow_feed(firefox, since=half, limit=3)
    assert [c["seq"] for c in first if c["seq"] > half] == [c["seq"] for c in rest]
    assert end == cursor

    # New writes extend the feed after the cursor, and only those come next time.
    firefox.put(f"/api/v1/interactions/{U(100)}", json={"kind": "call", "contact_id": ids["ada"]})
    more, _ = follow_feed(chrome, since=cursor)
    assert [(c["entity"], c["id"]) for c in more] == [
        ("interaction", U(100)),
        ("contact", str(ids["ada"])),
    ]
    _assert_replay_matches(chrome, changes + more)

    # A merge (Dan was Bob under another address) replays as the edits it made.
    _ok(firefox.post(f"/api/v1/contacts/{ids['bob']}/merge", json={"contact_id": ids["dan"]}))
    merged, _ = follow_feed(chrome, since=cursor)
    assert ("contact", str(ids["dan"])) in {(c["entity"], c["id"]) for c in merged}
    _assert_replay_matches(chrome, changes + merged)


def test_feed_arguments_are_validated(device):
    dev = device()
    for query in ("since=-1", "since=abc", "limit=0", "limit=1001"):
        r = dev.get(f"/api/v1/changes?{query}")
        assert r.status_code == 422, query
        assert r.get_json()["code"] == "unprocessable_entity"
    # A cursor from the future (another server's, say) is refused: the browser starts again.
    r = dev.get("/api/v1/changes?since=999999999")
    assert r.status_code == 410
    assert r.get_json()["code"] == "gone" and "since=0" in r.get_json()["message"]


def test_the_longest_identities_fit_in_the_feed(device):
    dev = device()
    email = "a" * 64 + "@" + ("b" * 60 + ".") * 3 + "ex.org"  # 254 characters
    slug = "s" * 200
    assert len(email) == 254
    r = dev.post(
        "/api/v1/contacts",
        json={
            "name": "Long",
            "identities": [{"kind": "email", "value": email}, {"kind": "linkedin", "value": slug}],
        },
    )
    assert r.status_code == 201, r.get_json()
    assert dev.delete(f"/api/v1/contacts/{r.get_json()['id']}").status_code == 204
    changes, _ = follow_feed(dev)
    ids = [(c["entity"], c["op"], c["id"]) for c in changes if c["entity"] == "identity"]
    assert ids == [
        ("identity", "upsert", f"email:{email}"),
        ("identity", "upsert", f"linkedin:{slug}"),
        ("identity", "delete", f"email:{email}"),
        ("identity", "delete", f"linkedin:{slug}"),
    ]
