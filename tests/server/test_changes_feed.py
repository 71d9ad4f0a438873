"""The sync feed: every write in commit order, paged by a cursor, deletes as tombstones."""

from server_helpers import JANE, assert_error
from sqlalchemy import select

from api.models import User, db


def page_through(api, limit: int) -> list[dict]:
    seen, cursor = [], 0
    while True:
        r = api.get(f"/api/v1/changes?since={cursor}&limit={limit}")
        assert r.status_code == 200
        body = r.json
        assert len(body["changes"]) <= limit
        seen += body["changes"]
        if body["changes"]:
            assert body["cursor"] == body["changes"][-1]["seq"]
        else:
            assert body["cursor"] == cursor
        cursor = body["cursor"]
        if not body["has_more"]:
            return seen
        assert len(body["changes"]) == limit


def test_an_empty_feed(api):
    r = api.get("/api/v1/changes?since=0")
    assert r.json == {"changes": [], "cursor": 0, "has_more": False}


def test_writes_appear_in_commit_order_with_full_snapshots(api, log, changes):
    first = log("coffee", note="v1")
    interaction_id = first["interaction"]["id"]
    api.patch(f"/api/v1/interactions/{interaction_id}", json={"note": "v2"})
    feed = changes()
    seqs = [c["seq"] for c in feed]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert {"seq", "entity", "op", "id", "at", "device_id", "data"} <= set(feed[0])
    kinds = [(c["entity"], c["op"]) for c in feed]
    assert kinds[0] == ("identity", "upsert")  # the inline contact came first
    assert ("contact", "upsert") in kinds
    versions = [c for c in feed if c["entity"] == "interaction"]
    # Both versions stay visible: the overwritten one is not lost.
    assert [v["data"]["note"] for v in versions] == ["v1", "v2"]
    assert all(v["id"] == interaction_id and v["op"] == "upsert" for v in versions)
    contact_rows = [c for c in feed if c["entity"] == "contact"]
    assert contact_rows[-1]["data"]["name"] == "Jane Doe"
    assert contact_rows[-1]["data"]["tie"]["interaction_count"] == 1
    devices = api.get("/api/v1/devices").json["devices"]
    assert {c["device_id"] for c in feed} == {devices[0]["id"]}


