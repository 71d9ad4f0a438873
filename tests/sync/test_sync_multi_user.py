"""Acceptance 6 (in-process half): several users on one server. Users are created by the CLI with
a password and connect their browsers with it (POST /api/v1/pair and the /connect sign-in form);
every endpoint, walked with user A's token against user B's data, gives nothing and changes
nothing."""

import json
import uuid

import pytest
from sqlalchemy import select, text
from synctools import Device, pairing_code

from api.models import User, db

REMOTE = {"REMOTE_ADDR": "203.0.113.7"}  # a browser on another machine


def test_users_connect_browsers_with_their_password(client, run_cli):
    # Interactive: the password is asked twice and never echoed.
    out = run_cli("user", "create", "alice", input="correct horse\ncorrect horse\n").output
    assert "User alice created." in out and "correct horse" not in out
    run_cli("user", "create", "bob", "--password", "battery staple")
    assert run_cli("user", "create", "bob", "--password", "x", ok=False).exit_code != 0

    # The extension pairs with a remote server by username and password.
    r = client.post(
        "/api/v1/pair",
        json={"username": "alice", "password": "correct horse", "device_name": "Firefox on Linux"},
        environ_base=REMOTE,
    )
    assert r.status_code == 201, r.get_json()
    alice = Device(client, r.get_json()["token"])
    assert r.get_json()["device"]["name"] == "Firefox on Linux"
    for wrong in (
        {"username": "alice", "password": "battery staple"},
        {"username": "nobody", "password": "correct horse"},
    ):
        r = client.post("/api/v1/pair", json={**wrong, "device_name": "X"}, environ_base=REMOTE)
        assert r.status_code == 401, wrong
        assert "token" not in r.get_json()

    # The /connect page of a shared server asks a remote visitor to sign in first ...
    page = client.get("/connect", environ_base=REMOTE).get_data(as_text=True)
    assert '<form method="post">' in page and pairing_code(page) is None
    r = client.post("/connect", data={"username": "bob", "password": "nope"}, environ_base=REMOTE)
    assert r.status_code == 200 and pairing_code(r.get_data(as_text=True)) is None
    assert "did not match" in r.get_data(as_text=True)
    # ... and then offers a one-time code for that user, which the extension redeems.
    r = client.post(
        "/connect", data={"username": "bob", "password": "battery staple"}, environ_base=REMOTE
    )
    code = pairing_code(r.get_data(as_text=True))
    assert code, r.get_data(as_text=True)
    assert r.headers["Cache-Control"] == "no-store"
    r = client.post("/api/v1/pair", json={"code": code, "device_name": "Chrome on Windows"})
    assert r.status_code == 201
    bob = Device(client, r.get_json()["token"])

    # Each user sees only their own browsers, in the API and the CLI.
    assert [d["name"] for d in alice.get("/api/v1/devices").get_json()["devices"]] == [
        "Firefox on Linux"
    ]
    assert [d["name"] for d in bob.get("/api/v1/devices").get_json()["devices"]] == [
        "Chrome on Windows"
    ]
    assert "Firefox on Linux" in run_cli("devices", "list", "--user", "alice").output
    assert "Firefox" not in run_cli("devices", "list", "--user", "bob").output
    assert run_cli("devices", "list", "--user", "nobody", ok=False).exit_code != 0
    # Bob cannot revoke Alice's browser from his own account, nor from the CLI as bob.
    alice_id = alice.get("/api/v1/devices").get_json()["devices"][0]["id"]
    assert bob.delete(f"/api/v1/devices/{alice_id}").status_code == 404
    assert run_cli("devices", "revoke", str(alice_id), "--user", "bob", ok=False).exit_code
    assert alice.get("/api/v1/devices").status_code == 200


# ---- isolation: every endpoint, A's token, B's data ---------------------------------------------

B_EMAIL = "bee.secret@example.org"
B_SLUG = "bee-secret-profile"
B_NAME = "Beatrix Secretkeeper"
B_NOTE = "bee-secret-note"
IGNORED_TABLES = {"pair_attempts", "alembic_version"}  # not any user's data


