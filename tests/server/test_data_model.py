"""The data model: tables built by Alembic from the first migration on, matching the models;
every row scoped to its user; identities unique per user; interactions soft-deleted."""

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from server_helpers import JANE, assert_error
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.exc import IntegrityError

from api import auth
from api.database import alembic_config
from api.models import Identity, Interaction, User, db

# Tables whose every row belongs to one user (pair_attempts are per client address).
SCOPED = {
    "devices",
    "pairing_codes",
    "contacts",
    "identities",
    "interactions",
    "contact_stats",
    "changes",
}


def test_migrations_build_exactly_the_models(database_url):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
            head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
            assert context.get_current_revision() == head
    finally:
        engine.dispose()


def test_the_migration_chain_starts_from_an_empty_database(database_url):
    config = alembic_config(database_url)
    script = ScriptDirectory.from_config(config)
    revisions = list(script.walk_revisions())
    assert revisions[-1].down_revision is None  # the first migration creates the first table
    engine = create_engine(database_url)
    try:
        command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        command.upgrade(config, "head")
        tables = set(inspect(engine).get_table_names())
        assert {t.name for t in db.metadata.sorted_tables} <= tables
    finally:
        engine.dispose()


def test_tables_hold_the_ledger_fields(database_url):
    engine = create_engine(database_url)
    try:
        inspector = inspect(engine)
        columns = {c["name"] for c in inspector.get_columns("interactions")}
        assert {
            "id",
            "user_id",
            "contact_id",
            "occurred_at",
            "kind",
            "initiated_by",
            "closeness",
            "favor_direction",
            "favor_value",
            "note",
            "external_ref",
            "created_at",
            "updated_at",
            "deleted_at",
        } <= columns
        for table in SCOPED:
            fks = inspector.get_foreign_keys(table)
            assert any(fk["referred_table"] == "users" for fk in fks), table
        indexed = {tuple(i["column_names"]) for i in inspector.get_indexes("interactions")}
        assert ("contact_id", "occurred_at") in indexed  # first/last/30-day window lookups
        assert ("user_id", "contact_id", "external_ref") in indexed  # de-duplication
        uniques = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("identities")}
        assert ("user_id", "kind", "value") in uniques
        assert ("token_hash",) in {
            tuple(u["column_names"]) for u in inspector.get_unique_constraints("devices")
        }
    finally:
        engine.dispose()


def test_an_identity_is_unique_per_user_in_the_database(app, api, log, other_api):
    jane = log("call", contact=JANE)["contact"]
    with app.app_context():
        me = auth.default_user()
        db.session.add(
            Identity(user_id=me.id, contact_id=jane["id"], kind="email", value="jane@example.com")
        )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    # Another user may know the same person: identities are unique per user, not globally.
    r = other_api.post("/api/v1/contacts", json=JANE)
    assert r.status_code == 201
    assert r.json["id"] != jane["id"]


def test_every_row_is_scoped_to_its_user(app, api, log, other_api):
    mine = log("meal", contact=JANE, note="private")
    cid, iid = mine["contact"]["id"], mine["interaction"]["id"]

    assert other_api.get("/api/v1/lookup?email=jane@example.com").json == {
        "contact": None,
        "tie": None,
    }
    assert other_api.get("/api/v1/contacts").json["total"] == 0
    assert_error(other_api.get(f"/api/v1/contacts/{cid}"), 404)
    assert_error(other_api.get(f"/api/v1/contacts/{cid}/interactions"), 404)
    assert_error(other_api.patch(f"/api/v1/contacts/{cid}", json={"name": "Mine now"}), 404)
    assert_error(other_api.delete(f"/api/v1/contacts/{cid}"), 404)
    assert_error(other_api.patch(f"/api/v1/interactions/{iid}", json={"note": "x"}), 404)
    assert_error(other_api.delete(f"/api/v1/interactions/{iid}"), 404)
    r = other_api.put(
        f"/api/v1/interactions/{uuid.uuid4()}", json={"kind": "call", "contact_id": cid}
    )
    assert_error(r, 404)
    # Reusing my interaction's id does not reveal or change it.
    r = other_api.put(f"/api/v1/interactions/{iid}", json={"kind": "call", "contact": JANE})
    assert r.status_code == 409
    assert "private" not in r.get_data(as_text=True)
    assert other_api.get("/api/v1/devices").json["devices"][0]["name"] == "Alice laptop"
    assert len(api.get("/api/v1/devices").json["devices"]) == 1

    # Alice's own data is hers, and mine is untouched.
    theirs = other_api.put(
        f"/api/v1/interactions/{uuid.uuid4()}", json={"kind": "call", "contact": JANE}
    )
    assert theirs.status_code == 201
    assert theirs.json["contact"]["id"] != cid
    mine_now = api.get(f"/api/v1/contacts/{cid}").json
    assert mine_now["name"] == "Jane Doe" and mine_now["tie"]["interaction_count"] == 1
    with app.app_context():
        owners = {row.user_id for row in db.session.scalars(select(Interaction))}
        users = {u.username: u.id for u in db.session.scalars(select(User))}
    assert owners == {users["me"], users["alice"]}


def test_deleting_an_interaction_keeps_the_row_as_a_tombstone(app, api, log):
    body = log("coffee", note="to delete")
    api.delete(f"/api/v1/interactions/{body['interaction']['id']}")
    with app.app_context():
        row = db.session.get(Interaction, uuid.UUID(body["interaction"]["id"]))
        assert row is not None and row.deleted_at is not None
        assert row.note == "to delete"
        assert row.updated_at >= row.created_at


def test_blank_external_refs_stored_before_become_null(database_url, app, log):
    """Stored before a blank ref was read as none: the migration makes them null too."""
    blank, real = log("email"), log("email", external_ref="<CAF=abc@mail.gmail.com>")
    engine = create_engine(database_url)
    config = alembic_config(database_url)
    try:
        command.downgrade(config, "0004")
        with engine.begin() as conn:
            ref = Interaction.__table__.c.external_ref
            conn.execute(Interaction.__table__.update().values(external_ref=ref + " \t\u3000"))
            conn.execute(
                Interaction.__table__.update()
                .where(Interaction.id == uuid.UUID(blank["interaction"]["id"]))
                .values(external_ref=" \t\u3000")
            )
        command.upgrade(config, "head")
        with engine.connect() as conn:
            refs = dict(conn.execute(select(Interaction.id, Interaction.external_ref)).all())
    finally:
        engine.dispose()
    assert refs == {
        uuid.UUID(blank["interaction"]["id"]): None,
        uuid.UUID(real["interaction"]["id"]): "<CAF=abc@mail.gmail.com> \t\u3000",
    }
