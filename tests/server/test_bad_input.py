"""Bad input: 400 for broken JSON, 415 for a body not declared JSON, 422 naming the field, 413
for oversized bodies, 404 for unknown ids; one JSON error shape everywhere, never a 500, and a
failed request changes no row."""

import gzip
import json
import uuid
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from server_helpers import JANE, assert_error
from sqlalchemy import select

from api import create_app
from api.models import db

UNKNOWN = str(uuid.uuid4())


def future(days):
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@pytest.fixture
def seeded(api, log):
    """One contact with one interaction: the ids bad requests aim at."""
    body = log("coffee", contact=JANE, note="kept")
    return {"cid": body["contact"]["id"], "iid": body["interaction"]["id"]}


LONG_LOWERED = {"kind": "linkedin", "value": "İ" * 200}


def put_body(**fields):
    return {"kind": "call", "contact_id": "{cid}", **fields}


class Form(str):
    """A raw body sent as a web form would (curl -d's default), not as JSON."""


# (method, path, json body or raw string, status, field named in the error)
BAD = [
    # A body not declared JSON: said so, not ignored for a "missing field" error.
    ("put", "/api/v1/interactions/{new}", Form('{"kind": "call", "contact_id": 1}'), 415, None),
    ("post", "/api/v1/pair", Form("code=ABCD-EFGH&device_name=x"), 415, None),
    ("patch", "/api/v1/settings", Form("recency_half_life_days=5"), 415, None),
    # Not JSON at all.
    ("put", "/api/v1/interactions/{new}", "{bad json", 400, None),
    ("put", "/api/v1/interactions/{new}", '{"kind": "call",}', 400, None),
    ("post", "/api/v1/contacts", "[1, 2", 400, None),
    ("patch", "/api/v1/contacts/{cid}", "\x00\x01", 400, None),
    ("patch", "/api/v1/interactions/{iid}", "[" * 5000 + "]" * 5000, 400, None),
    ("put", "/api/v1/interactions/{new}", '{"closeness": ' + "9" * 5000 + "}", 400, None),
    # Not an object.
    ("put", "/api/v1/interactions/{new}", "[]", 422, None),
    ("post", "/api/v1/contacts", "null", 422, None),
    # Unknown fields.
    ("put", "/api/v1/interactions/{new}", put_body(colour="red"), 422, "colour"),
    (
        "put",
        "/api/v1/interactions/{new}",
        put_body(favor={"direction": "given", "amount": 2}),
        422,
        "amount",
    ),
    ("post", "/api/v1/contacts", {"name": "X", "age": 40}, 422, "age"),
    ("patch", "/api/v1/interactions/{iid}", {"mood": "good"}, 422, "mood"),
    ("patch", "/api/v1/settings", {"charm_weight": 1}, 422, "charm_weight"),
    # Wrong enum values.
    ("put", "/api/v1/interactions/{new}", put_body(kind="lunch"), 422, "kind"),
    ("put", "/api/v1/interactions/{new}", put_body(initiated_by="boss"), 422, "initiated_by"),
    (
        "put",
        "/api/v1/interactions/{new}",
        put_body(favor={"direction": "owed", "value": 1}),
        422,
        "direction",
    ),
    ("patch", "/api/v1/interactions/{iid}", {"kind": "LUNCH"}, 422, "kind"),
    ("patch", "/api/v1/settings", {"weights": {"charm": 1}}, 422, "weights"),
    # Out of range.
    ("put", "/api/v1/interactions/{new}", put_body(closeness=6), 422, "closeness"),
    ("put", "/api/v1/interactions/{new}", put_body(closeness=0), 422, "closeness"),
    ("put", "/api/v1/interactions/{new}", put_body(closeness="3"), 422, "closeness"),
    ("put", "/api/v1/interactions/{new}", put_body(closeness=2.5), 422, "closeness"),
    ("patch", "/api/v1/interactions/{iid}", {"closeness": 9}, 422, "closeness"),
    (
        "put",
        "/api/v1/interactions/{new}",
        put_body(favor={"direction": "given", "value": 6}),
        422,
        "value",
    ),
    (
        "put",
        "/api/v1/interactions/{new}",
        put_body(favor={"direction": "given", "value": True}),
        422,
        "value",
    ),
    ("patch", "/api/v1/settings", {"frequency_half_life_days": 0}, 422, "frequency_half_life_days"),
    ("patch", "/api/v1/settings", {"kind_closeness": {"call": 3.7}}, 422, "kind_closeness"),
    # Dates.
    (
        "put",
        "/api/v1/interactions/{new}",
        put_body(occurred_at="2999-01-01T00:00:00Z"),
        422,
        "occurred_at",
    ),
    ("put", "/api/v1/interactions/{new}", put_body(occurred_at="FUTURE10"), 422, "occurred_at"),
    (
        "put",
        "/api/v1/interactions/{new}",
        put_body(occurred_at="1969-12-31T23:59:59Z"),
        422,
        "occurred_at",
    ),
    (
        "put",
        "/api/v1/interactions/{new}",
        put_body(occurred_at="0001-01-01T00:00:00+01:00"),
        422,
        "occurred_at",
    ),
    ("put", "/api/v1/interactions/{new}", put_body(occurred_at="yesterday"), 422, "occurred_at"),
    ("put", "/api/v1/interactions/{new}", put_body(occurred_at=1700000000), 422, "occurred_at"),
    ("patch", "/api/v1/interactions/{iid}", {"occurred_at": "FUTURE10"}, 422, "occurred_at"),
    ("patch", "/api/v1/interactions/{iid}", {"occurred_at": None}, 422, "occurred_at"),
    # Missing or contradictory fields.
    ("put", "/api/v1/interactions/{new}", {"contact_id": "{cid}"}, 422, "kind"),
    ("put", "/api/v1/interactions/{new}", {"kind": "call"}, 422, "contact_id"),
    (
        "put",
        "/api/v1/interactions/{new}",
        {"kind": "call", "contact_id": "{cid}", "contact": JANE},
        422,
        "contact_id",
    ),
    (
        "put",
        "/api/v1/interactions/{new}",
        {"kind": "call", "contact": {"name": "No Id"}},
        422,
        "identities",
    ),
    (
        "put",
        "/api/v1/interactions/{new}",
        {"kind": "call", "contact": {"name": "X", "identities": [{"kind": "email", "value": "x"}]}},
        422,
        "identities",
    ),
    (
        "put",
        "/api/v1/interactions/{new}",
        {"kind": "call", "contact": {"name": "X", "identities": [{"kind": "fax", "value": "1"}]}},
        422,
        "identities",
    ),
    ("put", "/api/v1/interactions/{new}", put_body(contact_id="abc"), 422, "contact_id"),
    ("put", "/api/v1/interactions/{new}", put_body(contact_id=0), 422, "contact_id"),
    ("put", "/api/v1/interactions/{new}", put_body(contact_id=2**40), 422, "contact_id"),
    ("put", "/api/v1/interactions/{new}", put_body(note="x" * 5001), 422, "note"),
    ("put", "/api/v1/interactions/{new}", put_body(note="a\x00b"), 422, "note"),
    ("put", "/api/v1/interactions/{new}", put_body(note=None), 422, "note"),
    ("put", "/api/v1/interactions/{new}", put_body(external_ref="r" * 301), 422, "external_ref"),
    ("post", "/api/v1/interactions", {"kind": "call"}, 422, "contact_id"),
    ("post", "/api/v1/contacts", {"name": ""}, 422, "name"),
    ("post", "/api/v1/contacts", {"identities": []}, 422, "name"),
    ("post", "/api/v1/contacts", {"name": "N" * 301}, 422, "name"),
    ("post", "/api/v1/contacts", {"name": "X", "identities": "a@b.co"}, 422, "identities"),
    (
        "post",
        "/api/v1/contacts",
        {"name": "X", "identities": [{"kind": "linkedin", "value": "linkedin.com/company/acme"}]},
        422,
        "identities",
    ),
    (
        "post",
        "/api/v1/contacts",
        {
            "name": "X",
            "identities": [{"kind": "linkedin", "value": "https://linkedin.com.evil.example/in/x"}],
        },
        422,
        "identities",
    ),
    (
        "patch",
        "/api/v1/contacts/{cid}",
        {"identities": [{"kind": "email", "value": "@"}]},
        422,
        "identities",
    ),
    # 200 characters, but 400 once lowercased ("İ" is "i" and a combining dot): longer than a
    # slug may be, and than the database's identity column holds (a 500 on PostgreSQL).
    ("post", "/api/v1/contacts", {"name": "X", "identities": [LONG_LOWERED]}, 422, "identities"),
    (
        "put",
        "/api/v1/interactions/{new}",
        {"kind": "call", "contact": {"name": "X", "identities": [LONG_LOWERED]}},
        422,
        "identities",
    ),
    ("post", "/api/v1/contacts/{cid}/identities", {"identities": [LONG_LOWERED]}, 422, "value"),
    ("patch", "/api/v1/contacts/{cid}", {"name": None}, 422, "name"),
    ("post", "/api/v1/pair", {}, 422, "code"),
    ("post", "/api/v1/pair", {"code": 12345}, 422, "code"),
    # Blank credentials are refused as such (no failed attempt is counted against the client).
    ("post", "/api/v1/pair", {"code": " "}, 422, "code"),
    ("post", "/api/v1/pair", {"username": "", "password": "secret"}, 422, "username"),
    ("post", "/api/v1/pair", {"username": " \t", "password": "secret"}, 422, "username"),
    ("post", "/api/v1/pair", {"username": "me", "password": ""}, 422, "password"),
    ("post", "/api/v1/pair", {"username": "me", "password": "   "}, 422, "password"),
    # Query strings.
    ("get", "/api/v1/contacts?sort=age", None, 422, "sort"),
    ("get", "/api/v1/contacts?page=0", None, 422, "page"),
    ("get", "/api/v1/contacts?page_size=100000", None, 422, "page_size"),
    ("get", "/api/v1/lookup?email=not-an-address", None, 422, "email"),
    ("get", "/api/v1/lookup?linkedin=", None, 422, "linkedin"),
    ("get", "/api/v1/lookup?linkedin=" + "İ" * 200, None, 422, "linkedin"),
    ("get", "/api/v1/changes?since=-5", None, 422, "since"),
    # Unknown ids and routes.
    ("get", "/api/v1/contacts/999999", None, 404, None),
    ("get", "/api/v1/contacts/99999999999999999999", None, 404, None),
    ("get", "/api/v1/contacts/3000000000", None, 404, None),  # past a 32-bit id column
    ("patch", "/api/v1/contacts/3000000000", {"name": "X"}, 404, None),
    ("delete", "/api/v1/devices/3000000000", None, 404, None),
    ("patch", "/api/v1/contacts/999999", {"name": "X"}, 404, None),
    ("delete", "/api/v1/contacts/999999", None, 404, None),
    ("get", "/api/v1/contacts/999999/interactions", None, 404, None),
    ("get", "/api/v1/contacts/abc", None, 404, None),
    ("patch", "/api/v1/interactions/{unknown}", {"note": "x"}, 404, None),
    ("delete", "/api/v1/interactions/{unknown}", None, 404, None),
    ("put", "/api/v1/interactions/not-a-uuid", put_body(), 404, None),
    ("put", "/api/v1/interactions/{new}", put_body(contact_id=999999), 404, None),
    ("patch", "/api/v1/interactions/{iid}", {"contact_id": 999999}, 404, None),
    ("delete", "/api/v1/devices/999999", None, 404, None),
    ("delete", "/api/v1/devices/99999999999999999999", None, 404, None),
    ("get", "/api/v1/nothing-here", None, 404, None),
    ("post", "/api/v1/health", {}, 405, None),
    ("get", "/api/v1/interactions", None, 405, None),
]