def _snapshot(app, user_id: int) -> dict:
    """Every row of user B, table by table; a new table must say whose rows it holds."""
    out = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            if table.name in IGNORED_TABLES:
                continue
            if table.name == "users":
                where = table.c.id == user_id
            else:
                assert "user_id" in table.c, f"table {table.name}: whose rows? (update this test)"
                where = table.c.user_id == user_id
            rows = db.session.execute(select(table).where(where)).mappings().all()
            out[table.name] = sorted(json.dumps(dict(r), default=str, sort_keys=True) for r in rows)
        db.session.rollback()
    return out


def _seed_b(make_token, client):
    b = Device(client, make_token("B's Firefox", "bee"))
    make_token("B's Chrome", "bee")
    r = b.put(
        f"/api/v1/interactions/{uuid.uuid4()}",
        json={
            "kind": "meal",
            "note": B_NOTE,
            "favor": {"direction": "given", "value": 5},
            "contact": {
                "name": B_NAME,
                "identities": [
                    {"kind": "email", "value": B_EMAIL},
                    {"kind": "linkedin", "value": B_SLUG},
                ],
            },
        },
    )
    assert r.status_code == 201
    contact = r.get_json()["contact"]["id"]
    live = r.get_json()["interaction"]["id"]
    gone = str(uuid.uuid4())
    b.put(f"/api/v1/interactions/{gone}", json={"kind": "call", "contact_id": contact})
    assert b.delete(f"/api/v1/interactions/{gone}").status_code == 200
    devices = [d["id"] for d in b.get("/api/v1/devices").get_json()["devices"]]
    return b, {"contact_id": [contact], "interaction_id": [live, gone], "device_id": devices}


def _seed_a(make_token, client):
    a = Device(client, make_token("A's Firefox", "ay"))
    r = a.put(
        f"/api/v1/interactions/{uuid.uuid4()}",
        json={
            "kind": "coffee",
            "contact": {
                "name": "Friend of A",
                "identities": [{"kind": "email", "value": "f@a.io"}],
            },
        },
    )
    assert r.status_code == 201
    return a, {
        "contact_id": [r.get_json()["contact"]["id"]],
        "interaction_id": [r.get_json()["interaction"]["id"]],
        "device_id": [],  # only PUT and PATCH are aimed at A's own ids
    }


def _bodies(b_ids: dict) -> list:
    contact = b_ids["contact_id"][0]
    b_identities = [{"kind": "email", "value": B_EMAIL}, {"kind": "linkedin", "value": B_SLUG}]
    return [
        None,
        {},
        {"kind": "call", "contact_id": contact},
        {"kind": "call", "contact": {"name": "Mine", "identities": b_identities}},
        {"contact_id": contact},
        {"note": "hijacked", "closeness": 1, "favor": None},
        {"name": "Hijacked", "notes": "hijacked", "identities": b_identities},
        {"weights": {"recency": 0.9}, "frequency_half_life_days": 10},
        {"username": "bee", "password": "guess", "device_name": "Intruder"},
        {"code": "ABCD-EFGH-JKMN-PQRS", "device_name": "Intruder"},
    ]


def _queries(b_ids: dict) -> list[str]:
    return [
        "",
        f"?email={B_EMAIL}",
        f"?linkedin=https://www.linkedin.com/in/{B_SLUG}/",
        f"?linkedin={B_SLUG}",
        "?since=0",
        "?since=0&limit=1000",
        "?q=Beat",
        "?sort=recent&page_size=500",
        f"?contact_id={b_ids['contact_id'][0]}",
    ]


def _paths(rule, ids_by_arg: dict) -> list[str]:
    """The rule's path with each combination of the given ids for its arguments."""
    unknown = rule.arguments - set(ids_by_arg)
    assert not unknown, f"{rule.rule}: give this test user B's value for {unknown}"
    paths = [rule.rule]
    for arg in rule.arguments:
        pattern = next(p for p in paths[0].split("/") if p.endswith(f":{arg}>"))
        paths = [p.replace(pattern, str(v)) for p in paths for v in ids_by_arg[arg]]
    return paths


def _summary(dev) -> list:
    contacts = dev.get("/api/v1/contacts").get_json()["contacts"]
    return [
        (c["id"], c["name"], c["identities"], c["updated_at"], c["tie"]["interaction_count"])
        for c in contacts
    ]


