"""Acceptance 1: every connected browser is a device, named as it said at pairing; devices are
listed and revoked from the CLI and the API, and a revoked token gets 401 at once."""

from synctools import Device

ADA = {"kind": "email", "value": "ada@example.org"}


def _pair(client, run_cli, name: str) -> tuple[Device, dict]:
    code = run_cli("pair").output.split()[-1]
    r = client.post("/api/v1/pair", json={"code": code, "device_name": name})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["token"].startswith("st_") and body["device"]["name"] == name
    assert body["device"]["current"] is True
    return Device(client, body["token"], name), body["device"]


def test_browsers_are_devices_listed_and_revoked_from_cli_and_api(client, run_cli):
    firefox, firefox_row = _pair(client, run_cli, "Firefox on Linux")
    chrome, chrome_row = _pair(client, run_cli, "Chrome on macOS")
    edge, edge_row = _pair(client, run_cli, "Edge on Windows")

    # The API lists every connected browser by the name it sent; `current` marks the caller.
    assert firefox.get("/api/v1/lookup?email=a@b.io").status_code == 200
    r = firefox.get("/api/v1/devices")
    assert r.status_code == 200
    listed = {d["name"]: d for d in r.get_json()["devices"]}
    assert set(listed) == {"Firefox on Linux", "Chrome on macOS", "Edge on Windows"}
    assert [name for name, d in listed.items() if d["current"]] == ["Firefox on Linux"]
    assert listed["Chrome on macOS"]["id"] == chrome_row["id"]
    assert listed["Firefox on Linux"]["last_seen_at"] is not None  # it called a moment ago

    # So does the CLI: one line per device, id first.
    lines = run_cli("devices", "list").output.strip().splitlines()
    assert [line.split("\t")[:2] for line in lines] == [
        [str(firefox_row["id"]), "Firefox on Linux"],
        [str(chrome_row["id"]), "Chrome on macOS"],
        [str(edge_row["id"]), "Edge on Windows"],
    ]

    # Revoked from the CLI: Chrome's token is refused at once, on every endpoint.
    assert chrome.get("/api/v1/lookup?email=a@b.io").status_code == 200
    out = run_cli("devices", "revoke", str(chrome_row["id"])).output
    assert "disconnected" in out
    for path in ("/api/v1/lookup?email=a@b.io", "/api/v1/devices", "/api/v1/changes"):
        r = chrome.get(path)
        assert r.status_code == 401, path
        assert r.get_json()["code"] == "unauthorized" and r.get_json()["status"] == 401
    r = chrome.put(
        "/api/v1/interactions/0d5c8c1e-6a36-4a8e-9f0b-6f1f3c1f0a01",
        json={"kind": "call", "contact": {"name": "X", "identities": []}},
    )
    assert r.status_code == 401
    # Revoking it again is an error, not a silent success.
    assert run_cli("devices", "revoke", str(chrome_row["id"]), ok=False).exit_code != 0

    # Revoked from the API (Firefox disconnects Edge): 204, gone from both lists, Edge gets 401.
    r = firefox.delete(f"/api/v1/devices/{edge_row['id']}")
    assert r.status_code == 204
    assert edge.get("/api/v1/devices").status_code == 401
    assert firefox.delete(f"/api/v1/devices/{edge_row['id']}").status_code == 404
    assert [d["name"] for d in firefox.get("/api/v1/devices").get_json()["devices"]] == [
        "Firefox on Linux"
    ]
    assert "Edge on Windows" not in run_cli("devices", "list").output

    # A browser can disconnect itself: its next call is refused.
    assert firefox.delete(f"/api/v1/devices/{firefox_row['id']}").status_code == 204
    assert firefox.get("/api/v1/devices").status_code == 401
    assert run_cli("devices", "list").output.strip() == ""

    # Pairing again gives a new device and a new token; the old ones stay dead.
    firefox2, firefox2_row = _pair(client, run_cli, "Firefox on Linux")
    assert firefox2_row["id"] not in {firefox_row["id"], chrome_row["id"], edge_row["id"]}
    assert firefox2.get("/api/v1/devices").status_code == 200
    assert firefox.get("/api/v1/devices").status_code == 401


def test_writes_name_the_device_that_made_them(device):
    firefox, chrome = device("Firefox on Linux"), device("Chrome on macOS")
    ids = {d["name"]: d["id"] for d in firefox.get("/api/v1/devices").get_json()["devices"]}
    r = firefox.put(
        "/api/v1/interactions/3f0b3f52-28f4-4c1d-8a55-8f1d29c0c001",
        json={"kind": "coffee", "contact": {"name": "Ada", "identities": [ADA]}},
    )
    assert r.status_code == 201, r.get_json()
    r = chrome.patch(
        "/api/v1/interactions/3f0b3f52-28f4-4c1d-8a55-8f1d29c0c001", json={"note": "from chrome"}
    )
    assert r.status_code == 200
    feed = chrome.get("/api/v1/changes?since=0").get_json()["changes"]
    writers = [(c["entity"], c["device_id"]) for c in feed if c["entity"] == "interaction"]
    assert writers == [
        ("interaction", ids["Firefox on Linux"]),
        ("interaction", ids["Chrome on macOS"]),
    ]


def test_bad_pairing_creates_no_device(client, run_cli):
    r = client.post("/api/v1/pair", json={"code": "AAAA-BBBB-CCCC-DDDD", "device_name": "X"})
    assert r.status_code == 401
    code = run_cli("pair").output.split()[-1]
    ok = client.post("/api/v1/pair", json={"code": code, "device_name": "Firefox on Linux"})
    assert ok.status_code == 201
    # A code is spent once.
    again = client.post("/api/v1/pair", json={"code": code, "device_name": "Second"})
    assert again.status_code == 401
    assert run_cli("devices", "list").output.count("\n") == 1
