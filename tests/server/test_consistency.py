"""The per-contact aggregates kept on every write equal a rebuild from the ledger, after any
sequence of writes through the API, and `strongties rebuild` gives the same numbers."""

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from live_server import invoke_cli
from server_helpers import new_id
from sqlalchemy import select

from api import auth, ledger, scoring
from api.models import ContactStats, db

EXACT = (
    "count",
    "given_count",
    "received_count",
    "given_value",
    "received_value",
    "first_at",
    "last_at",
    "last_interaction_id",
)


# The decayed sums are compared at one fixed instant, whenever they were stored.
AT = datetime(2030, 1, 1, tzinfo=UTC).timestamp()


def _read_stats() -> dict[int, dict]:
    settings = ledger.model_settings(auth.default_user())
    out = {}
    for row in db.session.scalars(select(ContactStats)):
        agg = ledger.aggregate_of(row)
        out[row.contact_id] = {
            **{name: getattr(row, name) for name in EXACT},
            **agg.decayed(AT, settings),
            "score": row.score,
        }
    return out


def stats_snapshot(app) -> dict[int, dict]:
    """Every contact_stats row as stored."""
    with app.app_context():
        snapshot = _read_stats()
        db.session.rollback()
        return snapshot


def rebuilt_snapshot(app) -> dict[int, dict]:
    """What ledger.rebuild_user makes of the same ledger (rolled back afterwards)."""
    with app.app_context():
        ledger.rebuild_user(auth.default_user())
        db.session.flush()
        snapshot = _read_stats()
        db.session.rollback()
        return snapshot


def assert_same_stats(kept: dict, rebuilt: dict) -> None:
    assert set(kept) == set(rebuilt), "a contact_stats row too many or missing"
    for contact_id, ours in kept.items():
        theirs = rebuilt[contact_id]
        for name, value in theirs.items():
            if name in EXACT:
                assert ours[name] == value, (contact_id, name, ours, theirs)
            elif name == "score":  # stored at different instants seconds apart
                assert math.isclose(ours[name], value, abs_tol=0.01), (contact_id, name)
            else:
                assert math.isclose(ours[name], value, rel_tol=1e-9, abs_tol=1e-9), (
                    contact_id,
                    name,
                    ours,
                    theirs,
                )


PEOPLE = [
    {"name": name, "identities": [{"kind": "email", "value": f"{name.lower()}@example.com"}]}
    for name in ("Ada", "Bo", "Cy", "Di")
]


def random_body(rnd: random.Random, now: datetime) -> dict:
    body = {"kind": rnd.choice(scoring.KINDS)}
    if rnd.random() < 0.9:
        # Whole days on a coarse grid: several interactions share an instant.
        body["occurred_at"] = (
            now - timedelta(days=rnd.choice([0, 1, 3, 40, 200, 900]))
        ).isoformat()
    if rnd.random() < 0.5:
        body["initiated_by"] = rnd.choice(scoring.INITIATORS)
    if rnd.random() < 0.3:
        body["closeness"] = rnd.randint(1, 5)
    if rnd.random() < 0.3:
        body["favor"] = {"direction": rnd.choice(scoring.DIRECTIONS), "value": rnd.randint(1, 5)}
    return body


def run_random_writes(api, rnd: random.Random, steps: int, after_each=None) -> Counter:
    """PUT (some replayed), PATCH (some moving to another contact), DELETE interactions and
    now and then a whole contact; returns how many of each it did. `after_each(answer)` is
    called after every step, with a log's answer (else None)."""
    done: Counter = Counter()
    now = datetime.now(UTC).replace(microsecond=0)
    owner: dict[str, int] = {}  # live interaction id -> contact id
    contacts: dict[str, int] = {}  # name -> live contact id
    for _ in range(steps):
        roll = rnd.random()
        answer = None
        if roll < 0.45 or not owner:
            person = rnd.choice(PEOPLE)
            body = random_body(rnd, now)
            if person["name"] in contacts and rnd.random() < 0.5:
                body["contact_id"] = contacts[person["name"]]
            else:
                body["contact"] = person
            interaction_id = new_id()
            r = api.put(f"/api/v1/interactions/{interaction_id}", json=body)
            assert r.status_code == 201, r.json
            contacts[person["name"]] = owner[interaction_id] = r.json["contact"]["id"]
            done["put"] += 1
            answer = r.json
            if rnd.random() < 0.1:  # a replay
                replay = api.put(f"/api/v1/interactions/{interaction_id}", json=body)
                assert replay.status_code == 200
        elif roll < 0.75:
            target = rnd.choice(sorted(owner))
            patch = random_body(rnd, now)
            if rnd.random() < 0.5:
                patch.pop("kind")
            if rnd.random() < 0.2:
                patch["contact_id"] = rnd.choice(sorted(contacts.values()))
            if rnd.random() < 0.2:
                patch["favor"] = None
            r = api.patch(f"/api/v1/interactions/{target}", json=patch)
            assert r.status_code == 200, r.json
            owner[target] = r.json["contact"]["id"]
            done["patch"] += 1
        elif roll < 0.97:
            target = rnd.choice(sorted(owner))
            del owner[target]
            assert api.delete(f"/api/v1/interactions/{target}").status_code == 200
            done["delete"] += 1
        else:
            name = rnd.choice(sorted(contacts))
            gone = contacts.pop(name)
            assert api.delete(f"/api/v1/contacts/{gone}").status_code == 204
            owner = {i: c for i, c in owner.items() if c != gone}
            done["delete contact"] += 1
        if after_each:
            after_each(answer)
    return done


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_stats_equal_a_rebuild_after_random_writes(app, api, seed):
    done = run_random_writes(api, random.Random(seed), steps=30)
    assert done["put"] and done["patch"] and done["delete"], done
    assert_same_stats(stats_snapshot(app), rebuilt_snapshot(app))
    # Deleting a whole contact drops its aggregates too (a rebuild has none for it).
    contacts = api.get("/api/v1/contacts").json["contacts"]
    assert api.delete(f"/api/v1/contacts/{contacts[0]['id']}").status_code == 204
    kept = stats_snapshot(app)
    assert contacts[0]["id"] not in kept
    assert_same_stats(kept, rebuilt_snapshot(app))


