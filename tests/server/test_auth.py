"""Who may call the API: bearer tokens (stored hashed, revocable), one-time pairing codes,
and CORS for the browser extensions only (plus configured origins)."""

import uuid
from datetime import timedelta

import pytest
from server_helpers import assert_error
from sqlalchemy import select, text, update
from werkzeug.routing import IntegerConverter, UUIDConverter

from api import auth, create_app
from api.models import Device, PairAttempt, PairingCode, db, utcnow

PUBLIC = {"/api/v1/health", "/api/v1/pair"}
CHROME = "chrome-extension://" + "abcdefghijklmnopabcdefghijklmnop"
FIREFOX = "moz-extension://" + str(uuid.uuid4())


def protected_calls(app):
    """Every (method, url) under /api/v1 except health and pair, ids filled in."""
    adapter = app.url_map.bind("localhost")
    calls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule in PUBLIC:
            continue
        values = {}
        for name in rule.arguments:
            converter = rule._converters[name]
            if isinstance(converter, UUIDConverter):
                values[name] = uuid.uuid4()
            elif isinstance(converter, IntegerConverter):
                values[name] = 999999  # no such row: nothing is changed
            else:
                values[name] = "x"
        url = adapter.build(rule.endpoint, values)
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            calls.append((method, url))
    return calls


def pairing_code(app, username=None) -> str:
    with app.app_context():
        user = auth.default_user()
        code = auth.create_pairing_code(user)
        db.session.commit()
        return code


def test_every_route_but_health_pair_and_spec_needs_a_token(app, client, auth_headers):
    calls = protected_calls(app)
    assert len(calls) >= 14, calls
    for method, url in calls:
        for headers in (
            {},
            {"Authorization": "Bearer st_not-a-real-token"},
            {"Authorization": "Bearer "},
            {"Authorization": "Basic dXNlcjpwYXNz"},
            {"Authorization": auth_headers["Authorization"].replace("Bearer ", "")},
        ):
            r = client.open(url, method=method, headers=headers, json={})
            assert_error(r, 401)
            # RFC 9110/6750: the 401 names the scheme to use; a token sent is called invalid.
            challenge = r.headers["WWW-Authenticate"]
            assert challenge.startswith('Bearer realm="strongties"'), challenge
            sent = headers.get("Authorization", "").startswith("Bearer st_")
            assert ('error="invalid_token"' in challenge) == sent, (headers, challenge)
        # With the token the request gets past authentication.
        r = client.open(url, method=method, headers=auth_headers, json={})
        assert r.status_code != 401, (method, url)


