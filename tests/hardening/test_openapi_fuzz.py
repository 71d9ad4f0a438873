"""Schemathesis against /api/openapi.json with a valid token, on SQLite and PostgreSQL.

Every operation of the spec is fuzzed with valid (positive) and invalid (negative) requests, and
once more with its path ids pointing at real, seeded objects. Each response must not be a 5xx,
must have a status the operation documents, the documented content type and headers, and must
match the documented schema (for errors, the one `{code, status, message, errors?}` shape). With
a valid token no operation may answer 401.

Bounded and reproducible: fixed example counts and derandomized Hypothesis (its seed is derived
from the test, not the clock), no example database. For a deeper local search,
`STRONGTIES_FUZZ_SCALE=10` runs ten times as many examples and `STRONGTIES_FUZZ_SEED=<n>` another
fixed seed.
"""

from __future__ import annotations

import os
import re
import uuid

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api import auth, create_app
from api.models import Device, db

SCALE = float(os.environ.get("STRONGTIES_FUZZ_SCALE", "1"))
# Unset: derandomized (the seed comes from the test). Set: that seed, to explore elsewhere.
SEED = os.environ.get("STRONGTIES_FUZZ_SEED")
# Examples per operation and pass. PostgreSQL runs the same code with fewer: its own failure
# modes (types, encodings, locks) show up quickly, and the suite has a time budget.
EXAMPLES = {
    "sqlite": {"positive": 10, "negative": 6, "seeded": 4},
    "postgres": {"positive": 4, "negative": 3, "seeded": 3},
}
# The spec lists each operation's errors (no catch-all "default"): a status it does not list,
# or a 401/429/503 without the header it documents, fails.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    response_headers_conformance,
]
PUBLIC = {"GET /api/v1/health", "POST /api/v1/pair"}
SEEDED_INTERACTION = uuid.UUID("5eed0000-0000-4000-8000-000000000001")


def _operation_labels() -> list[str]:
    """Every operation in the spec (read from a throwaway app, so new endpoints join in)."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    spec = app.test_client().get("/api/openapi.json").get_json()
    labels = [
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    ]
    # Reads first and deletes last, so the seeded objects live as long as possible.
    order = {"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}
    return sorted(labels, key=lambda label: order[label.split()[0]])


OPERATIONS = _operation_labels()


def _seed(api) -> dict[str, object]:
    """Real objects for the ids in paths: a contact with an interaction."""
    r = api.post(
        "/api/v1/contacts",
        json={
            "name": "Seeded Contact",
            "identities": [
                {"kind": "email", "value": "seeded@example.com"},
                {"kind": "linkedin", "value": "seeded-contact"},
            ],
            "notes": "seeded",
        },
    )
    assert r.status_code == 201, r.get_json()
    contact_id = r.get_json()["id"]
    r = api.put(
        f"/api/v1/interactions/{SEEDED_INTERACTION}",
        json={"contact_id": contact_id, "kind": "coffee", "favor": {"direction": "given"}},
    )
    assert r.status_code == 201, r.get_json()
    return {"contact_id": contact_id, "interaction_id": str(SEEDED_INTERACTION)}


def _settings(count: int) -> settings:
    return settings(
        max_examples=max(1, int(count * SCALE)),
        derandomize=SEED is None,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )


@pytest.mark.parametrize("label", OPERATIONS)
def test_operation_conforms_to_spec(label, request, app, make_token, api):
    backend = request.node.callspec.params["database_url"]
    counts = EXAMPLES[backend]
    objects = _seed(api)
    with app.app_context():
        # A device the fuzzer may delete by id, besides the one whose token it holds.
        spare = auth.create_device(auth.default_user(), "spare")[0]
        db.session.commit()
        objects["device_id"] = spare.id

    own = {"token": make_token("schemathesis")}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    statuses: list[int] = []

    def run(case) -> None:
        headers = {"Authorization": f"Bearer {own['token']}"}
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        statuses.append(response.status_code)
        # Negative cases may drop or mangle the header on purpose; those must be 401s.
        sent = response.request.headers.get("Authorization")
        if label not in PUBLIC and sent == headers["Authorization"]:
            assert response.status_code != 401, f"valid token refused: {response.text[:300]}"
        elif label not in PUBLIC:
            assert response.status_code == 401, f"{sent!r} accepted: {response.status_code}"
        if label == "DELETE /api/v1/devices/{device_id}" and response.status_code == 204:
            _replace_token_if_revoked(app, own, make_token)

    passes = [
        ("positive", operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE)),
        ("negative", operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE)),
    ]
    names = re.findall(r"{(\w+)}", path)
    if names:
        fixed = {name: objects[name] for name in names}
        passes.append(("seeded", operation.as_strategy(path_parameters=fixed)))
    elif label == "GET /api/v1/lookup":
        known = {"email": "seeded@example.com"}
        passes.append(("seeded", operation.as_strategy(query=known)))

    for name, strategy in passes:
        test = _settings(counts[name])(given(case=strategy)(run))
        if SEED is not None:
            test = seed(int(SEED))(test)
        try:
            test()
        except Unsatisfiable:
            # Nothing to make invalid (no parameters, no body): the positive pass covers it.
            assert name == "negative", f"{label}: no {name} examples could be generated"

    assert statuses, f"{label}: no request was made"
    if method == "GET":
        assert any(200 <= s < 300 for s in statuses), f"{label}: never reached, saw {statuses}"


def _replace_token_if_revoked(app, own: dict, make_token) -> None:
    """The fuzzer deleted the device whose token it holds: carry on with a new one."""
    with app.app_context():
        device = db.session.scalar(
            db.select(Device).where(Device.token_hash == auth.digest(own["token"]))
        )
        if device is not None and device.revoked_at is not None:
            own["token"] = make_token("schemathesis")
