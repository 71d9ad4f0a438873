"""The server answers only to the host names it serves: a DNS-rebinding page gets nothing.

A page on evil.example whose DNS record is switched to 127.0.0.1 can send same-origin requests
to the local server, but they carry `Host: evil.example:<port>`. The server refuses them (400)
before authentication, routing or any database access, on every path including /connect (which
hands a pairing code to loopback visitors). The same requests under the real name work.
Browsers always send the Host they resolved, so the attacker cannot choose `localhost`.
"""

from __future__ import annotations

import pytest

from api import create_app, hosts
from api.models import db

from .live import CODE, SECRET, seed_secret, token_for


def rebinding_hosts(port: int) -> list[str]:
    return [
        f"evil.example:{port}",
        "evil.example",
        f"localhost.evil.example:{port}",
        f"127.0.0.1.nip.io:{port}",
        f"[::1]:{port}",
        f"0.0.0.0:{port}",
    ]


def test_live_server_refuses_foreign_host_names(live_server_factory, sqlite_url):
    token = token_for(sqlite_url)
    server = live_server_factory(sqlite_url)
    seed_secret(server, token)
    changes_before = server.request("GET", "/api/v1/changes", token).json()["cursor"]

    for host in rebinding_hosts(server.port):
        headers = {"Host": host}
        lookup = server.request(
            "GET", f"/api/v1/lookup?email={SECRET['email']}", token, headers=headers
        )
        connect = server.request("GET", "/connect", headers=headers)
        write = server.request(
            "POST",
            "/api/v1/contacts",
            token,
            headers=headers,
            json={"name": "Planted", "identities": [{"kind": "email", "value": "p@evil.example"}]},
        )
        preflight = server.request(
            "OPTIONS",
            "/api/v1/lookup",
            headers={
                **headers,
                "Origin": f"http://{host}",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        for r in (lookup, connect, write, preflight):
            assert r.status_code == 400, (host, r.request.method, r.url, r.status_code)
            assert "Secret" not in r.text and SECRET["notes"] not in r.text
            assert not CODE.search(r.text), "a pairing code leaked"
            assert "Access-Control-Allow-Origin" not in r.headers
        assert lookup.json()["code"] == "bad_request"

    # Nothing was written, and under its real names the server answers as usual.
    assert server.request("GET", "/api/v1/changes", token).json()["cursor"] == changes_before
    for host in (f"localhost:{server.port}", f"127.0.0.1:{server.port}"):
        r = server.request(
            "GET", f"/api/v1/lookup?email={SECRET['email']}", token, headers={"Host": host}
        )
        assert r.status_code == 200 and r.json()["contact"]["name"] == SECRET["name"]
    page = server.request("GET", "/connect", headers={"Host": f"localhost:{server.port}"})
    assert page.status_code == 200 and CODE.search(page.text)


def test_in_process_every_path_checks_the_host(client, auth_headers):
    paths = ["/", "/api/v1/health", "/api/v1/devices", "/api/openapi.json", "/api/docs", "/connect"]
    paths.append("/no/such/page")
    for path in paths:
        r = client.get(path, headers={**auth_headers, "Host": "evil.example:5151"})
        assert r.status_code == 400, path
        assert "STRONGTIES_ALLOWED_HOSTS" in r.json["message"]  # what to change, if it is ours
        r = client.get(path, headers={**auth_headers, "Host": "localhost:5151"})
        assert r.status_code != 400, path


@pytest.mark.parametrize("configured", [["ties.example.com"], ["ties.example.com", "localhost"]])
def test_configured_host_names_replace_the_loopback_default(sqlite_url, configured):
    """A hosted server lists its public name(s) in STRONGTIES_ALLOWED_HOSTS; nothing else."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlite_url,
            "TESTING": True,
            "STRONGTIES_ALLOWED_HOSTS": configured,
        }
    )
    client = app.test_client()
    assert client.get("/api/v1/health", headers={"Host": "ties.example.com"}).status_code == 200
    for host in ("evil.example", "ties.example.com.evil.example", "127.0.0.1"):
        assert client.get("/api/v1/health", headers={"Host": host}).status_code == 400, host
    local = client.get("/api/v1/health", headers={"Host": "localhost"}).status_code
    assert local == (200 if "localhost" in configured else 400)
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("host", "names", "expected"),
    [
        # A fully qualified name (trailing dot) is the same host, in the header or the list.
        ("localhost.:5151", ["localhost"], True),
        ("ties.example.com", ["ties.example.com."], True),
        ("ties.example.com.:443", [".example.com"], True),
        ("evil.example.", ["localhost", "127.0.0.1"], False),
        (".", ["localhost"], False),
        # A subdomain entry with a port: the name decides, as for a plain entry.
        ("a.ties.example.com:8000", [".example.com:8000"], True),
        ("example.com", [".example.com:8000"], True),
        ("notexample.com", [".example.com"], False),
        ("example.com.evil.example", [".example.com"], False),
        ("evil.example", [".", ":8000", "."], False),
    ],
)
def test_host_names_match_as_names(host, names, expected):
    assert hosts.allowed(host, names) is expected
