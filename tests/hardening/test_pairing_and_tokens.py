"""Pairing resists guessing, and device tokens are compared in constant time and stored hashed.

- codes: 16 characters from a 32-character alphabet (80 bits) drawn from `secrets`;
- attempts: after STRONGTIES_PAIR_MAX_FAILURES failures a client gets 429, even with a valid
  code, and a spoofed X-Forwarded-For does not reset the count;
- lifetime: a code is refused once expired (default 10 minutes) and once used, also when many
  clients race to use it at the same instant;
- storage: the database holds SHA-256 digests only, never a token or a code;
- comparison: the bearer token's digest is checked with hmac.compare_digest, whose answer gates
  access; a token is accepted from the Authorization header only (no cookie, no query string),
  and a revoked one stops working at once;
- refusals read by an extension: WWW-Authenticate and Retry-After are exposed to CORS requests.
"""

from __future__ import annotations

import hashlib
import random
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import requests
from sqlalchemy import create_engine, func, inspect, select, text
from werkzeug.security import generate_password_hash

from api import auth
from api.models import Device, User, db, utcnow

from .live import pairing_code, token_for

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_SHAPE = re.compile(rf"^[{ALPHABET}]{{4}}(-[{ALPHABET}]{{4}}){{3}}$")
ATTACKER = {"REMOTE_ADDR": "203.0.113.7"}
OTHER_CLIENT = {"REMOTE_ADDR": "198.51.100.2"}


def new_code(app) -> str:
    with app.app_context():
        code = auth.create_pairing_code(auth.default_user())
        db.session.commit()
        return code


def pair(client, code, environ=None, **extra):
    return client.post(
        "/api/v1/pair",
        json={"code": code, "device_name": "Test", **extra},
        environ_base=environ or ATTACKER,
    )


def wrong_code(code: str) -> str:
    """The same code with its last character changed."""
    last = ALPHABET[(ALPHABET.index(code[-1]) + 1) % len(ALPHABET)]
    return code[:-1] + last


def test_codes_are_long_random_and_from_a_32_character_alphabet():
    codes = [auth.new_pairing_code() for _ in range(2000)]
    assert all(CODE_SHAPE.match(c) for c in codes), codes[:3]
    assert len(set(codes)) == len(codes)
    # 16 symbols of 32 = 80 bits; every symbol of the alphabet is in use.
    assert len(ALPHABET) == 32 and len(set(ALPHABET)) == 32
    assert set("".join(codes).replace("-", "")) == set(ALPHABET)
    # Drawn from the OS generator (`secrets`), not the seedable `random` module.
    random.seed(1)
    first = auth.new_pairing_code()
    random.seed(1)
    assert auth.new_pairing_code() != first
    # Device tokens carry 256 bits.
    token = auth.new_token()
    assert token.startswith("st_") and len(token) >= 3 + 43


def test_failed_attempts_are_limited_per_client_even_for_a_valid_code(app, client):
    app.config["STRONGTIES_PAIR_MAX_FAILURES"] = 5
    code = new_code(app)
    for _ in range(5):
        r = pair(client, wrong_code(code))
        assert r.status_code == 401, r.get_json()
    # The limit holds for the right code too, and a forged proxy header does not reset it.
    r = pair(client, code)
    assert r.status_code == 429, r.get_json()
    assert r.get_json()["code"] == "too_many_requests"
    r = client.post(
        "/api/v1/pair",
        json={"code": code},
        environ_base=ATTACKER,
        headers={"X-Forwarded-For": "192.0.2.99"},
    )
    assert r.status_code == 429
    # The code was not spent by the refused attempts; another client can still use it.
    r = pair(client, code, OTHER_CLIENT)
    assert r.status_code == 201, r.get_json()


