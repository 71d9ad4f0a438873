"""What the live tests share: tokens and pairing codes made in-process in the server's database
(``token_for``, ``pairing_code``, no CLI round trip needed) and a secret to seed. The server
itself is ``live_server.ServerProcess`` (see ``live_server_factory`` in conftest.py).
"""

from __future__ import annotations

import re

from live_server import ServerProcess

from api import auth, create_app
from api.models import db

# A pairing code as /connect and `strongties pair` show it.
CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")
# Ledger data no attacker may see.
SECRET = {"name": "Secret Person", "email": "secret@example.com", "notes": "SECRET-NOTE-7731"}


def token_for(database_url: str, name: str = "hardening") -> str:
    """A device token of the personal user, made directly in the database."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    with app.app_context():
        _, token = auth.create_device(auth.default_user(), name)
        db.session.commit()
        db.engine.dispose()
    return token


def pairing_code(database_url: str) -> str:
    """A fresh pairing code of the personal user, as `strongties pair` would print it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True})
    with app.app_context():
        code = auth.create_pairing_code(auth.default_user())
        db.session.commit()
        db.engine.dispose()
    return code


def seed_secret(server: ServerProcess, token: str) -> None:
    r = server.request(
        "POST",
        "/api/v1/contacts",
        token,
        json={
            "name": SECRET["name"],
            "identities": [{"kind": "email", "value": SECRET["email"]}],
            "notes": SECRET["notes"],
        },
    )
    assert r.status_code == 201, r.text