def _fill(value, ids):
    """Put the seeded ids (and a date ten days ahead) into a body."""
    if value == "{cid}":
        return ids["cid"]
    if value == "FUTURE10":
        return future(10)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def send(api, method, path, body, ids):
    path = path.format(new=uuid.uuid4(), unknown=UNKNOWN, **ids)
    if body is None:
        return getattr(api, method)(path)
    if isinstance(body, Form):
        return getattr(api, method)(
            path, data=body, content_type="application/x-www-form-urlencoded"
        )
    if isinstance(body, str):  # raw bytes, sent as JSON
        return getattr(api, method)(path, data=body, content_type="application/json")
    return getattr(api, method)(path, json=_fill(body, ids))


def table_rows(app) -> dict[str, list]:
    """Every row of every table (the devices' last-seen note aside): what a failed request
    must leave exactly as it was."""
    with app.app_context():
        rows = {}
        for table in db.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name != "last_seen_at"]
            rows[table.name] = sorted(map(repr, db.session.execute(select(*columns)).all()))
        db.session.rollback()
        return rows


GROUPS = {
    400: "not JSON",
    415: "not declared JSON",
    422: "invalid field",
    404: "unknown id or route",
    405: "wrong method",
}


@pytest.mark.parametrize("status", sorted(GROUPS), ids=[GROUPS[s] for s in sorted(GROUPS)])
def test_bad_requests_are_refused_and_change_nothing(app, api, seeded, status):
    cases = [case for case in BAD if case[3] == status]
    assert cases
    before = table_rows(app)
    for method, path, body, expected, field in cases:
        response = send(api, method, path, body, seeded)
        try:
            assert_error(response, expected, field)
        except AssertionError as exc:
            raise AssertionError(f"{method.upper()} {path} {body!r:.120}: {exc}") from exc
        assert table_rows(app) == before, f"{method.upper()} {path} {body!r:.120} changed rows"


