"""Plain helpers of the server suite (fixtures are in conftest.py)."""

import uuid

JANE = {"name": "Jane Doe", "identities": [{"kind": "email", "value": "jane@example.com"}]}


def new_id() -> str:
    return str(uuid.uuid4())


def assert_error(response, status: int, field: str | None = None) -> dict:
    """The one error shape: {code, status, message, errors?}; `field` named in both."""
    assert response.status_code == status, (response.status_code, response.get_json())
    assert response.is_json, response.data[:200]
    body = response.get_json()
    assert set(body) <= {"code", "status", "message", "errors"}, body
    assert isinstance(body["code"], str) and body["code"]
    assert body["status"] == status
    assert isinstance(body["message"], str) and body["message"]
    if field is not None:
        assert field in body["message"], body
        assert field in repr(body.get("errors")), body
    return body
