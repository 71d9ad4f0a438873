"""The busiest answers, encoded straight to JSON.

flask-smorest serialises a view's result through its response schema, which on a lookup or a
log costs as much as the database work. A view may instead return a Response, which it passes
through: the lookup and the log do, since their dicts are built in the schema's exact shape
(tests/server/test_answers.py checks that the body equals the schema's own dump). orjson
writes dates and ids as the schema's fields do (ISO 8601, hyphenated), several times faster
than the standard library. The schema still documents the answer in the OpenAPI spec.

orjson writes NaN and ±Infinity as null, where json.dumps raised. The only floats of these
answers are a tie's numbers, which `ledger._number` refuses when not finite: a number never
silently becomes null.
"""

import orjson
from flask import Response


def json_answer(data: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status=status, mimetype="application/json")
