"""Logging interactions: idempotent PUT with inline contact creation, external_ref
de-duplication, and POST/PATCH/DELETE each answering with the updated tie."""

from datetime import UTC, datetime, timedelta

from server_helpers import JANE, assert_error, new_id

TIE_FIELDS = {
    "score",
    "band",
    "layer",
    "rank",
    "components",
    "last_interaction",
    "reciprocity",
    "interaction_count",
    "first_interaction_at",
    "trend_30d",
}


def days_ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def assert_tie(tie: dict) -> None:
    assert TIE_FIELDS <= set(tie), tie
    assert 0 <= tie["score"] <= 100
    assert tie["band"] in ("strong", "medium", "weak", "dormant")
    assert tie["layer"] in (5, 15, 50, 150, 500, 1500)
    assert set(tie["components"]) == {
        "frequency",
        "recency",
        "emotional",
        "reciprocity",
        "duration",
    }
    assert all(0 <= v <= 1 for v in tie["components"].values())
    assert {"given", "received", "balance"} <= set(tie["reciprocity"])


def test_first_log_creates_the_contact_and_answers_the_tie(api, log):
    body = log(
        "coffee",
        contact={
            "name": "Jane Doe",
            "identities": [
                {"kind": "linkedin", "value": "https://de.linkedin.com/in/Jane-Doe/details/x/"},
                {"kind": "email", "value": " Jane@Example.COM "},
            ],
        },
        note="Talked about the Berlin office",
        initiated_by="them",
        closeness=4,
        favor={"direction": "received", "value": 2},
        external_ref="<msg-1@example.com>",
    )
    interaction, contact, tie = body["interaction"], body["contact"], body["tie"]
    assert interaction["kind"] == "coffee"
    assert interaction["note"] == "Talked about the Berlin office"
    assert interaction["initiated_by"] == "them"
    assert interaction["closeness"] == 4
    assert interaction["favor"] == {"direction": "received", "value": 2}
    assert interaction["external_ref"] == "<msg-1@example.com>"
    assert interaction["contact_id"] == contact["id"]
    assert interaction["deleted_at"] is None
    assert contact["name"] == "Jane Doe"
    assert contact["identities"] == [
        {"kind": "email", "value": "jane@example.com"},
        {"kind": "linkedin", "value": "jane-doe"},
    ]
    assert_tie(tie)
    assert tie == contact["tie"]
    assert tie["interaction_count"] == 1
    assert tie["score"] > 0
    assert tie["reciprocity"] == {
        "given": 0,
        "received": 1,
        "given_value": 0,
        "received_value": 2,
        "balance": -2,
    }
    assert tie["last_interaction"]["kind"] == "coffee"
    assert tie["last_interaction"]["note"] == "Talked about the Berlin office"
    assert tie["last_interaction"]["days_ago"] == 0
    # occurred_at defaults to now.
    when = datetime.fromisoformat(interaction["occurred_at"])
    assert abs((datetime.now(UTC) - when).total_seconds()) < 60


def test_put_replay_returns_200_and_changes_nothing(api, log, table_counts, changes):
    interaction_id = new_id()
    first = log("call", id=interaction_id, note="first")
    counts, feed = table_counts(), changes()
    stored = api.get(f"/api/v1/contacts/{first['contact']['id']}").json

    again = log("call", id=interaction_id, note="first", expect=200)
    assert again["interaction"] == first["interaction"]
    assert table_counts() == counts
    assert changes() == feed
    # A replay with a different body still changes nothing: the stored version stands.
    other = log("meal", id=interaction_id, note="edited?", expect=200)
    assert other["interaction"] == first["interaction"]
    assert table_counts() == counts
    assert len(changes()) == len(feed)
    after = api.get(f"/api/v1/contacts/{first['contact']['id']}").json
    assert after["tie"]["interaction_count"] == stored["tie"]["interaction_count"] == 1
    assert after["tie"]["score"] == stored["tie"]["score"]


def test_inline_contact_reuses_the_contact_holding_the_identity(api, log):
    a = log("email", contact=JANE)
    b = log(
        "call",
        contact={"name": "J. Doe", "identities": [{"kind": "email", "value": "JANE@example.com"}]},
    )
    assert b["contact"]["id"] == a["contact"]["id"]
    assert b["contact"]["name"] == "Jane Doe"  # the inline name does not rename her
    assert b["tie"]["interaction_count"] == 2
    # A new identity shown beside a known one is linked to her (exact identifiers only).
    c = log(
        "video",
        contact={
            "name": "Jane",
            "identities": [
                {"kind": "email", "value": "jane@example.com"},
                {"kind": "linkedin", "value": "linkedin.com/in/janedoe"},
            ],
        },
    )
    assert c["contact"]["id"] == a["contact"]["id"]
    r = api.get("/api/v1/lookup?linkedin=https://www.linkedin.com/in/JaneDoe/")
    assert r.json["contact"]["id"] == a["contact"]["id"]
    assert api.get("/api/v1/contacts").json["total"] == 1


