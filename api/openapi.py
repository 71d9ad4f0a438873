"""What /api/openapi.json says beyond the schemas: the errors each operation answers (so a
client, and the schemathesis test, can hold the server to them), and exact shapes where
apispec's defaults are looser than the schemas."""

from http import HTTPStatus

from apispec import BasePlugin
from marshmallow import fields, validate

from .schemas import ErrorSchema

RETRY_AFTER = {
    "description": "Seconds to wait before trying again",
    "required": True,
    "schema": {"type": "integer", "minimum": 1},
}
# Error responses with headers of their own; any other status is flask-smorest's response of
# its HTTPStatus name (e.g. "NOT_FOUND"), with the same Error body.
UNAUTHORIZED = "Unauthorized"
TOO_MANY_REQUESTS = "TooManyRequests"
UNAVAILABLE = "Unavailable"
_WITH_HEADERS = {
    UNAUTHORIZED: (
        "No bearer token, or one that is unknown or revoked",
        {
            "WWW-Authenticate": {
                "description": 'Bearer realm="strongties", with error="invalid_token" when '
                "a token was sent but refused",
                "required": True,
                "schema": {"type": "string", "pattern": "^Bearer "},
            }
        },
    ),
    TOO_MANY_REQUESTS: ("Too many failed attempts from this client", {"Retry-After": RETRY_AFTER}),
    UNAVAILABLE: ("The database is busy or unreachable", {"Retry-After": RETRY_AFTER}),
}


def error(status: int) -> str:
    """The response to name in `@blp.alt_response(status, response=error(status))`."""
    names = {401: UNAUTHORIZED, 429: TOO_MANY_REQUESTS, 503: UNAVAILABLE}
    return names.get(status) or HTTPStatus(status).name


class ErrorResponses(BasePlugin):
    """Adds the errors that follow from an operation's shape (the others are declared on the
    views): 401 unless it needs no token, 404 for an id in the path, 400/413/415 for a body
    (not JSON, too large, not declared JSON), and 503 everywhere (every operation reads the
    database)."""

    def init_spec(self, spec):
        for name, (description, headers) in _WITH_HEADERS.items():
            content = {"application/json": {"schema": ErrorSchema}}
            response = {"description": description, "headers": headers, "content": content}
            spec.components.response(name, response, lazy=True)

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            statuses = [503]
            if operation.get("security") != []:
                statuses.append(401)
            if "{" in (path or ""):
                statuses.append(404)
            if "requestBody" in operation:
                statuses += [400, 413, 415]
            for status in statuses:
                if status not in responses and str(status) not in responses:
                    responses[status] = error(status)


def exact_shapes(converter) -> None:
    """Register with apispec's field converter (runs after its own attribute functions)."""

    def tighten(_converter, field, ret, **kwargs) -> dict:
        # A nullable nested object: apispec's null branch `{"type": "object", "nullable": true}`
        # would admit any object; `enum: [null]` makes it admit null only.
        for branch in ret.get("anyOf", []):
            if branch == {"type": "object", "nullable": True}:
                branch["enum"] = [None]
        # A dict keyed by an enum (weights by component, say) is an object with those keys.
        keys = getattr(field, "key_field", None) if isinstance(field, fields.Dict) else None
        choices = [v for v in getattr(keys, "validators", []) if isinstance(v, validate.OneOf)]
        if choices and isinstance(ret.get("additionalProperties"), dict):
            value = ret["additionalProperties"]
            ret["properties"] = {key: dict(value) for key in choices[0].choices}
            ret["additionalProperties"] = False
        return {}

    converter.add_attribute_function(tighten)
