"""Stored scores rank the contacts list; they decay with time, so a list refreshes them when old."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from flask import g
from sqlalchemy import select, update

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
        # The list that ran it then shows each tie under the settings it ranked them by.
        assert g.user.settings == {"recency_half_life_days": 5}

    refreshed = stored_scores(app)
    assert refreshed == pytest.approx(rescored, abs=0.01)  # the same, a few seconds' decay apart
