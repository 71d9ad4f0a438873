"""/api/openapi.json is a valid OpenAPI document generated from the schemas; /api/docs renders
it for people."""

import re

import pytest

from api import create_app

EXPECTED_PATHS = {
    "/api/v1/health": {"get"},
    "/api/v1/pair": {"post"},
    "/api/v1/lookup": {"get"},
    "/api/v1/contacts": {"get", "post"},
    "/api/v1/contacts/{contact_id}": {"get", "patch", "delete"},
    "/api/v1/contacts/{contact_id}/interactions": {"get"},
    "/api/v1/interactions": {"post"},
    "/api/v1/interactions/{interaction_id}": {"put", "patch", "delete"},
    "/api/v1/changes": {"get"},
    "/api/v1/devices": {"get"},
    "/api/v1/devices/{device_id}": {"delete"},
}
EXPECTED_SCHEMAS = {
    "Error": {"code", "status", "message", "errors"},
    "Tie": {
        "score",
        "band",
        "layer",
        "components",
        "last_interaction",
        "reciprocity",
        "interaction_count",
        "trend_30d",
    },
    "ContactOut": {"id", "name", "identities", "tie"},
    "InteractionIn": {
        "kind",
        "occurred_at",
        "initiated_by",
        "closeness",
        "favor",
        "note",
        "external_ref",
        "contact_id",
        "contact",
    },
    "InteractionResult": {"interaction", "contact", "tie"},
    "LookupResult": {"contact", "tie"},
    "Changes": {"changes", "cursor", "has_more"},
    "PairResult": {"token", "device"},
}
METHODS = {"get", "put", "post", "patch", "delete"}


