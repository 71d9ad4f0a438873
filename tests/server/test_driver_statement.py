"""The statements every lookup and log runs on the driver (database.DriverStatement) read and
write exactly what SQLAlchemy's own execution reads and writes, and fail as it fails; a log's
write transaction without the ORM session (database.writing) keeps only what it commits."""

import sqlite3
from datetime import UTC, datetime

import pytest
from server_helpers import JANE, new_id
from sqlalchemy import column, func, insert, select, table
from sqlalchemy.exc import DBAPIError

from api import auth, database, ledger
from api.models import Change, db


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
            got = database.DriverStatement(statement).all(conn, params)
            assert [tuple(row) for row in got] == expected
            assert [list(map(type, row)) for row in got] == [
                list(map(type, row)) for row in expected
            ]
        row = database.DriverStatement(ledger._LOOKUP).first(conn, cases[1][1])
        assert row.owner_settings["recency_half_life_days"] == 200
        assert row.created_at.utcoffset().total_seconds() == 0  # aware, in UTC
        held = database.DriverStatement(ledger._LOOKUP).all(conn, cases[1][1])
        assert {r.held_kind for r in held} == {"email", "linkedin"}


JANE_EMAIL = JANE["identities"][0]["value"]


def test_a_database_error_is_sqlalchemys(app):
    """A driver's error reaches the app as SQLAlchemy's (OperationalError is answered 503)."""
    missing = database.DriverStatement(select(table("no_such_table", column("x"))))
    with app.app_context():
        with pytest.raises(DBAPIError) as raised:
            missing.all(database.connection(db), {})
        assert "no_such_table" in str(raised.value)


def _change_rows(user_id: int, marker: str) -> list[dict]:
    """Feed rows whose values need the column types' conversions (a time in another zone, JSON
    with text SQL would mangle): one per way of writing them."""
    at = datetime(2024, 2, 29, 23, 59, 58, 123456).astimezone()  # aware, in the local zone
    data = {"note": 'it\'s "quoted"; DROP TABLE x; --', "n": [1, 2.5, None], "é": True}
    return [
        {
            "user_id": user_id,
            "entity": marker,
            "entity_id": "e",
            "op": "upsert",
            "device_id": None,
            "at": at,
            "data": data,
        },
    ]


def test_writes_are_those_sqlalchemy_writes(app):
    with app.app_context():
        user_id = auth.default_user().id
        db.session.commit()  # the user, if it was just made
        with database.writing(db) as conn:
            ledger._INSERT_CHANGES.execute_many(conn, _change_rows(user_id, "driver") * 2)
            conn.execute(insert(Change.__table__), _change_rows(user_id, "sqlalchemy") * 2)
            conn.commit()
        rows = db.session.execute(
            select(Change.entity, Change.at, Change.data)
            .where(Change.entity.in_(["driver", "sqlalchemy"]))
            .order_by(Change.seq)
        ).all()
        db.session.rollback()
    driver = [(at, data) for entity, at, data in rows if entity == "driver"]
    orm = [(at, data) for entity, at, data in rows if entity == "sqlalchemy"]
    assert len(driver) == 2 and driver == orm
    assert driver[0][0] == datetime(2024, 2, 29, 23, 59, 58, 123456).astimezone(UTC)
    assert driver[0][1]["note"] == _change_rows(0, "")[0]["data"]["note"]


def test_a_write_must_name_the_values_that_have_python_defaults(app):
    """A column default computed in Python (a time stamp) is SQLAlchemy's execution's work:
    a write on the driver that leaves one out is refused, not written with a NULL."""
    partial = database.DriverStatement(
        insert(Change.__table__).values(user_id=1, entity="x", entity_id="x", op="upsert")
    )
    with app.app_context(), database.writing(db) as conn:
        with pytest.raises(ValueError, match="defaults"):
            partial.execute(conn, {})


def test_a_write_transaction_keeps_only_what_it_commits(app):
    """Left without a commit (nothing to write after all, or an error), `writing` rolls back,
    and the next writer gets in (on SQLite: the database's write lock and the writers' queue
    are free again)."""

    def count() -> int:
        with app.app_context():
            n = db.session.scalar(select(func.count()).select_from(Change))
            db.session.rollback()
            return n

    before = count()
    with app.app_context():
        user_id = auth.default_user().id
        db.session.commit()  # the user, if it was just made
        with database.writing(db) as conn:
            ledger._INSERT_CHANGES.execute_many(conn, _change_rows(user_id, "left"))
        with pytest.raises(RuntimeError), database.writing(db) as conn:
            ledger._INSERT_CHANGES.execute_many(conn, _change_rows(user_id, "failed"))
            raise RuntimeError("a bug between two statements")
    assert count() == before
    with app.app_context(), database.writing(db) as conn:
        ledger._INSERT_CHANGES.execute_many(conn, _change_rows(user_id, "kept"))
        conn.commit()
    assert count() == before + 1


def test_a_failed_commit_leaves_the_database_to_the_next_writer(app, api, log, monkeypatch):
    """A COMMIT may fail and leave the transaction open (on SQLite: a deferred constraint, a
    busy or full disk). The log's write transaction is then over, not held on a connection back
    in the pool, where it would keep the database's write lock from every other writer."""
    first = log("coffee")
    contact_id = first["contact"]["id"]
    write_changes = ledger._INSERT_CHANGES.execute_many

    def and_a_row_that_fails_the_commit(conn, params):
        write_changes(conn, params)
        driver = conn.connection.dbapi_connection
        driver.execute("CREATE TEMP TABLE IF NOT EXISTS parent_ (id INTEGER PRIMARY KEY)")
        driver.execute(
            "CREATE TEMP TABLE IF NOT EXISTS child_ (parent_id INTEGER REFERENCES parent_ (id)"
            " DEFERRABLE INITIALLY DEFERRED)"
        )
        driver.execute("INSERT INTO child_ VALUES (1)")  # checked at COMMIT, which fails

    with monkeypatch.context() as patched:
        patched.setattr(ledger._INSERT_CHANGES, "execute_many", and_a_row_that_fails_the_commit)
        failed = api.put(
            f"/api/v1/interactions/{new_id()}", json={"kind": "call", "contact_id": contact_id}
        )
    assert failed.status_code == 409, failed.get_json()
    with app.app_context():
        url = db.engine.url
    if url.get_backend_name() == "sqlite":  # the write lock is free: another writer gets it now
        other = sqlite3.connect(url.database, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()
    for _ in range(3):
        log("call", contact_id=contact_id)
    contact = api.get(f"/api/v1/contacts/{contact_id}").get_json()
    assert contact["tie"]["interaction_count"] == 4  # the failed log left nothing behind