def test_user_a_gets_nothing_of_user_b_and_changes_nothing(app, client, make_token):
    b, b_ids = _seed_b(make_token, client)
    a, a_ids = _seed_a(make_token, client)
    with app.app_context():
        b_user = db.session.scalar(select(User).where(User.username == "bee")).id
        db.session.rollback()
    b_view = _summary(b)
    before = _snapshot(app, b_user)
    secrets = [B_EMAIL, B_SLUG, B_NAME, B_NOTE, "B's Firefox", "B's Chrome"]
    secrets += [str(i) for i in b_ids["interaction_id"]]

    # The plain answers are empty, not merely free of B's strings.
    assert a.get(f"/api/v1/lookup?email={B_EMAIL}").get_json() == {"contact": None, "tie": None}
    assert a.get(f"/api/v1/lookup?linkedin={B_SLUG}").get_json()["contact"] is None
    feed = a.get("/api/v1/changes?since=0&limit=1000").get_json()["changes"]
    assert {c["entity"] for c in feed} == {"contact", "identity", "interaction"}
    assert not {c["id"] for c in feed} & {str(b_ids["contact_id"][0]), *secrets}
    assert [c["name"] for c in a.get("/api/v1/contacts").get_json()["contacts"]] == ["Friend of A"]
    listed = {d["id"] for d in a.get("/api/v1/devices").get_json()["devices"]}
    assert len(listed) == 1 and not listed & set(b_ids["device_id"])

    # Every rule under /api/v1, every method, aimed at B's ids (and at A's own, with bodies
    # naming B's contact): never B's data back, never a change to B's rows.
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/")]
    assert len(rules) >= 11
    told = set()  # what A itself sent: A's own data may echo it back
    calls = 0
    for rule in rules:
        targets = _paths(rule, b_ids)
        # A's own ids too, for edits whose body names B's contact.
        own = _paths(rule, a_ids) if rule.arguments else []
        for method in sorted(rule.methods):
            if method in ("POST", "PUT", "PATCH", "DELETE"):
                variants = [("", body) for body in _bodies(b_ids)]
            elif method == "GET" and not rule.arguments:
                variants = [(q, None) for q in _queries(b_ids)]
            else:  # HEAD, OPTIONS
                variants = [("", None)]
            for path in targets + (own if method in ("PUT", "PATCH") else []):
                aimed_at_b = path in targets and bool(rule.arguments)
                for query, body in variants:
                    kwargs = {"json": body} if body is not None else {}
                    told.update(s for s in secrets if s in path + query + json.dumps(body))
                    r = a.open(path + query, method=method, **kwargs)
                    calls += 1
                    where = f"{method} {path}{query} {body}"
                    assert r.status_code < 500, where
                    if aimed_at_b and method != "OPTIONS":
                        assert r.status_code in (404, 409, 422), where
                    answer = r.get_data(as_text=True)
                    leaked = [s for s in secrets if s in answer and s not in told]
                    assert not leaked, (where, leaked)
                    data = r.get_json(silent=True)
                    if r.status_code < 300 and isinstance(data, dict):
                        contact = data.get("contact") or {}
                        assert contact.get("id") not in b_ids["contact_id"], where
    assert calls > 100

    # B's rows are exactly as they were, and B sees the same ledger.
    assert _snapshot(app, b_user) == before
    assert _summary(b) == b_view
    assert b.get("/api/v1/devices").status_code == 200


@pytest.mark.parametrize("table", ["users", "devices"])
def test_snapshot_sees_b_rows(app, make_token, client, table):
    """The isolation test's snapshot is not vacuous."""
    _seed_b(make_token, client)
    with app.app_context():
        b_user = db.session.scalar(select(User).where(User.username == "bee")).id
        db.session.rollback()
    snap = _snapshot(app, b_user)
    assert snap[table] and snap["interactions"] and snap["changes"] and snap["contact_stats"]
    with app.app_context():
        db.session.execute(text("UPDATE interactions SET note = 'x'"))
        db.session.commit()
    assert _snapshot(app, b_user) != snap