def test_an_instant_out_of_range_is_named_for_the_end_it_is_past(api, seeded):
    """Past the range datetime holds once converted to UTC, at either end: the message says
    which end, as it does for any other instant out of range."""
    for when, reason in (
        ("0001-01-01T00:00:00+01:00", "before 1970"),
        ("9999-12-31T23:59:59-14:00", "in the future"),
        ("2999-01-01T00:00:00Z", "in the future"),
    ):
        body = {"kind": "call", "contact_id": seeded["cid"], "occurred_at": when}
        error = assert_error(api.put(f"/api/v1/interactions/{uuid.uuid4()}", json=body), 422)
        assert error["errors"]["json"]["occurred_at"] == [f"Must not be {reason}."], when


WEIRD = [None, True, -1, 2**63, 1.5, "", "\ud800", [], {"a": 1}, "2024-02-30"]


def test_odd_values_never_cause_a_500(api, seeded):
    fields = (
        "kind",
        "occurred_at",
        "initiated_by",
        "closeness",
        "favor",
        "note",
        "external_ref",
        "contact_id",
        "contact",
    )
    for field in fields:
        for value in WEIRD:
            body = json.dumps({"kind": "call", "contact_id": seeded["cid"], field: value})
            calls = [("put", f"/api/v1/interactions/{uuid.uuid4()}")]
            if field != "contact":
                calls.append(("patch", f"/api/v1/interactions/{seeded['iid']}"))
            for method, path in calls:
                r = getattr(api, method)(path, data=body, content_type="application/json")
                assert r.status_code in (200, 201, 400, 404, 409, 422), (field, value, r.json)
                if r.status_code >= 400:
                    assert_error(r, r.status_code)
    for field in ("name", "identities", "notes"):
        for value in WEIRD + [[{"kind": "email"}], [{"kind": "linkedin", "value": None}]]:
            body = json.dumps({"name": "Z", field: value})
            for method, path in (
                ("post", "/api/v1/contacts"),
                ("patch", f"/api/v1/contacts/{seeded['cid']}"),
            ):
                r = getattr(api, method)(path, data=body, content_type="application/json")
                assert r.status_code in (200, 201, 409, 422), (field, value, r.json)
    for field in ("weights", "kind_weights", "recency_half_life_days", "kind_closeness"):
        for value in WEIRD:
            body = json.dumps({field: value})
            r = api.patch("/api/v1/settings", data=body, content_type="application/json")
            assert r.status_code in (200, 422), (field, value, r.json)


