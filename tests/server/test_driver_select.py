"""The statements every lookup and log runs on the driver (database.DriverSelect) read exactly
what SQLAlchemy's own execution reads, and fail as it fails."""

import pytest
from server_helpers import JANE
from sqlalchemy import column, select, table
from sqlalchemy.exc import DBAPIError

from api import auth, database, ledger
from api.models import db


def test_rows_are_those_sqlalchemy_reads(app, api, log):
    first = log("coffee", closeness=4, note="Thanks", favor={"direction": "given", "value": 2})
    log("call", contact_id=first["contact"]["id"], occurred_at="2021-03-04T05:06:07+02:00")
    assert api.patch("/api/v1/settings", json={"recency_half_life_days": 200}).status_code == 200
    added = api.post(
        "/api/v1/contacts/{}/identities".format(first["contact"]["id"]),
        json={"identities": [{"kind": "linkedin", "value": "jane-doe"}]},
    )
    assert added.status_code == 200, added.get_json()
    with app.app_context():
        user = auth.default_user()
        device_hash = db.session.scalars(select(auth.Device.token_hash)).first()
        db.session.rollback()
        conn = database.connection(db)
        cases = [
            (auth._DEVICE_AND_USER, {"token_hash": device_hash}),
            (ledger._LOOKUP, {"user_id": user.id, "kind": "email", "value": JANE_EMAIL}),
            (ledger._LOOKUP, {"user_id": user.id, "kind": "email", "value": "nobody@x.org"}),
            (ledger._CONTACT_BY_ID, {"user_id": user.id, "contact_id": first["contact"]["id"]}),
        ]
        for statement, params in cases:
            expected = [tuple(row) for row in conn.execute(statement, params)]
            got = database.DriverSelect(statement).all(conn, params)
            assert [tuple(row) for row in got] == expected
            assert [list(map(type, row)) for row in got] == [
                list(map(type, row)) for row in expected
            ]
        row = database.DriverSelect(ledger._LOOKUP).first(conn, cases[1][1])
        assert row.owner_settings["recency_half_life_days"] == 200
        assert row.created_at.utcoffset().total_seconds() == 0  # aware, in UTC
        held = database.DriverSelect(ledger._LOOKUP).all(conn, cases[1][1])
        assert {r.held_kind for r in held} == {"email", "linkedin"}


JANE_EMAIL = JANE["identities"][0]["value"]


def test_a_database_error_is_sqlalchemys(app):
    """A driver's error reaches the app as SQLAlchemy's (OperationalError is answered 503)."""
    missing = database.DriverSelect(select(table("no_such_table", column("x"))))
    with app.app_context():
        with pytest.raises(DBAPIError) as raised:
            missing.all(database.connection(db), {})
        assert "no_such_table" in str(raised.value)
