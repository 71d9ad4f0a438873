"""Lookup of the person on screen: any URL form or email spelling finds them, an unknown person
is null, and the answer costs a fixed handful of indexed queries however long the history."""

import re
import uuid
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from server_helpers import JANE, assert_error
from sqlalchemy import event

from api import auth, ledger, scoring
from api.models import Contact, Identity, Interaction, db


def test_unknown_person_is_null(api):
    for query in ("linkedin=someone-new", "email=nobody@example.com"):
        r = api.get(f"/api/v1/lookup?{query}")
        assert r.status_code == 200
        assert r.json == {"contact": None, "tie": None}


FORMS = [
    "linkedin=jane-doe",
    "linkedin=Jane-Doe",
    "linkedin=https://www.linkedin.com/in/jane-doe/",
    "linkedin=https%3A%2F%2Fde.linkedin.com%2Fin%2FJane-Doe%2Fdetails%2Fexperience%2F",
    "linkedin=https://www.linkedin.com/in/jane-doe/overlay/contact-info/",
    "linkedin=linkedin.com/mwlite/in/jane-doe",
    "email=jane@example.com",
    "email=%20JANE@Example.com%20",
    "email=mailto:jane@example.com",
]


def test_every_form_finds_the_contact(api, log):
    jane = {
        "name": "Jane Doe",
        "identities": [
            {"kind": "linkedin", "value": "https://www.linkedin.com/in/jane-doe"},
            {"kind": "email", "value": "jane@example.com"},
        ],
    }
    logged = log("coffee", contact=jane, note="hello")
    for query in FORMS:
        r = api.get(f"/api/v1/lookup?{query}")
        assert r.status_code == 200, query
        assert r.json["contact"]["id"] == logged["contact"]["id"], query
        assert r.json["contact"]["name"] == "Jane Doe"
        tie = r.json["tie"]
        assert tie == r.json["contact"]["tie"]
        assert tie["interaction_count"] == 1
        assert tie["last_interaction"]["note"] == "hello"
        assert tie["last_interaction"]["days_ago"] == 0
        assert tie["trend_30d"] == pytest.approx(tie["score"], abs=0.11)  # all of it is new


def test_a_lookup_is_as_of_a_feed_seq_and_scored_with_the_settings_then(
    api, log, changes, monkeypatch
):
    """`seq` is the newest change the answer reflects. Its tie is scored with the settings in
    force at that seq, even when the token check read older ones (new settings committed in
    between), so a browser may keep it over a `settings` entry up to that seq."""
    log("call", contact=JANE, occurred_at=(datetime.now(UTC) - timedelta(days=20)).isoformat())
    before = api.get("/api/v1/lookup?email=jane@example.com").json
    assert before["seq"] == changes()[-1]["seq"]
    assert api.patch("/api/v1/settings", json={"recency_half_life_days": 3}).status_code == 200
    (rescored,) = [c for c in changes() if c["entity"] == "settings"]
    after = api.get("/api/v1/lookup?email=jane@example.com").json
    assert after["seq"] == rescored["seq"] > before["seq"]
    assert after["tie"]["score"] < before["tie"]["score"] - 1  # 20 days of silence weigh more

    real = auth.account_of
    monkeypatch.setattr(auth, "account_of", lambda row: replace(real(row), settings=None))
    raced = api.get("/api/v1/lookup?email=jane@example.com").json
    assert raced["seq"] == rescored["seq"]
    assert raced["tie"]["score"] == pytest.approx(after["tie"]["score"], abs=0.1)


def test_a_malformed_key_is_422_naming_it(api):
    for query, field in (
        ("linkedin=https://linkedin.com.evil.example/in/jane", "linkedin"),
        ("linkedin=https://www.linkedin.com/company/acme", "linkedin"),
        ("email=not-an-address", "email"),
        ("email=", "email"),
        ("email=jane@example.com.", "email"),
        ("email=jane@example..com", "email"),
    ):
        assert_error(api.get(f"/api/v1/lookup?{query}"), 422, field)


# ---- cost --------------------------------------------------------------------------------------


@contextmanager
def recorded_statements(engine):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()).lower())

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def seed_history(app, email: str, old: int, recent: int = 3) -> None:
    """A contact with `old` interactions older than 30 days and `recent` newer ones."""
    now = datetime.now(UTC)
    with app.app_context():
        user = auth.default_user()
        contact = Contact(user_id=user.id, name=email)
        contact.identities = [Identity(user_id=user.id, kind="email", value=email)]
        db.session.add(contact)
        db.session.flush()
        times = [now - timedelta(days=40 + i) for i in range(old)]
        times += [now - timedelta(days=1 + i) for i in range(recent)]
        db.session.add_all(
            Interaction(
                id=uuid.uuid4(),
                user_id=user.id,
                contact_id=contact.id,
                occurred_at=when,
                kind="call",
                note=f"call {i}",
            )
            for i, when in enumerate(times)
        )
        db.session.flush()
        ledger.rebuild_user(user)
        db.session.commit()