@pytest.fixture(scope="module")
def client():
    """The spec does not depend on the database backend: one app, no database touched."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"}).test_client()


@pytest.fixture(scope="module")
def spec(client):
    r = client.get("/api/openapi.json")
    assert r.status_code == 200 and r.is_json
    return r.json


def _validate_with_a_validator(spec) -> bool:
    """Validate against the OpenAPI 3.0 meta-schema with whichever validator is installed."""
    try:
        from openapi_spec_validator import validate

        validate(spec)
        return True
    except ImportError:
        pass
    try:  # schemathesis (a test dependency) ships the OpenAPI 3.0 meta-schema
        from schemathesis.specs.openapi.definitions import OPENAPI_30_VALIDATOR
    except ImportError:
        return False
    errors = [str(e) for e in OPENAPI_30_VALIDATOR.iter_errors(spec)]
    assert not errors, errors[:5]
    return True


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_spec_is_valid_openapi_3(spec):
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Strong Ties" and spec["info"]["version"]
    validated = _validate_with_a_validator(spec)
    # Structural checks hold either way.
    for path, item in spec["paths"].items():
        assert path.startswith("/api/"), path
        for method, operation in item.items():
            if method not in METHODS:
                continue
            assert operation["responses"], (path, method)
            for status in operation["responses"]:
                assert re.fullmatch(r"[1-5]\d\d|default", str(status)), (path, method, status)
            for name in re.findall(r"{(\w+)}", path):
                params = item.get("parameters", []) + operation.get("parameters", [])
                assert any(p["name"] == name and p["in"] == "path" for p in params), (path, name)
    schemas = spec["components"]["schemas"]
    for ref in set(_refs(spec)):
        assert ref.startswith("#/components/"), ref
        kind, name = ref.split("/")[2:4]
        assert name in spec["components"][kind], f"dangling {ref}"
    assert validated or schemas  # no validator installed: the structural checks above stand


def test_the_spec_lists_every_endpoint_and_schema(spec):
    for path, methods in EXPECTED_PATHS.items():
        assert path in spec["paths"], path
        assert methods <= set(spec["paths"][path]), (path, set(spec["paths"][path]))
    schemas = spec["components"]["schemas"]
    for name, fields in EXPECTED_SCHEMAS.items():
        assert name in schemas, name
        assert fields <= set(schemas[name]["properties"]), (name, set(schemas[name]["properties"]))
    # Generated from the marshmallow schemas: the enums and ranges are in it.
    interaction = schemas["InteractionIn"]["properties"]
    assert set(interaction["kind"]["enum"]) >= {"email", "coffee", "meal", "favor"}
    assert interaction["closeness"]["minimum"] == 1 and interaction["closeness"]["maximum"] == 5
    assert set(interaction["initiated_by"]["enum"]) == {"me", "them", "mutual"}


def test_the_spec_says_which_calls_need_a_token(spec):
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec.get("security") == [{"bearer": []}]
    for path in ("/api/v1/health", "/api/v1/pair"):
        for operation in spec["paths"][path].values():
            if isinstance(operation, dict) and "responses" in operation:
                assert operation.get("security") == [], path


def test_the_spec_documents_the_put_replay_and_errors(spec):
    put = spec["paths"]["/api/v1/interactions/{interaction_id}"]["put"]
    assert {"200", "201", "422"} <= set(put["responses"])


def test_docs_page_lists_the_paths(client):
    r = client.get("/api/docs")
    assert r.status_code == 200
    assert r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "<html" in html.lower()
    for path in EXPECTED_PATHS:
        assert path in html, path
    assert "/api/openapi.json" in html


def _response(spec, response: dict) -> dict:
    if "$ref" in response:
        return spec["components"]["responses"][response["$ref"].split("/")[-1]]
    return response


def test_the_spec_lists_the_errors_each_operation_gives(spec):
    """No catch-all: each operation names its errors, each with the one Error body, and the
    headers the server sends with them (schemathesis holds the server to this)."""
    public = {("/api/v1/health", "get"), ("/api/v1/pair", "post")}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation["responses"]
            assert "default" not in responses, (path, method)
            expected = {"503"}
            if (path, method) not in public:
                expected.add("401")
            if "{" in path:
                expected.add("404")
            if "requestBody" in operation:
                expected |= {"400", "413", "415", "422"}
            assert expected <= set(responses), (path, method, sorted(responses))
            for status, response in responses.items():
                response = _response(spec, response)
                if int(status) >= 400:
                    body = response["content"]["application/json"]["schema"]
                    assert body == {"$ref": "#/components/schemas/Error"}, (path, method, status)
                headers = response.get("headers", {})
                if status == "401":
                    assert headers["WWW-Authenticate"]["required"], (path, method)
                if status in ("429", "503"):
                    assert headers["Retry-After"]["required"], (path, method, status)
    pair = spec["paths"]["/api/v1/pair"]["post"]["responses"]
    assert {"401", "429"} <= set(pair)
    assert "410" in spec["paths"]["/api/v1/changes"]["get"]["responses"]
    for path, method in [
        ("/api/v1/contacts", "post"),
        ("/api/v1/contacts/{contact_id}", "patch"),
        ("/api/v1/interactions", "post"),
        ("/api/v1/interactions/{interaction_id}", "put"),
        ("/api/v1/interactions/{interaction_id}", "patch"),
    ]:
        assert "409" in spec["paths"][path][method]["responses"], (path, method)


def test_the_spec_is_as_strict_as_the_schemas(spec):
    """A nullable object is that object or null (not any object); a dict keyed by an enum
    (weights by component) allows those keys only."""
    schemas = spec["components"]["schemas"]
    favor = schemas["InteractionIn"]["properties"]["favor"]["anyOf"]
    assert {"$ref": "#/components/schemas/Favor"} in favor
    (null,) = [branch for branch in favor if "$ref" not in branch]
    assert null["enum"] == [None], null
    for name in schemas:
        for prop in schemas[name].get("properties", {}).values():
            for branch in prop.get("anyOf", []):
                assert "$ref" in branch or branch.get("enum") == [None], (name, branch)
    weights = schemas["Settings"]["properties"]["weights"]
    assert weights["additionalProperties"] is False
    assert set(weights["properties"]) == {
        "frequency",
        "recency",
        "emotional",
        "reciprocity",
        "duration",
    }
    assert set(schemas["Settings"]["properties"]["kind_weights"]["properties"]) >= {"coffee"}
    # Answers say which values they take, so a client (and schemathesis) can rely on them.
    tie = schemas["Tie"]["properties"]
    assert set(tie["band"]["enum"]) == {"strong", "medium", "weak", "dormant"}
    assert tie["layer"]["enum"] == [5, 15, 50, 150, 500, 1500]
    change = schemas["Change"]["properties"]
    assert set(change["entity"]["enum"]) == {"contact", "identity", "interaction", "settings"}
    assert set(change["op"]["enum"]) == {"upsert", "delete"}
    assert set(schemas["InteractionOut"]["properties"]["initiated_by"]["enum"]) == {
        "me",
        "them",
        "mutual",
    }
    assert set(schemas["IdentityOut"]["properties"]["kind"]["enum"]) == {"email", "linkedin"}