def test_a_body_over_the_limit_is_413_and_changes_nothing(api, seeded, table_counts):
    before = table_counts()
    big = {"kind": "call", "contact_id": seeded["cid"], "note": "x" * (65 * 1024)}
    assert_error(api.put(f"/api/v1/interactions/{uuid.uuid4()}", json=big), 413)
    assert_error(api.post("/api/v1/contacts", json={"name": "x", "notes": "y" * 70000}), 413)
    assert table_counts() == before


def test_a_compressed_body_is_415_not_broken_json(api, seeded, table_counts):
    """A body sent gzipped (Content-Encoding) is JSON the server cannot read: it says which
    coding it takes (RFC 9110: 415, with Accept-Encoding), not that the JSON is broken."""
    before = table_counts()
    body = json.dumps({"kind": "call", "contact_id": seeded["cid"]}).encode()
    for coding, data in (("gzip", gzip.compress(body)), ("deflate", zlib.compress(body))):
        r = api.put(
            f"/api/v1/interactions/{uuid.uuid4()}",
            data=data,
            headers={"Content-Type": "application/json", "Content-Encoding": coding},
        )
        assert "Content-Encoding" in assert_error(r, 415)["message"], coding
        assert r.headers["Accept-Encoding"] == "identity"
    assert table_counts() == before
    r = api.put(
        f"/api/v1/interactions/{uuid.uuid4()}",
        data=body,
        headers={"Content-Type": "application/json", "Content-Encoding": "identity"},
    )
    assert r.status_code == 201, r.json


def test_the_body_limit_is_configurable(database_url, make_token, monkeypatch):
    monkeypatch.setenv("STRONGTIES_DATABASE_URL", database_url)
    monkeypatch.setenv("STRONGTIES_MAX_BODY_BYTES", "1000")
    app = create_app()
    headers = {"Authorization": f"Bearer {make_token()}"}
    client = app.test_client()
    body = {"kind": "call", "contact": JANE}
    r = client.put(
        f"/api/v1/interactions/{uuid.uuid4()}", json={**body, "note": "n" * 400}, headers=headers
    )
    assert r.status_code == 201
    r = client.put(
        f"/api/v1/interactions/{uuid.uuid4()}", json={**body, "note": "n" * 1200}, headers=headers
    )
    assert_error(r, 413)
    with app.app_context():
        db.engine.dispose()
