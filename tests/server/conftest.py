"""Fixtures of the server suite (the shared ones live in tests/conftest.py)."""

import pytest
from server_helpers import JANE, new_id
from sqlalchemy import func, select

from api.models import db


@pytest.fixture
def log(api):
    """PUT one interaction (an inline contact Jane by default); returns the JSON answer."""

    def log(kind="coffee", *, contact=None, contact_id=None, id=None, expect=201, **fields):
        body = {"kind": kind, **fields}
        if contact_id is not None:
            body["contact_id"] = contact_id
        else:
            body["contact"] = contact or JANE
        r = api.put(f"/api/v1/interactions/{id or new_id()}", json=body)
        assert r.status_code == expect, r.get_json()
        return r.get_json()

    return log


@pytest.fixture
def table_counts(app):
    """Row count of every table: a failed request must leave all of them as they were."""

    def snapshot() -> dict[str, int]:
        with app.app_context():
            counts = {
                table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables
            }
            db.session.rollback()
            return counts

    return snapshot


@pytest.fixture
def changes(api):
    """The whole changes feed of the personal user."""

    def everything() -> list[dict]:
        r = api.get("/api/v1/changes?since=0&limit=1000")
        assert r.status_code == 200
        assert not r.json["has_more"]
        return r.json["changes"]

    return everything


@pytest.fixture
def other_api(client, make_token):
    """A second user of the same server (a shared install)."""
    headers = {"Authorization": f"Bearer {make_token('Alice laptop', username='alice')}"}

    class Caller:
        def __getattr__(self, method):
            def call(path, **kwargs):
                return getattr(client, method)(
                    path, headers={**headers, **kwargs.pop("headers", {})}, **kwargs
                )

            return call

    return Caller()
