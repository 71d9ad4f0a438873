def test_health(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200 and r.json["status"] == "ok"


def test_log_then_lookup(api):
    body = {
        "kind": "coffee",
        "contact": {"name": "Jane", "identities": [{"kind": "email", "value": " Jane@X.io "}]},
    }
    r = api.put("/api/v1/interactions/6f1e0a70-7d1c-4a9e-9c55-0d7c1d0d0001", json=body)
    assert r.status_code == 201, r.json
    r = api.get("/api/v1/lookup?email=jane@x.io")
    assert r.json["tie"]["interaction_count"] == 1
