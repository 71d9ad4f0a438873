"""The lookup and the log encode their answers without the response schema (for speed): every
such body must be exactly what the schema would have produced from the same answer."""

import json
import math

import orjson
import pytest
from server_helpers import JANE, new_id

from api import scoring
from api.resources import answers, interactions, lookup
from api.schemas import InteractionResultSchema, LookupResultSchema


@pytest.fixture
def encoded(monkeypatch):
    """Every (answer dict, response) the direct encoder made during the test."""
    made = []
    real = answers.json_answer

    def recording(data, status=200):
        response = real(data, status)
        made.append((data, response))
        return response

    monkeypatch.setattr(lookup, "json_answer", recording)
    monkeypatch.setattr(interactions, "json_answer", recording)
    return made


def assert_as_the_schema_dumps(made, schema) -> None:
    assert made, "nothing was encoded directly"
    for data, response in made:
        assert response.mimetype == "application/json"
        assert json.loads(response.get_data()) == json.loads(json.dumps(schema.dump(data)))


def test_lookup_answers_as_the_schema_dumps(api, log, encoded):
    logged = log("coffee", closeness=4, favor={"direction": "given", "value": 2}, note="Thanks")
    log("call", contact_id=logged["contact"]["id"], occurred_at="2021-03-04T05:06:07Z")
    assert api.get("/api/v1/lookup?email=jane@example.com").status_code == 200
    assert api.get("/api/v1/lookup?email=nobody@example.com").get_json() == {
        "contact": None,
        "tie": None,
    }
    lookups = [(d, r) for d, r in encoded if "interaction" not in d]
    assert len(lookups) == 2
    assert_as_the_schema_dumps(lookups, LookupResultSchema())


def test_every_kind_of_log_answers_as_the_schema_dumps(api, log, encoded):
    first = log("coffee")  # a new contact: the general path
    contact_id = first["contact"]["id"]
    log("call", contact_id=contact_id, note="<b>hi</b>\u2028", initiated_by="them")  # by id
    log("email", contact=JANE, external_ref="<msg-1@example.com>")  # inline, known person
    log("email", contact=JANE, external_ref="<msg-1@example.com>", expect=200)  # same ref
    replayed = new_id()
    log("meeting", contact_id=contact_id, id=replayed)
    log("meeting", contact_id=contact_id, id=replayed, expect=200)  # a replay
    r = api.post("/api/v1/interactions", json={"kind": "video", "contact_id": contact_id})
    assert r.status_code == 201
    assert len(encoded) == 7
    assert_as_the_schema_dumps(encoded, InteractionResultSchema())


BUGS = {  # a function of the model, and what a bug in it returns
    "components": lambda *args: dict.fromkeys(scoring.COMPONENTS, math.nan),
    "cadence_days": lambda *args: math.inf,
    "trend": lambda *args, **kwargs: -math.inf,
}


@pytest.mark.parametrize("function", BUGS)
def test_a_number_that_is_not_finite_fails_loudly_never_answers_null(
    api, log, table_counts, monkeypatch, function
):
    """Validated input cannot make one (tests/hardening); a bug that did must not reach a
    browser as a null (orjson) or a bare NaN (the schema's encoder), nor be stored (SQLite
    would keep NULL): the request fails and changes nothing."""
    assert orjson.dumps([math.nan, math.inf]) == b"[null,null]"  # hence the check
    contact_id = log("coffee")["contact"]["id"]
    monkeypatch.setattr(scoring, function, BUGS[function])
    before = table_counts()

    answers = {
        "lookup": api.get("/api/v1/lookup?email=jane@example.com"),
        "contact": api.get(f"/api/v1/contacts/{contact_id}"),
        "log": api.put(f"/api/v1/interactions/{new_id()}", json={"kind": "call", "contact": JANE}),
    }

    for read, r in answers.items():
        assert r.status_code == 500 and r.json["code"] == "internal_error", (read, r.get_data())
    assert table_counts() == before
