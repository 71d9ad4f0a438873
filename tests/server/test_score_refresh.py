"""Stored scores rank the contacts list; they decay with time, so a list refreshes them when old."""

import threading
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import g
from sqlalchemy import create_engine, event, select, text, update

from api import auth, ledger
from api.models import ContactStats, User, db

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def person(name: str) -> dict:
    return {"name": name, "identities": [{"kind": "email", "value": f"{name.lower()}@x.io"}]}


def stored_scores(app) -> dict[int, float]:
    with app.app_context():
        rows = db.session.execute(select(ContactStats.contact_id, ContactStats.score)).all()
        db.session.rollback()
        return dict(rows)


def age_the_scores(app, scores: dict[int, float] | None = None) -> None:
    """As if the scores were last refreshed long ago (optionally storing other ones)."""
    with app.app_context():
        db.session.execute(update(User).values(scores_refreshed_at=LONG_AGO))
        for contact_id, score in (scores or {}).items():
            db.session.execute(
                update(ContactStats)
                .where(ContactStats.contact_id == contact_id)
                .values(score=score)
            )
        db.session.commit()


def test_a_list_by_score_refreshes_scores_time_has_aged(app, api, log):
    ann = log("meal", contact=person("Ann"), closeness=5)["contact"]["id"]
    bob = log("email", contact=person("Bob"))["contact"]["id"]
    # Stored an age ago, when Bob was the closer tie; Ann's meal is today's.
    age_the_scores(app, {ann: 1.0, bob: 90.0})

    listed = api.get("/api/v1/contacts?sort=score").json["contacts"]

    assert [c["id"] for c in listed] == [ann, bob]
    assert [c["tie"]["rank"] for c in listed] == [1, 2]
    scores = stored_scores(app)
    for contact in listed:
        assert scores[contact["id"]] == pytest.approx(contact["tie"]["score"], abs=0.05)


def test_a_refresh_scores_with_the_settings_in_force_not_those_its_request_read(app, api, log):
    old_meal = (datetime.now(UTC) - timedelta(days=120)).isoformat()
    log("meal", contact=person("Ann"), closeness=5, occurred_at=old_meal)
    log("email", contact=person("Bob"))
    with app.app_context():
        read_by_the_token_check = auth.account_of(db.session.get(User, auth.default_user().id))
        db.session.rollback()
    under_defaults = stored_scores(app)

    # New settings rescore everything after the list's token check read the old ones.
    assert api.patch("/api/v1/settings", json={"recency_half_life_days": 5}).status_code == 200
    rescored = stored_scores(app)
    assert any(abs(rescored[c] - under_defaults[c]) > 1 for c in rescored)  # they do differ
    age_the_scores(app)

    with app.test_request_context():
        ledger.refresh_scores_if_stale(replace(read_by_the_token_check, scores_refreshed_at=None))

    refreshed = stored_scores(app)
    assert refreshed == pytest.approx(rescored, abs=0.01)  # the same, a few seconds' decay apart


# ---- a read shows its ties under the settings that made the scores it reads --------------------
# Defaults rank Bob (an email today) above Ann (a meal four months ago); half-lives of ten years
# keep Ann's meal fresh and rank her first. They also change the stored aggregates and scores.
LONG_MEMORY = {
    "recency_half_life_days": 3650,
    "frequency_half_life_days": 3650,
    "emotional_half_life_days": 3650,
}


@pytest.fixture
def ann_and_bob(api, log):
    """Ann and Bob logged, and the scores stamped by a list (as on a server in use)."""
    old_meal = (datetime.now(UTC) - timedelta(days=120)).isoformat()
    ann = log("meal", contact=person("Ann"), closeness=5, occurred_at=old_meal)["contact"]["id"]
    bob = log("email", contact=person("Bob"))["contact"]["id"]
    assert api.get("/api/v1/contacts").status_code == 200
    return ann, bob


def account_now(app) -> auth.Account:
    """The user as a token check reading now would see it."""
    with app.app_context():
        account = auth.account_of(db.session.get(User, auth.default_user().id))
        db.session.rollback()
        return account


def ties(api, *contact_ids) -> dict[int, tuple[float, int]]:
    """(score, rank) of each contact, one GET each."""
    out = {}
    for contact_id in contact_ids:
        tie = api.get(f"/api/v1/contacts/{contact_id}").json["tie"]
        out[contact_id] = (tie["score"], tie["rank"])
    return out


