"""Acceptance 4: two browsers editing the same interaction resolve deterministically (the last
write to reach the server wins), a delete wins over an older edit, and no version is lost:
every overwritten version stays in the changes feed."""

from datetime import UTC, datetime, timedelta

from synctools import assert_aggregates_match_rebuild, follow_feed, instant

ID = "5e0c8a52-1d4b-4c55-8b39-9a8f7e6d0001"
OTHER = "5e0c8a52-1d4b-4c55-8b39-9a8f7e6d0002"
CONTACT = {"name": "Grace", "identities": [{"kind": "email", "value": "grace@example.org"}]}


def _versions(changes, interaction_id):
    return [
        (c["op"], c["device_id"], c["data"])
        for c in changes
        if c["entity"] == "interaction" and c["id"] == interaction_id
    ]


def test_last_write_wins_and_the_overwritten_version_stays_in_the_feed(app, device):
    firefox, chrome = device("Firefox on Linux"), device("Chrome on macOS")
    ids = {d["name"]: d["id"] for d in firefox.get("/api/v1/devices").get_json()["devices"]}
    when = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    r = firefox.put(
        f"/api/v1/interactions/{ID}", json={"kind": "call", "contact": CONTACT, "occurred_at": when}
    )
    assert r.status_code == 201

    # Both browsers edited the same interaction while offline; their outboxes flush in turn.
    a = firefox.patch(
        f"/api/v1/interactions/{ID}",
        json={"note": "from Firefox", "closeness": 2, "favor": {"direction": "given", "value": 4}},
    )
    b = chrome.patch(
        f"/api/v1/interactions/{ID}",
        json={"note": "from Chrome", "closeness": 5, "kind": "meal"},
    )
    assert a.status_code == 200 and b.status_code == 200
    # Last write by server time wins, whole fields at a time: Chrome's fields, and Firefox's
    # favour, which Chrome did not touch.
    final = b.get_json()["interaction"]
    assert (final["note"], final["closeness"], final["kind"]) == ("from Chrome", 5, "meal")
    assert final["favor"] == {"direction": "given", "value": 4}
    assert instant(final["updated_at"]) >= instant(a.get_json()["interaction"]["updated_at"])
    listed = chrome.get(f"/api/v1/contacts/{final['contact_id']}/interactions").get_json()
    assert listed["interactions"] == [final]

    # Nothing silently lost: both versions are in the feed, in the order they won.
    changes, _ = follow_feed(firefox)
    versions = _versions(changes, ID)
    assert [(op, dev) for op, dev, _ in versions] == [
        ("upsert", ids["Firefox on Linux"]),
        ("upsert", ids["Firefox on Linux"]),
        ("upsert", ids["Chrome on macOS"]),
    ]
    assert versions[1][2]["note"] == "from Firefox" and versions[1][2]["closeness"] == 2
    assert versions[2][2] == {**final, "id": ID}
    # ... and the tie counts Chrome's version only.
    tie = b.get_json()["tie"]
    assert tie["interaction_count"] == 1
    assert tie["reciprocity"]["given_value"] == 4
    assert_aggregates_match_rebuild(app)

    # The same two edits in the other order give the other winner: the rule is the order.
    firefox.put(f"/api/v1/interactions/{OTHER}", json={"kind": "call", "contact": CONTACT})
    chrome.patch(f"/api/v1/interactions/{OTHER}", json={"note": "from Chrome"})
    r = firefox.patch(f"/api/v1/interactions/{OTHER}", json={"note": "from Firefox"})
    assert r.get_json()["interaction"]["note"] == "from Firefox"


def test_a_delete_wins_over_an_older_edit(app, device):
    firefox, chrome = device("Firefox on Linux"), device("Chrome on macOS")
    r = firefox.put(
        f"/api/v1/interactions/{ID}",
        json={"kind": "coffee", "contact": CONTACT, "favor": {"direction": "received", "value": 3}},
    )
    assert r.status_code == 201
    contact_id = r.get_json()["contact"]["id"]
    firefox.put(f"/api/v1/interactions/{OTHER}", json={"kind": "email", "contact_id": contact_id})

    # Firefox deletes it; Chrome, which had not synced yet, edits it afterwards.
    r = firefox.delete(f"/api/v1/interactions/{ID}")
    assert r.status_code == 200 and r.get_json()["interaction"]["deleted_at"] is not None
    r = chrome.patch(f"/api/v1/interactions/{ID}", json={"note": "edited offline"})
    assert r.status_code == 409
    assert r.get_json()["code"] == "conflict" and "delete" in r.get_json()["message"]

    # It stays deleted: not listed, not counted; a replayed create does not bring it back.
    listed = chrome.get(f"/api/v1/contacts/{contact_id}/interactions").get_json()["interactions"]
    assert [row["id"] for row in listed] == [OTHER]
    r = chrome.put(f"/api/v1/interactions/{ID}", json={"kind": "coffee", "contact_id": contact_id})
    assert r.status_code == 200 and r.get_json()["interaction"]["deleted_at"] is not None
    assert r.get_json()["tie"]["interaction_count"] == 1
    assert r.get_json()["tie"]["reciprocity"]["received"] == 0
    # Deleting twice is harmless and adds no second tombstone.
    assert chrome.delete(f"/api/v1/interactions/{ID}").status_code == 200

    changes, _ = follow_feed(chrome)
    versions = _versions(changes, ID)
    assert [op for op, _, _ in versions] == ["upsert", "delete"]
    assert versions[-1][2]["deleted_at"] is not None
    assert all(
        c["data"]["note"] != "edited offline" for c in changes if c["entity"] == "interaction"
    )
    assert_aggregates_match_rebuild(app)


def test_edits_to_a_deleted_contacts_interactions_conflict(device):
    firefox, chrome = device("Firefox on Linux"), device("Chrome on macOS")
    r = firefox.put(f"/api/v1/interactions/{ID}", json={"kind": "call", "contact": CONTACT})
    contact_id = r.get_json()["contact"]["id"]
    assert firefox.delete(f"/api/v1/contacts/{contact_id}").status_code == 204
    r = chrome.patch(f"/api/v1/interactions/{ID}", json={"note": "late"})
    assert r.status_code == 409
    assert chrome.patch(f"/api/v1/contacts/{contact_id}", json={"name": "X"}).status_code == 404
    r = chrome.put(f"/api/v1/interactions/{OTHER}", json={"kind": "call", "contact_id": contact_id})
    assert r.status_code == 404