def test_strongties_rebuild_gives_the_same_numbers(app, api, database_url):
    run_random_writes(api, random.Random(7), steps=20)
    kept = stats_snapshot(app)
    result = invoke_cli(database_url, "rebuild")
    assert f"Rebuilt {len(kept)} contacts" in result.output
    assert_same_stats(kept, stats_snapshot(app))
    # And the API answers the same ties as before the rebuild.
    for contact_id, row in kept.items():
        tie = api.get(f"/api/v1/contacts/{contact_id}").json["tie"]
        assert tie["interaction_count"] == row["count"]
    # Browsers learn from the feed that every score was recomputed.
    last = api.get("/api/v1/changes?since=0&limit=1000").json["changes"][-1]
    assert (last["entity"], last["op"], last["data"]) == (
        "settings",
        "upsert",
        api.get("/api/v1/settings").json,
    )


def test_settings_change_rebuilds_every_score(app, api, log):
    first = log("meal", occurred_at=(datetime.now(UTC) - timedelta(days=60)).isoformat())
    before = first["tie"]["score"]
    r = api.patch("/api/v1/settings", json={"recency_half_life_days": 5})
    assert r.status_code == 200 and r.json["recency_half_life_days"] == 5
    after = api.get(f"/api/v1/contacts/{first['contact']['id']}").json["tie"]["score"]
    assert after < before
    assert_same_stats(stats_snapshot(app), rebuilt_snapshot(app))


def stored_rank(app, contact_id: int) -> int:
    """1 + the contacts whose stored score is above this one's, counted in the database."""
    with app.app_context():
        scores = dict(db.session.execute(select(ContactStats.contact_id, ContactStats.score)).all())
        db.session.rollback()
    return 1 + sum(score > scores[contact_id] for cid, score in scores.items() if cid != contact_id)


@pytest.mark.parametrize("seed", [4, 5])
def test_ranks_follow_every_write(app, api, seed):
    """Lookups and logs rank from a per-process ordered copy of the stored scores that catches
    up with the changes feed: after every kind of write each rank is the one the database
    counts."""
    checked = Counter()

    def check(answer):
        if answer is not None:  # a log's answer ranks the contact as stored by that log
            assert answer["tie"]["rank"] == stored_rank(app, answer["contact"]["id"]), answer
            checked["log"] += 1
        for person in PEOPLE:
            found = api.get(f"/api/v1/lookup?email={person['identities'][0]['value']}").json
            if found["contact"] is not None and found["tie"]["interaction_count"]:
                assert found["tie"]["rank"] == stored_rank(app, found["contact"]["id"]), found
                checked["lookup"] += 1

    run_random_writes(api, random.Random(seed), steps=40, after_each=check)
    assert checked["log"] >= 10 and checked["lookup"] >= 40, checked


def test_the_ordered_copy_ranks_a_contact_against_the_others_only():
    """A log can store a lower score than the contact had (its old score decayed since it was
    stored): the contact's own old score must not rank it below itself."""
    order = ledger._ScoreOrder(7, None, {1: 50.0, 2: 40.0, 3: 30.0}, [30.0, 40.0, 50.0])
    assert order.above(45.0, 1) == 0  # contact 1, down from 50 to 45: nobody else is above
    assert order.above(45.0, 2) == 1  # contact 2, up from 40 to 45: contact 1 is above
    assert order.above(45.0) == 1  # a score of nobody's
    order.move(2, None)  # contact 2 deleted
    order.move(4, 30.0)  # a new contact with the same score as contact 3
    order.move(1, 10.0)
    assert order.ordered == [10.0, 30.0, 30.0]
    assert order.by_contact == {1: 10.0, 3: 30.0, 4: 30.0}
    assert order.above(20.0, 1) == 2 and order.above(30.0, 3) == 0