def test_password_guesses_count_against_the_same_limit(app, client):
    app.config["STRONGTIES_PAIR_MAX_FAILURES"] = 3
    with app.app_context():
        db.session.add(
            User(username="alice", password_hash=generate_password_hash("right"), settings={})
        )
        db.session.commit()
    for guess in ("wrong1", "wrong2", "wrong3"):
        r = client.post(
            "/api/v1/pair",
            json={"username": "alice", "password": guess},
            environ_base=ATTACKER,
        )
        assert r.status_code == 401
    r = client.post(
        "/api/v1/pair", json={"username": "alice", "password": "right"}, environ_base=ATTACKER
    )
    assert r.status_code == 429
    # The sign-in form of /connect shares the counter.
    r = client.post(
        "/connect", data={"username": "alice", "password": "right"}, environ_base=ATTACKER
    )
    assert r.status_code == 429


def test_expired_code_is_refused(app, client, monkeypatch):
    code, still_valid = new_code(app), new_code(app)
    now = utcnow()
    monkeypatch.setattr(auth, "utcnow", lambda: now + timedelta(minutes=9))
    assert pair(client, still_valid).status_code == 201
    monkeypatch.setattr(auth, "utcnow", lambda: now + timedelta(minutes=11))
    r = pair(client, code, OTHER_CLIENT)
    assert r.status_code == 401, r.get_json()
    assert "token" not in r.get_json()


def test_code_works_once(app, client):
    code = new_code(app)
    # Typed by hand: lower case, no dashes, O for 0 and I for 1 are accepted.
    typed = code.replace("-", "").lower().replace("0", "o").replace("1", "i")
    assert pair(client, typed).status_code == 201
    r = pair(client, code, OTHER_CLIENT)
    assert r.status_code == 401, r.get_json()


