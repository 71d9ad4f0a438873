"""The busiest answers, encoded straight to JSON.

flask-smorest serialises a view's result through its response schema, which on a lookup or a
log costs as much as the database work. A view may instead return a Response, which it passes
through: the lookup and the log do, since their dicts are built in the schema's exact shape
(tests/server/test_answers.py checks that the body equals the schema's own dump). The schema
still documents the answer in the OpenAPI spec.
"""

import json
import uuid
from datetime import datetime

from flask import Response


def json_answer(data: dict, status: int = 200) -> Response:
    body = json.dumps(data, separators=(",", ":"), allow_nan=False, default=_as_json)
    return Response(body, status=status, mimetype="application/json")


def _as_json(value):
    """What the encoder cannot write itself: as marshmallow's DateTime and UUID fields dump."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON")
