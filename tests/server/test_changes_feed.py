"""The sync feed: every write in commit order, paged by a cursor, deletes as tombstones."""

from server_helpers import JANE, assert_error


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
    # A cursor from the future is simply caught up.
    assert api.get("/api/v1/changes?since=999999").json["changes"] == []


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