def test_inline_identities_of_two_different_contacts_are_a_conflict(api, log, table_counts):
    log(contact={"name": "A", "identities": [{"kind": "email", "value": "a@example.com"}]})
    log(contact={"name": "B", "identities": [{"kind": "email", "value": "b@example.com"}]})
    counts = table_counts()
    r = api.put(
        f"/api/v1/interactions/{new_id()}",
        json={
            "kind": "call",
            "contact": {
                "name": "AB",
                "identities": [
                    {"kind": "email", "value": "a@example.com"},
                    {"kind": "email", "value": "b@example.com"},
                ],
            },
        },
    )
    assert_error(r, 409)
    assert table_counts() == counts


def test_external_ref_is_recorded_once_per_contact(api, log, table_counts, changes):
    first = log("email", external_ref="<CAF=abc@mail.gmail.com>")
    counts, feed = table_counts(), changes()
    dup = log("email", external_ref="<CAF=abc@mail.gmail.com>", expect=200)
    assert dup["interaction"]["id"] == first["interaction"]["id"]
    assert dup["tie"]["interaction_count"] == 1
    # Nothing is logged; only the request's id is remembered as that interaction's.
    assert table_counts() == {**counts, "interaction_aliases": 1}
    assert changes() == feed
    # The same message with someone else is that person's interaction.
    bob = {"name": "Bob", "identities": [{"kind": "email", "value": "bob@example.com"}]}
    other = log("email", contact=bob, external_ref="<CAF=abc@mail.gmail.com>")
    assert other["interaction"]["id"] != first["interaction"]["id"]
    # A different message with Jane is a new interaction.
    assert log("email", external_ref="<other@mail>")["tie"]["interaction_count"] == 2
    # Logged again with a server-assigned id: the same answer, 200 (not created).
    again = api.post(
        "/api/v1/interactions",
        json={"kind": "email", "contact": JANE, "external_ref": "<CAF=abc@mail.gmail.com>"},
    )
    assert again.status_code == 200
    assert again.json["interaction"]["id"] == first["interaction"]["id"]


def test_a_blank_external_ref_is_no_ref(api, log, changes):
    """An empty or white-space ref names no message: stored as null; two logs with it are two."""
    for blank in ("", "   ", "\t\n"):
        first = log("email", external_ref=blank)
        second = log("email", external_ref=blank)
        assert first["interaction"]["external_ref"] is None
        assert second["interaction"]["id"] != first["interaction"]["id"]
        stored = api.get(f"/api/v1/contacts/{first['contact']['id']}/interactions").json
        assert {i["external_ref"] for i in stored["interactions"]} == {None}
    assert {c["data"]["external_ref"] for c in changes() if c["entity"] == "interaction"} == {None}
    # An edit to a blank ref clears the ref.
    ref = log("email", external_ref="<CAF=abc@mail.gmail.com>")["interaction"]["id"]
    r = api.patch(f"/api/v1/interactions/{ref}", json={"external_ref": " "})
    assert r.status_code == 200 and r.json["interaction"]["external_ref"] is None


def test_post_logs_with_a_server_id_and_the_tie_grows(api, log):
    first = log("email", occurred_at=days_ago(20))
    contact_id = first["contact"]["id"]
    r = api.post(
        "/api/v1/interactions",
        json={"contact_id": contact_id, "kind": "meal", "closeness": 5, "note": "dinner"},
    )
    assert r.status_code == 201, r.json
    assert r.json["interaction"]["id"] not in (None, first["interaction"]["id"])
    assert_tie(r.json["tie"])
    assert r.json["tie"]["interaction_count"] == 2
    assert r.json["tie"]["score"] > first["tie"]["score"]
    assert r.json["tie"]["last_interaction"]["note"] == "dinner"
    # Each POST is a new interaction (no idempotency key).
    again = api.post("/api/v1/interactions", json={"contact_id": contact_id, "kind": "meal"})
    assert again.json["tie"]["interaction_count"] == 3