def _all_stored_text(database_url: str) -> str:
    """Every value of every row of every table, as text."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            chunks = []
            for table in inspect(conn).get_table_names():
                for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                    chunks.append(repr(tuple(row)))
            return "\n".join(chunks)
    finally:
        engine.dispose()


def test_tokens_and_codes_are_stored_only_as_sha256_digests(app, client, database_url):
    code = new_code(app)
    r = pair(client, code)
    assert r.status_code == 201
    token = r.get_json()["token"]
    assert (
        client.get("/api/v1/devices", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )

    stored = _all_stored_text(database_url)
    raw_code = code.replace("-", "")
    for secret in (token, token[3:], code, raw_code):
        assert secret not in stored
    with app.app_context():
        device = db.session.scalar(select(Device).where(Device.name == "Test"))
        assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
        code_hash = db.session.scalar(text("SELECT code_hash FROM pairing_codes"))
        assert code_hash == hashlib.sha256(raw_code.encode()).hexdigest()
    if database_url.startswith("sqlite:///"):
        # Not in the file's bytes either (free pages, the write-ahead log).
        path = Path(database_url.removeprefix("sqlite:///"))
        for file in (path, path.with_name(path.name + "-wal")):
            if file.exists():
                data = file.read_bytes()
                assert token.encode() not in data and raw_code.encode() not in data


def test_token_digest_is_compared_in_constant_time(app, client, make_token, monkeypatch):
    token = make_token()
    calls = []
    real = auth.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/devices", headers=headers).status_code == 200
    assert calls == [(auth.digest(token), auth.digest(token))]

    # Its answer is what grants access: a mismatch there refuses the request.
    monkeypatch.setattr(auth.hmac, "compare_digest", lambda a, b: False)
    assert client.get("/api/v1/devices", headers=headers).status_code == 401


def test_token_is_accepted_from_the_bearer_header_only(client, make_token):
    token = make_token()
    good = client.get("/api/v1/devices", headers={"Authorization": f"Bearer {token}"})
    assert good.status_code == 200
    attempts = {
        "wrong last character": {"headers": {"Authorization": f"Bearer {token[:-1]}x"}},
        "query string": {"query_string": {"token": token, "access_token": token}},
        "cookie": {"headers": {"Cookie": f"token={token}; access_token={token}"}},
        "basic scheme": {"headers": {"Authorization": f"Basic {token}"}},
        "no scheme": {"headers": {"Authorization": token}},
    }
    for how, kwargs in attempts.items():
        r = client.get("/api/v1/devices", **kwargs)
        assert r.status_code == 401, how
        assert set(r.get_json()) >= {"code", "status", "message"}


def test_revoked_token_stops_working_at_once(client, make_token):
    """A stolen token: disconnect that device from any other and it is dead."""
    stolen, mine = make_token("laptop"), make_token("desktop")
    thief = {"Authorization": f"Bearer {stolen}"}
    owner = {"Authorization": f"Bearer {mine}"}
    devices = client.get("/api/v1/devices", headers=owner).get_json()["devices"]
    laptop = next(d for d in devices if d["name"] == "laptop")
    assert client.get("/api/v1/lookup?email=a@b.co", headers=thief).status_code == 200
    assert client.delete(f"/api/v1/devices/{laptop['id']}", headers=owner).status_code == 204
    for method, path in [("get", "/api/v1/lookup?email=a@b.co"), ("get", "/api/v1/changes")]:
        assert getattr(client, method)(path, headers=thief).status_code == 401
    r = client.put(
        "/api/v1/interactions/7a1e0a70-7d1c-4a9e-9c55-0d7c1d0d0001",
        json={
            "kind": "call",
            "contact": {"name": "X", "identities": [{"kind": "email", "value": "x@y.io"}]},
        },
        headers=thief,
    )
    assert r.status_code == 401
    assert client.get("/api/v1/devices", headers=owner).status_code == 200


def test_a_code_raced_by_many_clients_pairs_exactly_one(database_url, live_server_factory):
    """Eight clients send the same valid code at the same instant to the real server: one
    device is made, every other client is refused (the code is spent by a conditional update)."""
    server = live_server_factory(database_url)
    code = pairing_code(database_url)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        devices_before = conn.execute(select(func.count()).select_from(Device)).scalar()
    start = threading.Barrier(8)

    def attempt(n: int) -> int:
        start.wait()
        body = {"code": code, "device_name": f"Racer {n}"}
        return requests.post(f"{server.url}/api/v1/pair", json=body, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(attempt, range(8)))
    assert statuses == [201] + [401] * 7, statuses
    with engine.connect() as conn:
        devices_after = conn.execute(select(func.count()).select_from(Device)).scalar()
    engine.dispose()
    assert devices_after == devices_before + 1


def test_an_extension_can_read_why_the_live_server_refused_it(sqlite_url, live_server_factory):
    """An extension without the host permission (Firefox's default) makes CORS requests: it reads
    only the headers the server exposes. It must read WWW-Authenticate, to tell its token refused
    (forget it) from a proxy's 401 (keep it), and Retry-After, to say how long to wait."""
    server = live_server_factory(sqlite_url, env={"STRONGTIES_PAIR_MAX_FAILURES": "1"})
    origin = "moz-extension://0b5cf6c1-4d5e-4f1c-9a57-6d4f2c1f7e10"
    token = token_for(sqlite_url, "revoked later")
    devices = server.request("GET", "/api/v1/devices", token).json()["devices"]
    mine = next(d for d in devices if d["current"])
    assert server.request("DELETE", f"/api/v1/devices/{mine['id']}", token).status_code == 204

    def exposed(r: requests.Response) -> set[str]:
        assert r.headers["Access-Control-Allow-Origin"] == origin
        return {h.strip().lower() for h in r.headers["Access-Control-Expose-Headers"].split(",")}

    session = server.session
    for refused in (token, "st_never_issued_" + "x" * 40):  # revoked, unknown
        r = session.get(
            f"{server.url}/api/v1/lookup?email=a@b.co",
            headers={"Authorization": f"Bearer {refused}", "Origin": origin},
        )
        assert r.status_code == 401
        assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
        assert "www-authenticate" in exposed(r)

    r = session.get(f"{server.url}/api/v1/devices", headers={"Origin": origin})  # no token
    assert (r.status_code, r.headers["WWW-Authenticate"]) == (401, 'Bearer realm="strongties"')
    assert "www-authenticate" in exposed(r)

    for _ in range(2):  # the limit is one failure: the second attempt is told to wait
        r = session.post(
            f"{server.url}/api/v1/pair",
            json={"code": "AAAA-AAAA-AAAA-AAAA", "device_name": "guess"},
            headers={"Origin": origin},
        )
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert "retry-after" in exposed(r)