def test_health_pair_and_the_spec_need_no_token(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json["status"] == "ok" and r.json["version"]
    assert r.json["database"] in ("sqlite", "postgresql")
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/api/docs").status_code == 200
    r = client.post("/api/v1/pair", json={"code": "AAAA-BBBB-CCCC-DDDD"})
    assert_error(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer ")


def test_pairing_code_gives_a_token_once(app, client):
    code = pairing_code(app)
    r = client.post("/api/v1/pair", json={"code": code, "device_name": "Firefox at work"})
    assert r.status_code == 201, r.json
    token, device = r.json["token"], r.json["device"]
    assert device["name"] == "Firefox at work" and device["current"] is True
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/contacts", headers=headers).status_code == 200
    listed = client.get("/api/v1/devices", headers=headers).json["devices"]
    assert [(d["id"], d["current"]) for d in listed] == [(device["id"], True)]

    again = client.post("/api/v1/pair", json={"code": code, "device_name": "Thief"})
    assert_error(again, 401)


@pytest.mark.parametrize("blank", ["", "   ", "\t\u3000"])
def test_a_device_is_named_something(app, client, blank):
    code = pairing_code(app)
    r = client.post("/api/v1/pair", json={"code": code, "device_name": blank})
    assert_error(r, 422)
    assert "device_name" in r.json["errors"]["json"]
    r = client.post("/api/v1/pair", json={"code": code, "device_name": "  Laptop\n"})
    assert r.status_code == 201, r.json  # the refusal did not use the code up
    assert r.json["device"]["name"] == "Laptop"


def test_a_code_is_read_forgivingly(app, client):
    code = pairing_code(app)
    typed = " " + code.replace("-", "").lower().replace("0", "o") + " "
    r = client.post("/api/v1/pair", json={"code": typed})
    assert r.status_code == 201, r.json


def test_an_expired_code_is_refused(app, client):
    code = pairing_code(app)
    with app.app_context():
        db.session.execute(update(PairingCode).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert_error(client.post("/api/v1/pair", json={"code": code}), 401)


def test_wrong_codes_are_counted_and_then_refused(app, client):
    app.config["STRONGTIES_PAIR_MAX_FAILURES"] = 3
    code = pairing_code(app)
    for _ in range(3):
        assert_error(client.post("/api/v1/pair", json={"code": "0000-0000-0000-0000"}), 401)
    # Even the right code waits now: guessing is throttled per client, until the first failure
    # leaves the code lifetime's window, which Retry-After says.
    r = client.post("/api/v1/pair", json={"code": code})
    assert_error(r, 429)
    lifetime = app.config["STRONGTIES_PAIR_CODE_MINUTES"] * 60
    assert lifetime - 60 < int(r.headers["Retry-After"]) <= lifetime, r.headers
    with app.app_context():  # the first failure was nearly a lifetime ago
        first = db.session.scalar(select(PairAttempt).order_by(PairAttempt.id).limit(1))
        first.at = utcnow() - timedelta(seconds=lifetime - 30)
        db.session.commit()
    r = client.post("/api/v1/pair", json={"code": code})
    assert_error(r, 429)
    assert 0 < int(r.headers["Retry-After"]) <= 30, r.headers
    with app.app_context():
        first = db.session.scalar(select(PairAttempt).order_by(PairAttempt.id).limit(1))
        first.at = utcnow() - timedelta(seconds=lifetime + 1)
        db.session.commit()
    assert client.post("/api/v1/pair", json={"code": code}).status_code == 201


def test_tokens_and_codes_are_stored_only_as_digests(app, client, make_token):
    made = make_token("CLI")
    code = pairing_code(app)
    paired = client.post("/api/v1/pair", json={"code": code}).json["token"]
    unused = pairing_code(app)
    with app.app_context():
        digests = set(db.session.scalars(select(Device.token_hash)))
        assert {auth.digest(made), auth.digest(paired)} <= digests
        dump = []
        for table in db.metadata.sorted_tables:
            dump += [repr(tuple(row)) for row in db.session.execute(select(table))]
        dump = "\n".join(dump)
    for secret in (made, paired, made[3:], paired[3:], code, unused):
        assert secret not in dump
    for secret in (code, unused):
        assert auth.normalise_code(secret) not in dump


def test_a_revoked_device_is_locked_out_at_once(client, make_token):
    keep = {"Authorization": f"Bearer {make_token('Laptop')}"}
    lost = {"Authorization": f"Bearer {make_token('Stolen phone')}"}
    devices = client.get("/api/v1/devices", headers=keep).json["devices"]
    stolen = next(d for d in devices if d["name"] == "Stolen phone")
    assert client.get("/api/v1/contacts", headers=lost).status_code == 200

    assert client.delete(f"/api/v1/devices/{stolen['id']}", headers=keep).status_code == 204
    r = client.get("/api/v1/contacts", headers=lost)
    assert_error(r, 401)
    assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    assert "disconnected" in r.headers["WWW-Authenticate"]
    assert_error(client.get("/api/v1/lookup?email=a@b.co", headers=lost), 401)
    assert [d["name"] for d in client.get("/api/v1/devices", headers=keep).json["devices"]] == [
        "Laptop"
    ]
    assert_error(client.delete(f"/api/v1/devices/{stolen['id']}", headers=keep), 404)
    assert_error(client.delete("/api/v1/devices/999999", headers=keep), 404)


def test_a_device_can_disconnect_itself(client, auth_headers):
    me = client.get("/api/v1/devices", headers=auth_headers).json["devices"][0]
    assert client.delete(f"/api/v1/devices/{me['id']}", headers=auth_headers).status_code == 204
    assert_error(client.get("/api/v1/devices", headers=auth_headers), 401)


def test_one_user_cannot_touch_another_users_devices(client, auth_headers, other_api):
    mine = client.get("/api/v1/devices", headers=auth_headers).json["devices"][0]
    assert_error(other_api.delete(f"/api/v1/devices/{mine['id']}"), 404)
    assert client.get("/api/v1/devices", headers=auth_headers).status_code == 200


def test_a_stored_digest_is_no_token(app, client):
    """The token is hashed before the lookup: someone who read the devices table cannot use it."""
    with app.app_context():
        _, token = auth.create_device(auth.default_user(), "x")
        db.session.commit()
        stored = db.session.scalar(text("SELECT token_hash FROM devices"))
    assert_error(client.get("/api/v1/contacts", headers={"Authorization": f"Bearer {stored}"}), 401)


# ---- CORS --------------------------------------------------------------------------------------


def preflight(client, origin, method="PUT", path=None):
    return client.options(
        path or f"/api/v1/interactions/{uuid.uuid4()}",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )


@pytest.mark.parametrize("origin", [CHROME, FIREFOX])
def test_extension_origins_pass_preflight(client, auth_headers, origin):
    r = preflight(client, origin)
    assert r.status_code in (200, 204)
    assert r.headers["Access-Control-Allow-Origin"] == origin
    assert "PUT" in r.headers["Access-Control-Allow-Methods"]
    assert "authorization" in r.headers["Access-Control-Allow-Headers"].lower()
    # The actual response (and an error response) carry it too, so the extension can read them.
    r = client.get("/api/v1/contacts", headers={**auth_headers, "Origin": origin})
    assert r.headers["Access-Control-Allow-Origin"] == origin
    r = client.get("/api/v1/contacts", headers={"Origin": origin})
    assert r.status_code == 401
    assert r.headers["Access-Control-Allow-Origin"] == origin


def test_other_origins_get_no_cors_grant(client, auth_headers):
    for origin in (
        "https://evil.example",
        "https://www.linkedin.com",
        "chrome-extension://" + "abcdefghijklmnopabcdefghijklmnoz",  # z is not an id letter
        "chrome-extension://" + "abc",
        "moz-extension://not-a-uuid",
        "null",
    ):
        r = preflight(client, origin)
        assert "Access-Control-Allow-Origin" not in r.headers, origin
        r = client.get("/api/v1/contacts", headers={**auth_headers, "Origin": origin})
        assert "Access-Control-Allow-Origin" not in r.headers, origin


def test_a_configured_origin_is_allowed(database_url, monkeypatch):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": database_url, "STRONGTIES_CORS_ORIGINS": ["https://crm.test"]}
    )
    r = preflight(app.test_client(), "https://crm.test")
    assert r.headers["Access-Control-Allow-Origin"] == "https://crm.test"
    assert (
        "Access-Control-Allow-Origin" not in preflight(app.test_client(), "https://x.test").headers
    )
    with app.app_context():
        db.engine.dispose()

    monkeypatch.setenv("STRONGTIES_DATABASE_URL", database_url)
    monkeypatch.setenv("STRONGTIES_CORS_ORIGINS", "https://a.test, https://b.test")
    app = create_app()
    for origin in ("https://a.test", "https://b.test", CHROME):
        assert preflight(app.test_client(), origin).headers["Access-Control-Allow-Origin"] == origin
    assert (
        "Access-Control-Allow-Origin" not in preflight(app.test_client(), "https://c.test").headers
    )
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("get", "/api/v1/no-such-thing", 404),
        ("get", "/api/v2/contacts", 404),
        ("post", "/api/v1/contacts/1/no-such-thing", 404),
        ("put", "/api/v1/contacts", 405),
        ("post", "/api/v1/devices", 405),
        ("get", "/api/v1/interactions", 405),
    ],
)
def test_an_unknown_route_is_a_404_or_405_with_or_without_a_token(
    client, auth_headers, method, path, status
):
    """Routing comes first: a route that does not exist says so, whoever asks (the routes are
    public in the spec; no ledger data is behind them)."""
    for headers in ({}, {"Authorization": "Bearer st_not-a-real-token"}, auth_headers):
        r = getattr(client, method)(path, headers=headers, json={})
        assert_error(r, status)
        assert "WWW-Authenticate" not in r.headers
    if status == 405:
        assert r.headers["Allow"]