def test_patch_answers_the_recomputed_tie(api, log):
    old = log("email", occurred_at=days_ago(200), note="old")
    new = log("call", occurred_at=days_ago(1), note="recent")
    assert new["tie"]["last_interaction"]["note"] == "recent"
    score_before = new["tie"]["score"]

    r = api.patch(
        f"/api/v1/interactions/{old['interaction']['id']}",
        json={"favor": {"direction": "given", "value": 4}, "closeness": 5},
    )
    assert r.status_code == 200, r.json
    assert r.json["interaction"]["favor"] == {"direction": "given", "value": 4}
    assert r.json["tie"]["reciprocity"]["given"] == 1
    assert r.json["tie"]["reciprocity"]["balance"] == 4
    assert r.json["tie"]["score"] > score_before

    # Moving the recent one far back: the old one is now the last interaction.
    r = api.patch(
        f"/api/v1/interactions/{new['interaction']['id']}", json={"occurred_at": days_ago(400)}
    )
    assert r.status_code == 200
    assert r.json["tie"]["last_interaction"]["note"] == "old"
    assert r.json["tie"]["last_interaction"]["days_ago"] == 200
    assert r.json["tie"]["interaction_count"] == 2


def test_patch_can_move_an_interaction_to_another_contact(api, log):
    jane = log("coffee")
    bob = log("call", contact={"name": "Bob", "identities": [{"kind": "email", "value": "b@x.io"}]})
    r = api.patch(
        f"/api/v1/interactions/{jane['interaction']['id']}",
        json={"contact_id": bob["contact"]["id"]},
    )
    assert r.status_code == 200
    assert r.json["tie"]["interaction_count"] == 2
    assert (
        api.get(f"/api/v1/contacts/{jane['contact']['id']}").json["tie"]["interaction_count"] == 0
    )


def test_delete_answers_the_tie_without_it_and_keeps_a_tombstone(api, log, changes):
    keep = log("call", occurred_at=days_ago(10), note="keep")
    gone = log("meal", note="gone", favor={"direction": "given", "value": 3})
    assert gone["tie"]["last_interaction"]["note"] == "gone"

    r = api.delete(f"/api/v1/interactions/{gone['interaction']['id']}")
    assert r.status_code == 200
    assert r.json["interaction"]["deleted_at"] is not None
    tie = r.json["tie"]
    assert_tie(tie)
    assert tie["interaction_count"] == 1
    assert tie["last_interaction"]["note"] == "keep"
    assert tie["reciprocity"]["given"] == 0
    assert tie["score"] == api.get(f"/api/v1/contacts/{keep['contact']['id']}").json["tie"]["score"]

    listed = api.get(f"/api/v1/contacts/{keep['contact']['id']}/interactions").json
    assert [i["note"] for i in listed["interactions"]] == ["keep"]
    tombstones = [c for c in changes() if c["entity"] == "interaction" and c["op"] == "delete"]
    assert [c["id"] for c in tombstones] == [gone["interaction"]["id"]]

    # Deleting again changes nothing; editing a deleted interaction is refused.
    feed = changes()
    assert api.delete(f"/api/v1/interactions/{gone['interaction']['id']}").status_code == 200
    assert changes() == feed
    r = api.patch(f"/api/v1/interactions/{gone['interaction']['id']}", json={"note": "x"})
    assert_error(r, 409)
    # Its id stays taken: replaying its PUT does not resurrect it.
    again = api.put(
        f"/api/v1/interactions/{gone['interaction']['id']}", json={"kind": "meal", "contact": JANE}
    )
    assert again.status_code == 200
    assert again.json["interaction"]["deleted_at"] is not None
    assert again.json["tie"]["interaction_count"] == 1


def test_deleting_the_only_interaction_empties_the_tie(api, log):
    only = log("coffee")
    r = api.delete(f"/api/v1/interactions/{only['interaction']['id']}")
    tie = r.json["tie"]
    assert tie["interaction_count"] == 0
    assert tie["score"] == 0
    assert tie["last_interaction"] is None
    assert tie["first_interaction_at"] is None


def test_contact_interactions_are_listed_newest_first(api, log):
    for days, note in ((30, "b"), (1, "c"), (90, "a")):
        contact_id = log("call", occurred_at=days_ago(days), note=note)["contact"]["id"]
    r = api.get(f"/api/v1/contacts/{contact_id}/interactions")
    assert [i["note"] for i in r.json["interactions"]] == ["c", "b", "a"]


def test_occurred_at_without_offset_is_utc_and_offsets_are_converted(api, log):
    a = log("call", occurred_at="2024-03-01T10:00:00")
    b = log("call", occurred_at="2024-03-01T12:00:00+02:00")
    for body in (a, b):
        when = datetime.fromisoformat(body["interaction"]["occurred_at"])
        assert when == datetime(2024, 3, 1, 10, tzinfo=UTC)


