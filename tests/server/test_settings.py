"""Scoring settings: changes that would make every score meaningless are refused; DELETE puts
the defaults back."""

from server_helpers import JANE, assert_error

from api.scoring import COMPONENTS, KINDS

ALL_ZERO = dict.fromkeys(COMPONENTS, 0)


def test_weights_that_leave_no_score_are_a_422_and_change_nothing(api, log, changes):
    log("coffee", contact=JANE)
    settings, feed = api.get("/api/v1/settings").json, changes()
    r = api.patch("/api/v1/settings", json={"weights": ALL_ZERO})
    assert "above 0" in repr(assert_error(r, 422, "weights")["errors"])
    r = api.patch("/api/v1/settings", json={"kind_weights": dict.fromkeys(KINDS, 0.0)})
    assert_error(r, 422, "kind_weights")
    assert api.get("/api/v1/settings").json == settings
    assert changes() == feed
    assert api.get("/api/v1/lookup?email=jane@example.com").json["tie"]["score"] > 0

    # All but one at zero is allowed; then that one at zero too is refused (the settings in
    # force count, not only the request's).
    *others, last = COMPONENTS
    r = api.patch("/api/v1/settings", json={"weights": dict.fromkeys(others, 0)})
    assert r.status_code == 200 and r.json["weights"][last] > 0
    settings, feed = r.json, changes()
    assert_error(api.patch("/api/v1/settings", json={"weights": {last: 0}}), 422, "weights")
    assert api.get("/api/v1/settings").json == settings
    assert changes() == feed


def test_delete_puts_the_default_settings_back_and_rescores(api, log, changes):
    log("coffee", contact=JANE)
    defaults = api.get("/api/v1/settings").json
    score = api.get("/api/v1/lookup?email=jane@example.com").json["tie"]["score"]
    changed = {
        "recency_half_life_days": 3,
        "weights": {"emotional": 0},
        "kind_weights": {"coffee": 9},
    }
    assert api.patch("/api/v1/settings", json=changed).json != defaults
    assert api.get("/api/v1/lookup?email=jane@example.com").json["tie"]["score"] != score
    before = changes()

    r = api.delete("/api/v1/settings")
    assert r.status_code == 200 and r.json == defaults
    assert api.get("/api/v1/settings").json == defaults
    assert api.get("/api/v1/lookup?email=jane@example.com").json["tie"]["score"] == score
    (entry,) = changes()[len(before) :]  # browsers drop the ties scored under the old ones
    assert (entry["entity"], entry["data"]) == ("settings", defaults)
    # Already the defaults: nothing to rescore, nothing in the feed.
    assert api.delete("/api/v1/settings").json == defaults
    assert len(changes()) == len(before) + 1


def test_weights_too_small_to_compute_with_are_a_422_naming_the_range(api, log, changes):
    """A weight of 1e-310 is not 0, yet too small for the arithmetic (a subnormal float): it is
    refused, saying what is allowed, and the settings and scores stay as they were."""
    log("coffee", contact=JANE)
    settings, feed = api.get("/api/v1/settings").json, changes()
    for tiny in (1e-310, 5e-324, 1e-9):
        only_emotional = {**ALL_ZERO, "emotional": tiny}
        r = api.patch("/api/v1/settings", json={"weights": only_emotional})
        body = assert_error(r, 422, "weights")
        assert "0.001" in repr(body["errors"]) and "100" in repr(body["errors"])
        r = api.patch("/api/v1/settings", json={"kind_weights": {"coffee": tiny}})
        body = assert_error(r, 422, "kind_weights")
        assert "0.001" in repr(body["errors"]) and "10" in repr(body["errors"])
    assert api.get("/api/v1/settings").json == settings
    assert changes() == feed

    # The smallest weight allowed still makes a score.
    r = api.patch("/api/v1/settings", json={"weights": {**ALL_ZERO, "emotional": 0.001}})
    assert r.status_code == 200, r.json
    tie = api.get("/api/v1/lookup?email=jane@example.com").json["tie"]
    assert tie["score"] > 0
    assert abs(tie["score"] - 100 * tie["components"]["emotional"]) <= 0.06