def listed(answer) -> dict[int, tuple[float, int]]:
    return {c["id"]: (c["tie"]["score"], c["tie"]["rank"]) for c in answer.json["contacts"]}


def the_token_check_reads(monkeypatch, account: auth.Account) -> None:
    """Requests from now on act as if their token check had read `account` (as one does that
    read the user just before a PATCH /settings committed)."""
    real = auth.authenticate

    def earlier_token_check():
        real()
        g.user = account

    monkeypatch.setattr(auth, "authenticate", earlier_token_check)


def same_ties(got: dict, expected: dict) -> bool:
    """Equal ranks and scores (a tenth apart at most: the seconds between two reads)."""
    return got.keys() == expected.keys() and all(
        got[c][1] == expected[c][1] and abs(got[c][0] - expected[c][0]) <= 0.1 for c in got
    )


@pytest.mark.parametrize("read", ["list", "contact", "lookup"])
def test_a_read_shows_ties_under_the_settings_in_force_not_those_its_token_check_read(
    app, api, ann_and_bob, monkeypatch, read
):
    ann, bob = ann_and_bob
    before_the_patch = account_now(app)
    assert api.patch("/api/v1/settings", json=LONG_MEMORY).status_code == 200
    expected = ties(api, ann, bob)
    assert expected[ann][1] == 1  # the new settings do rank Ann first

    the_token_check_reads(monkeypatch, before_the_patch)
    if read == "list":
        got = listed(api.get("/api/v1/contacts?sort=score"))
    elif read == "contact":
        got = ties(api, ann, bob)
    else:
        answers = [api.get(f"/api/v1/lookup?email={n}@x.io").json["tie"] for n in ("ann", "bob")]
        got = {c: (t["score"], t["rank"]) for c, t in zip((ann, bob), answers, strict=True)}

    assert same_ties(got, expected), (got, expected)


@contextmanager
def a_writer_holding_the_user(app):
    """Another request mid-write: it holds the user's row (PostgreSQL) or the database's write
    lock (SQLite) until the block ends."""
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with engine.connect() as conn, conn.begin() as writing:
            conn.execute(text("UPDATE users SET username = username"))
            yield
            writing.rollback()
    finally:
        engine.dispose()


def test_a_list_whose_refresh_gives_way_shows_ties_under_the_settings_in_force(
    app, api, ann_and_bob, monkeypatch
):
    ann, bob = ann_and_bob
    before_the_patch = account_now(app)
    assert api.patch("/api/v1/settings", json=LONG_MEMORY).status_code == 200
    expected = ties(api, ann, bob)
    age_the_scores(app)  # so that the list's refresh runs, and meets the writer

    the_token_check_reads(monkeypatch, replace(before_the_patch, scores_refreshed_at=LONG_AGO))
    with a_writer_holding_the_user(app):
        got = listed(api.get("/api/v1/contacts?sort=score"))

    assert same_ties(got, expected), (got, expected)
    assert account_now(app).scores_refreshed_at == LONG_AGO  # the refresh did give way


def test_settings_committed_while_a_list_reads_do_not_mix_into_it(app, api, client, ann_and_bob):
    """The list's statements read one snapshot: a rescore that commits between two of them
    (PostgreSQL gives each statement its own by default) shows in none of them."""
    ann, bob = ann_and_bob
    expected = ties(api, ann, bob)  # under the defaults: Bob first
    patched = []

    def patch():
        patched[0] = api.patch("/api/v1/settings", json=LONG_MEMORY).status_code

    def patch_settings_meanwhile(conn, cursor, statement, *args):
        # Just before the list reads its page of contacts, another request's PATCH commits.
        if not patched and statement.lstrip().upper().startswith("SELECT CONTACTS.ID"):
            patched.append("running")  # the PATCH's own statements pass through here too
            other = threading.Thread(target=patch)
            other.start()
            other.join()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", patch_settings_meanwhile)
    try:
        got = listed(api.get("/api/v1/contacts?sort=score"))
    finally:
        event.remove(engine, "before_cursor_execute", patch_settings_meanwhile)

    assert patched == [200]
    assert same_ties(got, expected), (got, expected)
    assert ties(api, ann, bob)[ann][1] == 1  # and the next list shows the new settings