def test_an_interaction_at_the_first_instant_allowed_is_the_first_interaction(api, log):
    """1970-01-01T00:00Z (the earliest occurred_at taken) is epoch second 0: still a time."""
    body = log("call", occurred_at="1970-01-01T00:00:00Z")
    contact_id = body["contact"]["id"]
    for tie in (body["tie"], api.get(f"/api/v1/contacts/{contact_id}").json["tie"]):
        assert tie["interaction_count"] == 1
        assert datetime.fromisoformat(tie["first_interaction_at"]) == datetime(
            1970, 1, 1, tzinfo=UTC
        )
    tie = log("call", contact_id=contact_id)["tie"]
    assert datetime.fromisoformat(tie["first_interaction_at"]) == datetime(1970, 1, 1, tzinfo=UTC)


def test_a_long_history_is_read_page_by_page(api, log):
    """Keyset pages, newest first: together they give every live interaction once, in order,
    also when several share an instant; the last page says there is no next one."""
    contact_id = log("call", occurred_at=days_ago(40), note="0")["contact"]["id"]
    same_instant = days_ago(3)
    for n in range(1, 8):
        when = same_instant if n in (3, 4, 5) else days_ago(40 - n)
        log("call", contact_id=contact_id, occurred_at=when, note=str(n))
    gone = log("call", contact_id=contact_id, occurred_at=days_ago(2), note="gone")
    api.delete(f"/api/v1/interactions/{gone['interaction']['id']}")
    everything = api.get(f"/api/v1/contacts/{contact_id}/interactions").json
    assert everything["next"] is None
    assert len(everything["interactions"]) == 8

    seen, before = [], None
    for _ in range(10):
        query = f"limit=3&before={before}" if before else "limit=3"
        page = api.get(f"/api/v1/contacts/{contact_id}/interactions?{query}").json
        assert len(page["interactions"]) <= 3
        seen += page["interactions"]
        before = page["next"]
        if before is None:
            break
    assert [i["id"] for i in seen] == [i["id"] for i in everything["interactions"]]
    assert len({i["id"] for i in seen}) == 8
    when = [(i["occurred_at"], i["id"]) for i in seen]
    assert [w for w, _ in when] == sorted((w for w, _ in when), reverse=True)
    assert "gone" not in {i["note"] for i in seen}


def test_a_page_cursor_must_be_one_of_the_contacts_interactions(api, log):
    mine = log("call")["contact"]["id"]
    other = log(
        "call", contact={"name": "Bo", "identities": [{"kind": "email", "value": "bo@x.io"}]}
    )
    base = f"/api/v1/contacts/{mine}/interactions"
    assert_error(api.get(f"{base}?before={other['interaction']['id']}"), 422, "before")
    assert_error(api.get(f"{base}?before={new_id()}"), 422, "before")
    assert_error(api.get(f"{base}?before=not-a-uuid"), 422, "before")
    assert_error(api.get(f"{base}?limit=0"), 422, "limit")
    assert_error(api.get(f"{base}?limit=501"), 422, "limit")


def test_a_replay_after_its_contact_was_deleted_is_gone_not_a_live_contact(
    api, log, table_counts, changes
):
    """Deleting a contact deletes its interactions: a replay of one of their PUTs (a browser
    that never got the first answer) must not show the contact as if it were still there, or a
    browser would cache it again; it is a 410 that says why, and changes nothing."""
    interaction_id = new_id()
    body = {"kind": "coffee", "contact": JANE, "note": "first"}
    first = api.put(f"/api/v1/interactions/{interaction_id}", json=body)
    assert first.status_code == 201
    contact_id = first.json["contact"]["id"]
    assert api.delete(f"/api/v1/contacts/{contact_id}").status_code == 204
    counts, feed = table_counts(), changes()

    for replay in (
        lambda: api.put(f"/api/v1/interactions/{interaction_id}", json=body),
        lambda: api.delete(f"/api/v1/interactions/{interaction_id}"),
    ):
        error = assert_error(replay(), 410)
        assert "deleted" in error["message"] and str(contact_id) in error["message"]
        assert table_counts() == counts
        assert changes() == feed
    assert api.get(f"/api/v1/contacts/{contact_id}").status_code == 404
    assert api.get("/api/v1/lookup?email=jane@example.com").json["contact"] is None