def test_paging_with_a_cursor_gives_every_change_once(api, log, changes):
    for i in range(4):
        log("email", note=f"n{i}")
    everything = changes()
    assert len(everything) >= 8
    for limit in (1, 3, 7, len(everything)):
        assert page_through(api, limit) == everything, limit
    # Resuming from the middle gives exactly the rest.
    middle = everything[len(everything) // 2 - 1]["seq"]
    rest = api.get(f"/api/v1/changes?since={middle}&limit=1000").json["changes"]
    assert rest == everything[len(everything) // 2 :]


def test_new_writes_follow_the_cursor(api, log):
    log("call")
    cursor = api.get("/api/v1/changes?since=0").json["cursor"]
    assert api.get(f"/api/v1/changes?since={cursor}").json["changes"] == []
    later = log("meal", note="later")
    new = api.get(f"/api/v1/changes?since={cursor}").json
    assert [c["seq"] > cursor for c in new["changes"]] == [True] * len(new["changes"])
    assert later["interaction"]["id"] in [c["id"] for c in new["changes"]]


def test_deletes_are_tombstones(api, log, changes):
    a = log("call", note="a")
    log("meal", note="b")
    api.delete(f"/api/v1/interactions/{a['interaction']['id']}")
    tomb = [c for c in changes() if c["op"] == "delete"]
    assert [(c["entity"], c["id"]) for c in tomb] == [("interaction", a["interaction"]["id"])]
    assert tomb[0]["data"]["deleted_at"] is not None

    contact_id = a["contact"]["id"]
    assert api.delete(f"/api/v1/contacts/{contact_id}").status_code == 204
    tomb = [(c["entity"], c["id"]) for c in changes() if c["op"] == "delete"]
    assert ("contact", str(contact_id)) in tomb
    assert ("identity", "email:jane@example.com") in tomb


def test_feed_belongs_to_its_user(api, other_api, log):
    log("call", contact=JANE)
    assert other_api.get("/api/v1/changes?since=0").json["changes"] == []


def test_bad_cursor_arguments_are_422(api):
    for query in ("since=-1", "since=abc", "limit=0", "limit=1001"):
        assert_error(api.get(f"/api/v1/changes?{query}"), 422, query.split("=")[0])


def test_a_cursor_past_the_newest_change_is_410_so_the_browser_starts_again(
    api, other_api, log, changes
):
    """A cursor beyond the feed's newest seq was not handed out by this ledger (it was restored
    from an older backup, say): trusting it would skip every change until the feed caught up."""
    r = api.get("/api/v1/changes?since=1")
    assert "since=0" in assert_error(r, 410, "since")["message"]
    log("coffee")
    newest = changes()[-1]["seq"]
    r = api.get(f"/api/v1/changes?since={newest}")
    assert r.status_code == 200 and r.json == {"changes": [], "cursor": newest, "has_more": False}
    for since in (newest + 1, 2**62):
        assert_error(api.get(f"/api/v1/changes?since={since}"), 410, "since")
    # Another user's later writes do not make their seqs a cursor of this feed.
    r = other_api.put(
        "/api/v1/interactions/" + "6f1e0000-0000-4000-8000-000000000001",
        json={"kind": "call", "contact": JANE},
    )
    assert r.status_code == 201
    theirs = other_api.get("/api/v1/changes?since=0").json["cursor"]
    assert theirs > newest
    assert_error(api.get(f"/api/v1/changes?since={theirs}"), 410, "since")
    assert other_api.get(f"/api/v1/changes?since={theirs}").status_code == 200


def test_a_first_log_records_its_new_contact_once_with_its_tie(log, changes):
    log("coffee")
    contact_rows = [c for c in changes() if c["entity"] == "contact"]
    assert len(contact_rows) == 1
    assert contact_rows[0]["data"]["tie"]["interaction_count"] == 1


def test_new_settings_are_in_the_feed_so_browsers_drop_old_scores(api, log, changes):
    """Every score is recomputed under new settings: the feed says so once, with the settings
    in force, after the writes before it (a browser then drops the ties it cached)."""
    log("call", contact=JANE)
    before = changes()
    r = api.patch("/api/v1/settings", json={"recency_half_life_days": 5})
    assert r.status_code == 200
    after = changes()
    assert after[: len(before)] == before
    (entry,) = after[len(before) :]
    assert (entry["entity"], entry["id"], entry["op"]) == ("settings", "model", "upsert")
    assert entry["data"] == api.get("/api/v1/settings").json
    assert entry["data"]["recency_half_life_days"] == 5
    # Refused settings change nothing, not even the feed.
    assert api.patch("/api/v1/settings", json={"recency_half_life_days": 0}).status_code == 422
    assert changes() == after


def scores_refreshed_at(app):
    with app.app_context():
        return db.session.scalar(select(User.scores_refreshed_at))


def test_an_edit_that_changes_nothing_writes_nothing(app, api, log, changes, table_counts):
    """A PATCH whose fields all equal the stored ones (a browser resending an edit, say) is a
    200 with the object as it is: no feed entry (browsers would refetch for nothing), no new
    updated_at, no rescoring."""
    jane = api.post(
        "/api/v1/contacts",
        json={
            "name": "Jane Doe",
            "notes": "met at PyCon",
            "identities": [
                {"kind": "email", "value": "jane@example.com"},
                {"kind": "linkedin", "value": "jane-doe"},
            ],
        },
    ).json
    logged = log("coffee", contact_id=jane["id"], note="flat white", closeness=4)
    row = logged["interaction"]
    api.patch("/api/v1/settings", json={"recency_half_life_days": 30})
    before, counts, refreshed = changes(), table_counts(), scores_refreshed_at(app)
    contact_path, interaction_path = (
        f"/api/v1/contacts/{jane['id']}",
        f"/api/v1/interactions/{row['id']}",
    )
    stored_contact = api.get(contact_path).json

    same_contact = [
        {},
        {"name": " Jane Doe "},
        {"notes": "met at PyCon"},
        {"identities": list(reversed(jane["identities"]))},
        {"name": "Jane Doe", "notes": "met at PyCon", "identities": jane["identities"]},
    ]
    for body in same_contact:
        r = api.patch(contact_path, json=body)
        assert r.status_code == 200, r.json
        assert r.json["updated_at"] == stored_contact["updated_at"], body
        assert r.json["identities"] == stored_contact["identities"]
    same_interaction = [
        {},
        {"note": "flat white"},
        {"kind": "coffee", "closeness": 4, "contact_id": jane["id"], "favor": None},
        {"occurred_at": row["occurred_at"].replace("+00:00", "Z")},
    ]
    for body in same_interaction:
        r = api.patch(interaction_path, json=body)
        assert r.status_code == 200, r.json
        assert r.json["interaction"] == row, body
    for body in ({}, {"recency_half_life_days": 30}, {"weights": {"emotional": 0.3}}):
        r = api.patch("/api/v1/settings", json=body)
        assert r.status_code == 200, r.json
        assert r.json["recency_half_life_days"] == 30
    assert changes() == before
    assert table_counts() == counts
    assert scores_refreshed_at(app) == refreshed

    # A real change still writes, once.
    r = api.patch(contact_path, json={"name": "Jane Roe", "notes": "met at PyCon"})
    assert r.json["updated_at"] > stored_contact["updated_at"]
    assert [(c["entity"], c["op"]) for c in changes()[len(before) :]] == [("contact", "upsert")]


def test_an_email_logged_again_with_an_identity_more_says_so_in_the_feed(api, log, changes):
    """The same message logged again from a page that also shows the person's profile: the
    stored interaction comes back (200) and the contact now holds the profile, as a lookup of
    it shows. The feed carries the contact as it now is, so a browser following it knows the
    profile too."""
    first = log("email", external_ref="<m1@mail>")
    with_profile = {
        **JANE,
        "identities": [*JANE["identities"], {"kind": "linkedin", "value": "jane"}],
    }
    again = log("email", contact=with_profile, external_ref="<m1@mail>", expect=200)
    assert again["interaction"]["id"] == first["interaction"]["id"]
    contact = api.get("/api/v1/lookup?linkedin=jane").json["contact"]
    assert contact["id"] == first["contact"]["id"]
    latest = [c for c in changes() if c["entity"] == "contact"][-1]
    assert latest["data"]["identities"] == contact["identities"]
    assert latest["data"]["updated_at"] == contact["updated_at"]
