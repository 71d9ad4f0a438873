"""The /connect page speaks to a person: a refused or failed sign-in is told in the page itself
(never as the API's JSON), with the username kept and the password never sent back, and an
empty form is no attempt at all."""

import html
import re
import shutil
import sqlite3
from contextlib import contextmanager

import pytest
from werkzeug.security import generate_password_hash

from api import create_app, database
from api.models import User, db

REMOTE = {"REMOTE_ADDR": "203.0.113.7"}  # a browser on another machine signs in
USERNAME = 'ann "the" <b>ee'  # quotes and markup: kept in the page, as text
PASSWORD = "s3cret-Passw0rd"


def add_user(app) -> None:
    with app.app_context():
        db.session.add(
            User(username=USERNAME, password_hash=generate_password_hash(PASSWORD), settings={})
        )
        db.session.commit()


def sign_in(client, username=USERNAME, password=PASSWORD):
    return client.post(
        "/connect", data={"username": username, "password": password}, environ_base=REMOTE
    )


def page_of(response, status: int) -> str:
    """The answer is the HTML page with `status`, holding neither the password nor a code."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html", response.mimetype
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert "<title>Connect this browser" in body and not body.lstrip().startswith("{")
    assert PASSWORD not in body
    assert "data-pairing-code" not in body
    return body


def alert(body: str) -> str:
    found = re.search(r'role="alert">(.*?)</p>', body, re.S)
    assert found, body
    return html.unescape(found.group(1))


def typed_username(body: str) -> str | None:
    found = re.search(r'<input type="text" name="username" value="([^"]*)"', body)
    return html.unescape(found.group(1)) if found else None


def test_an_empty_form_names_what_is_missing_and_counts_no_attempt(app, client, table_counts):
    app.config["STRONGTIES_PAIR_MAX_FAILURES"] = 2
    add_user(app)
    before = table_counts()
    for username, password, missing in (
        ("", "", "Enter your username and password."),
        ("   ", PASSWORD, "Enter your username."),
        (USERNAME, "", "Enter your password."),
    ):
        body = page_of(sign_in(client, username, password), 422)
        assert alert(body) == missing
        assert typed_username(body) == username
    assert table_counts() == before  # no failed attempt recorded, no code made
    # Three empty forms against a limit of two: the right password still works.
    r = sign_in(client)
    assert r.status_code == 200 and "data-pairing-code" in r.get_data(as_text=True)


def test_too_many_attempts_is_told_in_the_page_with_the_username_kept(app, client):
    app.config["STRONGTIES_PAIR_MAX_FAILURES"] = 2
    add_user(app)
    for _ in range(2):
        body = page_of(sign_in(client, password="wrong"), 200)
        assert alert(body) == "That username and password did not match."
        assert typed_username(body) == USERNAME
    refused = sign_in(client)  # even the right password, now
    body = page_of(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 600  # when the oldest failure expires
    assert alert(body).startswith("Too many failed sign-in attempts from this address.")
    assert "at most 10" in alert(body)
    assert typed_username(body) == USERNAME
    assert '<form method="post">' in body


@pytest.fixture
def busy_app(tmp_path, sqlite_template, monkeypatch):
    """An app on a SQLite file of its own, whose writers give up after 0.3 s."""
    monkeypatch.setattr(database, "BUSY_TIMEOUT_MS", 300)
    path = tmp_path / "ties.db"
    shutil.copy(sqlite_template, path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": True})
    yield app, path
    with app.app_context():
        db.engine.dispose()


@contextmanager
def write_lock_held(path):
    """Another program holds SQLite's write lock meanwhile."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_a_busy_database_is_told_in_the_page(busy_app):
    app, path = busy_app
    client = app.test_client()
    busy = "The server is busy right now. Wait a moment, then try again."
    with write_lock_held(path):
        opened = client.get("/connect")  # this machine, a personal server: it would make a code
    body = page_of(opened, 503)
    assert opened.headers["Retry-After"]
    assert alert(body) == busy
    assert '<a href="/connect">Try again</a>' in body
    assert '<form method="post">' not in body  # this visitor needs no password
    assert "data-pairing-code" in client.get("/connect").get_data(as_text=True)

    add_user(app)
    with write_lock_held(path):
        signed_in = sign_in(client)
    body = page_of(signed_in, 503)
    assert signed_in.headers["Retry-After"]
    assert alert(body) == busy
    assert typed_username(body) == USERNAME
    # The database is free again: the same sign-in gets a code.
    r = sign_in(client)
    assert r.status_code == 200 and "data-pairing-code" in r.get_data(as_text=True)


def test_the_servers_address_leads_to_the_connect_page(client):
    r = client.get("/")
    assert r.status_code == 302 and r.headers["Location"] == "/connect"
    page = client.get("/", follow_redirects=True)
    assert page.request.path == "/connect"
    body = page.get_data(as_text=True)
    assert "data-pairing-code" in body  # this machine, a personal server: one click from here
    assert '<a href="/api/docs">HTTP API</a>' in body
    assert client.get("/api/docs").status_code == 200


def test_a_username_with_a_nul_character_is_a_failed_sign_in_on_every_database(
    app, client, table_counts
):
    """No user can be named with a NUL (PostgreSQL cannot even compare one): it does not match."""
    add_user(app)
    before = table_counts()
    body = page_of(sign_in(client, username="ann\x00ee"), 200)
    assert alert(body) == "That username and password did not match."
    after = table_counts()
    assert after.pop("pair_attempts") == before.pop("pair_attempts") + 1  # an attempt, counted
    assert after == before


def test_the_page_says_how_long_its_code_lives(app, client):
    app.config["STRONGTIES_PAIR_CODE_MINUTES"] = 30
    body = client.get("/connect").get_data(as_text=True)
    assert "data-pairing-code" in body  # this machine, a personal server
    assert "(valid for 30 minutes)" in body
    app.config["STRONGTIES_PAIR_CODE_MINUTES"] = 1
    assert "(valid for 1 minute)" in client.get("/connect").get_data(as_text=True)