def test_a_replay_after_its_contact_was_merged_shows_the_contact_it_became(api, log):
    """An interaction deleted (undone) before its contact was merged into another: its replay
    answers the interaction as stored, with the contact it lives on as now."""
    ana = {"name": "Ana", "identities": [{"kind": "email", "value": "ana@example.com"}]}
    into = log("call", contact=ana)["contact"]["id"]
    interaction_id = new_id()
    body = {"kind": "coffee", "contact": JANE}
    other = api.put(f"/api/v1/interactions/{interaction_id}", json=body).json["contact"]["id"]
    api.delete(f"/api/v1/interactions/{interaction_id}")
    assert api.post(f"/api/v1/contacts/{into}/merge", json={"contact_id": other}).status_code == 200

    again = api.put(f"/api/v1/interactions/{interaction_id}", json=body)
    assert again.status_code == 200, again.json
    assert again.json["interaction"]["deleted_at"] is not None
    assert again.json["contact"]["id"] == into
    assert again.json["tie"]["interaction_count"] == 1
    gone = api.delete(f"/api/v1/interactions/{interaction_id}")
    assert gone.status_code == 200 and gone.json["contact"]["id"] == into


def test_an_id_answered_with_an_earlier_log_stays_bound_to_it(api, log, table_counts, changes):
    """A log of an email already logged is answered with the stored interaction: its own id is
    remembered as that interaction's, so a retry of it (a browser that lost the answer) never
    logs a second one, even after the first was undone."""
    ref = "<CAF=retry@mail.gmail.com>"
    first = log("email", external_ref=ref)
    second_id = new_id()
    body = {"kind": "email", "contact": JANE, "external_ref": ref}
    dup = api.put(f"/api/v1/interactions/{second_id}", json=body)
    assert dup.status_code == 200
    assert dup.json["interaction"]["id"] == first["interaction"]["id"]

    undone = api.delete(f"/api/v1/interactions/{first['interaction']['id']}")
    assert undone.status_code == 200
    counts, feed = table_counts(), changes()
    for again in (body, {**body, "note": "edited?"}):
        retry = api.put(f"/api/v1/interactions/{second_id}", json=again)
        assert retry.status_code == 200, retry.json
        assert retry.json["interaction"]["id"] == first["interaction"]["id"]
        assert retry.json["interaction"]["deleted_at"] is not None
        assert retry.json["tie"]["interaction_count"] == 0
        assert table_counts() == counts
        assert changes() == feed
    # The bound id is no interaction of its own, and another user's log cannot take it.
    assert_error(api.patch(f"/api/v1/interactions/{second_id}", json={"note": "x"}), 404)
    # A new log of the same email, under a new id, is a new interaction.
    assert log("email", external_ref=ref)["tie"]["interaction_count"] == 1


def test_an_id_bound_to_an_earlier_log_is_not_another_users(api, log, other_api):
    ref = "<CAF=bound@mail.gmail.com>"
    log("email", external_ref=ref)
    bound = new_id()
    api.put(
        f"/api/v1/interactions/{bound}",
        json={"kind": "email", "contact": JANE, "external_ref": ref},
    )
    r = other_api.put(f"/api/v1/interactions/{bound}", json={"kind": "call", "contact": JANE})
    assert_error(r, 409)


def test_an_edit_cannot_log_the_same_message_twice_for_a_contact(api, log, table_counts, changes):
    """The same email message (external_ref) is one interaction per contact: an edit that gives
    an interaction the ref another one of its contact holds, or moves it to a contact that
    holds its ref, is a 409 naming that interaction, and changes nothing."""
    ref = "<CAF=once@mail.gmail.com>"
    first = log("email", external_ref=ref)
    other = log("call")
    bob = {"name": "Bob", "identities": [{"kind": "email", "value": "bob@example.com"}]}
    bobs = log("email", contact=bob, external_ref=ref)
    counts, feed = table_counts(), changes()

    path = f"/api/v1/interactions/{other['interaction']['id']}"
    error = assert_error(api.patch(path, json={"external_ref": ref}), 409)
    assert first["interaction"]["id"] in error["message"]
    path = f"/api/v1/interactions/{bobs['interaction']['id']}"
    moved = api.patch(path, json={"contact_id": first["contact"]["id"]})
    assert first["interaction"]["id"] in assert_error(moved, 409)["message"]
    assert table_counts() == counts
    assert changes() == feed
    # Another edit of an interaction that keeps its ref is an edit like any other.
    r = api.patch(f"/api/v1/interactions/{first['interaction']['id']}", json={"note": "kept"})
    assert r.status_code == 200 and r.json["interaction"]["external_ref"] == ref
    # Once the first is deleted, the ref is free for another of the contact's interactions.
    api.delete(f"/api/v1/interactions/{first['interaction']['id']}")
    r = api.patch(f"/api/v1/interactions/{other['interaction']['id']}", json={"external_ref": ref})
    assert r.status_code == 200 and r.json["tie"]["interaction_count"] == 1