def lookup_statements(app, api, email: str) -> list[str]:
    api.get(f"/api/v1/lookup?email={email}")  # warm: the device's last-seen note, caches
    with app.app_context():
        engine = db.engine
    with recorded_statements(engine) as statements:
        r = api.get(f"/api/v1/lookup?email={email}")
    assert r.status_code == 200 and r.json["contact"] is not None
    return statements


def interaction_statements(statements: list[str]) -> list[str]:
    return [s for s in statements if re.search(r"\bfrom interactions\b", s)]


def test_lookup_cost_does_not_grow_with_history(app, api):
    seed_history(app, "short@example.com", old=0)
    seed_history(app, "long@example.com", old=300)
    short = lookup_statements(app, api, "short@example.com")
    long = lookup_statements(app, api, "long@example.com")
    assert len(short) == len(long)
    assert len(long) <= 12, long
    assert api.get("/api/v1/lookup?email=long@example.com").json["tie"]["interaction_count"] == 303


def test_lookup_never_reads_the_whole_history(app, api):
    seed_history(app, "long@example.com", old=300)
    queries = interaction_statements(lookup_statements(app, api, "long@example.com"))
    assert queries, "the last interaction and the 30-day trend come from the ledger"
    for sql in queries:
        by_key = re.search(r"where interactions\.id = ", sql)
        aggregate = re.search(r"select (min|max)\(interactions\.occurred_at\)", sql)
        window = re.search(r"\b(interactions|recent)\.occurred_at > ", sql)
        assert by_key or aggregate or window, sql
        if window:
            assert f"{window[1]}.deleted_at is null" in sql, sql


def test_lookup_answers_the_whole_tie_from_the_aggregates(app, api):
    seed_history(app, "long@example.com", old=300, recent=3)
    tie = api.get("/api/v1/lookup?email=long@example.com").json["tie"]
    assert tie["interaction_count"] == 303
    assert tie["last_interaction"]["note"] == "call 300"  # the newest: 1 day ago
    assert tie["last_interaction"]["days_ago"] == 1
    assert tie["trend_30d"] is not None
    assert tie["cadence_days"] == pytest.approx(338 / 302, abs=0.05)  # (339 - 1) days / 302 gaps


@pytest.mark.parametrize("oldest_days", [200, 20])
def test_the_trend_is_the_score_now_minus_the_score_30_days_ago(api, log, oldest_days):
    """The 30-day window as the lookup reads it: every live event in it (not a deleted one)
    and the last one before it (none when the whole history is recent)."""
    now = datetime.now(UTC)
    days = [d for d in (200, 90, 45, 20, 6, 2) if d <= oldest_days]
    for d in days:
        log("call", initiated_by="me", closeness=4, occurred_at=f"{now - timedelta(days=d)}")
    deleted = log("meal", initiated_by="me", closeness=5, occurred_at=f"{now - timedelta(3)}")
    assert api.delete(f"/api/v1/interactions/{deleted['interaction']['id']}").status_code == 200

    settings = scoring.ModelSettings()
    live = [scoring.Event(now - timedelta(days=d), "call", "me", closeness=4) for d in days]
    then = now - timedelta(days=scoring.TREND_DAYS)
    before = [e for e in live if e.occurred_at <= then]
    expected = scoring.score_at(scoring.rebuild(live, settings), now, settings)
    if before:
        expected -= scoring.score_at(scoring.rebuild(before, settings), then, settings)
    tie = api.get("/api/v1/lookup?email=jane@example.com").json["tie"]
    assert tie["interaction_count"] == len(days)
    assert tie["trend_30d"] == pytest.approx(expected, abs=0.06)


def test_a_trend_that_rounds_to_nothing_is_zero_not_minus_zero(api, log):
    """A dormant tie loses a sliver of score a month: rounded, that is 0.0, never "-0.0"."""
    old = {"name": "Old Friend", "identities": [{"kind": "email", "value": "old@example.com"}]}
    log("email", contact=old, occurred_at=f"{datetime.now(UTC) - timedelta(days=3 * 365)}")
    r = api.get("/api/v1/lookup?email=old@example.com")
    assert r.json["tie"]["trend_30d"] == 0
    assert '"trend_30d":0.0' in r.get_data(as_text=True)
