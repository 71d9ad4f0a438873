"""The `strongties` command against the test database (in-process; tests/server/test_serve.py
runs the real console script)."""

from pathlib import Path

import pytest
from live_server import invoke_cli
from server_helpers import assert_error
from sqlalchemy import select

from api.models import Device, db


@pytest.fixture
def strongties(database_url):
    """Run one `strongties ...` command as its own process would: a fresh app each time."""

    def run(*args, expect=0, input=None):
        return invoke_cli(database_url, *args, input=input, expect=expect).output

    return run


def test_token_create_prints_a_working_token_last(strongties, client):
    out = strongties("token", "create", "Work laptop")
    token = out.strip().splitlines()[-1]
    assert token.startswith("st_") and " " not in token
    r = client.get("/api/v1/devices", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert [d["name"] for d in r.json["devices"]] == ["Work laptop"]


def test_pair_prints_a_code_last_that_works_once(strongties, client):
    out = strongties("pair")
    code = out.split()[-1]
    r = client.post("/api/v1/pair", json={"code": code, "device_name": "Chrome"})
    assert r.status_code == 201, r.json
    assert (
        client.get(
            "/api/v1/contacts", headers={"Authorization": f"Bearer {r.json['token']}"}
        ).status_code
        == 200
    )
    assert_error(client.post("/api/v1/pair", json={"code": code}), 401)


def test_devices_list_and_revoke(strongties, client, app):
    token = strongties("token", "create", "Old phone").strip().splitlines()[-1]
    listing = strongties("devices", "list")
    assert "Old phone" in listing
    device_id = listing.split()[0]
    strongties("devices", "revoke", device_id)
    assert_error(client.get("/api/v1/contacts", headers={"Authorization": f"Bearer {token}"}), 401)
    assert "Old phone" not in strongties("devices", "list")
    strongties("devices", "revoke", device_id, expect=1)  # already gone
    with app.app_context():
        assert db.session.scalar(select(Device.revoked_at)) is not None


@pytest.mark.parametrize("device_id", ["0", "-1", str(2**31), str(2**63), "9" * 30])
def test_revoking_a_device_id_no_device_can_have_says_so(strongties, device_id):
    """An id past the id column (32-bit on PostgreSQL, 64-bit on SQLite) is no device of
    ours: the same one-line answer as any unknown id, not the database's error."""
    out = strongties("devices", "revoke", "--", device_id, expect=1)
    assert f"no connected device {device_id}" in out


def test_a_user_with_a_password_can_pair_a_browser(strongties, client):
    strongties("user", "create", "alice", "--password", "correct horse")
    strongties("user", "create", "alice", "--password", "x", expect=1)
    r = client.post(
        "/api/v1/pair", json={"username": "alice", "password": "wrong", "device_name": "x"}
    )
    assert_error(r, 401)
    r = client.post(
        "/api/v1/pair",
        json={"username": "alice", "password": "correct horse", "device_name": "Alice's Chrome"},
    )
    assert r.status_code == 201
    # Alice's ledger is hers: a code printed for her pairs into her account.
    code = strongties("pair", "--user", "alice").split()[-1]
    token = client.post("/api/v1/pair", json={"code": code}).json["token"]
    names = [
        d["name"]
        for d in client.get("/api/v1/devices", headers={"Authorization": f"Bearer {token}"}).json[
            "devices"
        ]
    ]
    assert sorted(names) == ["Alice's Chrome", "Browser"]
    strongties("pair", "--user", "nobody", expect=1)


def test_migrate_and_version(strongties):
    assert "up to date" in strongties("migrate")
    assert "0.1.0" in strongties("--version")


def help_tree(path: list[str]):
    """(command path, its arguments and options) for `strongties <path> --help` and every
    command under it, read from the help text itself."""
    from click.testing import CliRunner

    from api import cli

    text = CliRunner().invoke(cli.main, [*path, "--help"], catch_exceptions=False).output
    usage = text.splitlines()[0].split("[OPTIONS]")[-1].split()
    section, options, commands = None, [], []
    for line in text.splitlines():
        if line and not line.startswith(" "):
            section = line.rstrip(":")
        elif section == "Options" and line.lstrip().startswith("--"):
            options.append(line.split()[0].rstrip(","))
        elif section == "Commands" and line.strip():
            commands.append(line.split()[0])
    arguments = [u for u in usage if u.isupper() and u != "COMMAND"]
    yield path, bool(commands), arguments, [o for o in options if o != "--help"]
    for command in commands:
        yield from help_tree([*path, command])


def test_the_readme_documents_every_command_and_option():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("## The CLI")[1].split("\n## ")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `strongties")]
    for path, group, arguments, options in help_tree([]):
        command = " ".join(["strongties", *path])
        if group:  # documented through its commands; its own options anywhere in the table
            assert any(r.startswith(f"| `{command} ") for r in rows), command
            for option in options:
                assert f"`{command} {option}" in table, f"README does not mention {option}"
            continue
        (row,) = [r for r in rows if r.startswith((f"| `{command} ", f"| `{command}`"))]
        for word in [*arguments, *options]:
            assert word in row, f"README's row for `{command}` does not mention {word}"
