"""Contacts CRUD with identities; an identity held by another contact is a 409."""

import uuid

from server_helpers import assert_error


def create(api, name="Jane Doe", identities=None, expect=201, **extra):
    body = {"name": name, "identities": identities or [], **extra}
    r = api.post("/api/v1/contacts", json=body)
    assert r.status_code == expect, r.json
    return r.json


def test_create_read_update_delete(api, log):
    jane = create(
        api,
        identities=[
            {"kind": "linkedin", "value": "https://www.linkedin.com/in/Jane-Doe/?trk=x"},
            {"kind": "email", "value": "mailto:Jane@Example.com"},
            {"kind": "email", "value": "jane.doe@work.example"},
        ],
        notes="Met at the conference",
    )
    assert jane["identities"] == [
        {"kind": "email", "value": "jane.doe@work.example"},
        {"kind": "email", "value": "jane@example.com"},
        {"kind": "linkedin", "value": "jane-doe"},
    ]
    assert jane["notes"] == "Met at the conference"
    assert jane["tie"]["interaction_count"] == 0 and jane["tie"]["score"] == 0

    got = api.get(f"/api/v1/contacts/{jane['id']}")
    assert got.status_code == 200
    assert got.json["identities"] == jane["identities"]

    # PATCH replaces the identities and keeps what it does not name.
    r = api.patch(
        f"/api/v1/contacts/{jane['id']}",
        json={"name": "Jane Q. Doe", "identities": [{"kind": "email", "value": "JQ@example.com"}]},
    )
    assert r.status_code == 200, r.json
    assert r.json["name"] == "Jane Q. Doe"
    assert r.json["notes"] == "Met at the conference"
    assert r.json["identities"] == [{"kind": "email", "value": "jq@example.com"}]
    assert api.get("/api/v1/lookup?email=jane@example.com").json == {"contact": None, "tie": None}
    assert api.get("/api/v1/lookup?email=jq@example.com").json["contact"]["id"] == jane["id"]

    log("call", contact_id=jane["id"])
    assert api.delete(f"/api/v1/contacts/{jane['id']}").status_code == 204
    assert_error(api.get(f"/api/v1/contacts/{jane['id']}"), 404)
    assert_error(api.patch(f"/api/v1/contacts/{jane['id']}", json={"name": "x"}), 404)
    assert_error(api.delete(f"/api/v1/contacts/{jane['id']}"), 404)
    assert_error(api.get(f"/api/v1/contacts/{jane['id']}/interactions"), 404)
    assert api.get("/api/v1/lookup?email=jq@example.com").json == {"contact": None, "tie": None}
    assert api.get("/api/v1/contacts").json["total"] == 0
    # Her identity is free again.
    assert (
        create(api, "Someone", [{"kind": "email", "value": "jq@example.com"}])["id"] != jane["id"]
    )


def test_an_identity_held_by_another_contact_is_a_409(api, table_counts):
    jane = create(api, identities=[{"kind": "email", "value": "jane@example.com"}])
    bob = create(api, "Bob", [{"kind": "linkedin", "value": "bob"}])
    counts = table_counts()

    r = api.post(
        "/api/v1/contacts",
        json={"name": "Impostor", "identities": [{"kind": "email", "value": "JANE@example.com"}]},
    )
    body = assert_error(r, 409)
    assert "identities" in repr(body.get("errors"))
    r = api.patch(
        f"/api/v1/contacts/{bob['id']}",
        json={
            "name": "Bob renamed",
            "identities": [
                {"kind": "linkedin", "value": "bob"},
                {"kind": "email", "value": "jane@example.com"},
            ],
        },
    )
    assert_error(r, 409)
    assert table_counts() == counts
    assert api.get(f"/api/v1/contacts/{bob['id']}").json["name"] == "Bob"
    assert api.get("/api/v1/lookup?email=jane@example.com").json["contact"]["id"] == jane["id"]
    # The same identity twice in one request is one identity, not a conflict with itself.
    twice = create(
        api,
        "Carol",
        [{"kind": "email", "value": "carol@x.io"}, {"kind": "email", "value": "Carol@X.io"}],
    )
    assert twice["identities"] == [{"kind": "email", "value": "carol@x.io"}]
    # Re-asserting one's own identities is fine.
    r = api.patch(
        f"/api/v1/contacts/{jane['id']}",
        json={"identities": [{"kind": "email", "value": "jane@example.com"}]},
    )
    assert r.status_code == 200


def test_a_contact_may_have_no_identity_and_a_unicode_name(api):
    anon = create(api, "Zoë Ñandú 张伟")
    assert anon["identities"] == []
    assert api.get(f"/api/v1/contacts/{anon['id']}").json["name"] == "Zoë Ñandú 张伟"


BLANK_NAMES = ["", " ", "   ", "\t\n", "\u00a0\u2003"]  # the last: no-break and em spaces


def test_a_blank_name_is_refused_and_a_name_is_stored_trimmed(api, table_counts):
    """A contact needs a name to be found by in lists and the overlay: blank ones are 422 on
    create, on rename and inline in a log, changing nothing; surrounding spaces are dropped."""
    jane = create(api, "  Jane Doe \n", [{"kind": "email", "value": "jane@example.com"}])
    assert jane["name"] == "Jane Doe"
    before = table_counts()
    for blank in BLANK_NAMES:
        assert_error(api.post("/api/v1/contacts", json={"name": blank}), 422, "name")
        r = api.patch(f"/api/v1/contacts/{jane['id']}", json={"name": blank})
        assert_error(r, 422, "name")
        inline = {"name": blank, "identities": [{"kind": "email", "value": "new@example.com"}]}
        r = api.post("/api/v1/interactions", json={"kind": "call", "contact": inline})
        assert "contact.name" in assert_error(r, 422, "name")["message"]
    assert table_counts() == before
    assert api.get(f"/api/v1/contacts/{jane['id']}").json["name"] == "Jane Doe"

    r = api.patch(f"/api/v1/contacts/{jane['id']}", json={"name": "\tJane  Roe "})
    assert r.status_code == 200 and r.json["name"] == "Jane  Roe"
    inline = {"name": " Ann ", "identities": [{"kind": "email", "value": "ann@example.com"}]}
    r = api.post("/api/v1/interactions", json={"kind": "call", "contact": inline})
    assert r.status_code == 201 and r.json["contact"]["name"] == "Ann"


def test_list_sorts_filters_and_pages(api, log):
    for name, kind in (("Ann", "meal"), ("Bea", "email"), ("Cid", "coffee"), ("Abe", None)):
        if kind:
            body = {"name": name, "identities": [{"kind": "email", "value": f"{name}@x.io"}]}
            log(kind, contact=body, closeness=5 if kind == "meal" else None)
        else:
            create(api, name)

    r = api.get("/api/v1/contacts")
    assert r.status_code == 200
    assert r.json["total"] == 4
    names = [c["name"] for c in r.json["contacts"]]
    scores = [c["tie"]["score"] for c in r.json["contacts"]]
    assert scores == sorted(scores, reverse=True)
    assert names[0] == "Ann" and names[-1] == "Abe"
    assert [c["tie"]["rank"] for c in r.json["contacts"][:3]] == [1, 2, 3]

    r = api.get("/api/v1/contacts?sort=name")
    assert [c["name"] for c in r.json["contacts"]] == ["Abe", "Ann", "Bea", "Cid"]
    r = api.get("/api/v1/contacts?sort=name&q=A")  # case-insensitive, anywhere in the name
    assert [c["name"] for c in r.json["contacts"]] == ["Abe", "Ann", "Bea"]
    assert r.json["total"] == 3
    assert api.get("/api/v1/contacts?q=ann").json["contacts"][0]["name"] == "Ann"
    # Or in one of the contact's identities: an email address typed in full or in part.
    assert [c["name"] for c in api.get("/api/v1/contacts?q=ann@x.").json["contacts"]] == ["Ann"]
    # LIKE wildcards in q are literal characters.
    assert api.get("/api/v1/contacts?q=%25").json["total"] == 0
    assert api.get("/api/v1/contacts?q=_").json["total"] == 0

    page1 = api.get("/api/v1/contacts?sort=name&page_size=3&page=1").json
    page2 = api.get("/api/v1/contacts?sort=name&page_size=3&page=2").json
    assert [c["name"] for c in page1["contacts"] + page2["contacts"]] == [
        "Abe",
        "Ann",
        "Bea",
        "Cid",
    ]
    assert page1["total"] == page2["total"] == 4
    assert api.get("/api/v1/contacts?page=9").json["contacts"] == []


def test_a_search_ignores_case_in_every_script(api):
    """Names are not all ASCII: "élodie" finds Élodie as "ann" finds Ann, on every backend
    (SQLite's own lower() and LIKE fold ASCII letters only)."""
    create(api, "Élodie Durand")
    create(api, "Søren Østergaard")
    create(api, "Ирина", [{"kind": "email", "value": "ирина@пример.рф"}])
    for q, name in (
        ("élodie", "Élodie Durand"),
        ("ÉLODIE", "Élodie Durand"),
        ("østergaard", "Søren Østergaard"),
        ("ИРИНА", "Ирина"),
        ("ПРИМЕР.РФ", "Ирина"),  # in an identity, stored lowercased
    ):
        found = api.get(f"/api/v1/contacts?q={q}").json
        assert [c["name"] for c in found["contacts"]] == [name], q
        assert found["total"] == 1, q


def test_a_search_folds_case_alike_on_every_backend(api):
    """A search finds the same contacts on SQLite and PostgreSQL, whose lower() differ from
    Python's str.lower() on two letters: the Turkish "İ" is "i" (not "i" and a combining dot),
    and a capital sigma is "σ" wherever it stands (not "ς" at the end of a word), so "ς" is read
    as "σ" on both sides."""
    create(api, "İsmail Kaya")
    create(api, "ΚΩΣΤΑΣ ΠΑΠΑΣ")
    create(api, "Σωκράτης")
    # Keys are lowercased by Python (as the extension does): "İ" is "i" and a combining dot.
    create(api, "Ipek Y", [{"kind": "linkedin", "value": "linkedin.com/in/İpek-Yılmaz"}])
    for q, name in (
        ("ismail", "İsmail Kaya"),
        ("İSMAİL", "İsmail Kaya"),
        ("ipek-y", "Ipek Y"),
        ("İPEK-Y", "Ipek Y"),
        ("κωστας", "ΚΩΣΤΑΣ ΠΑΠΑΣ"),
        ("κωστασ", "ΚΩΣΤΑΣ ΠΑΠΑΣ"),
        ("σωκράτης", "Σωκράτης"),
        ("ΣΩΚΡΆΤΗΣ", "Σωκράτης"),
    ):
        found = api.get(f"/api/v1/contacts?q={q}").json
        assert [c["name"] for c in found["contacts"]] == [name], q
        assert found["total"] == 1, q


def test_contacts_sorted_by_name_ignore_case(api):
    for name in ("zed", "Bea", "alice", "Alice", "ÉLodie", "élodie"):
        create(api, name)
    listed = api.get("/api/v1/contacts?sort=name").json["contacts"]
    assert [c["name"] for c in listed] == ["Alice", "alice", "Bea", "zed", "ÉLodie", "élodie"]


def test_a_name_is_one_spelling_however_its_accents_were_typed(api, log):
    """A name typed with combining accents (as some systems paste it) is stored composed, so a
    search typed either way finds it, and a first log names the contact the same way."""
    decomposed, composed = "Jose\u0301 Nu\u0301n\u0303ez", "José Núñez"
    assert create(api, decomposed)["name"] == composed
    for q in ("josé", "jose\u0301", "Núñez", "Nu\u0301n\u0303ez"):
        assert [c["name"] for c in api.get(f"/api/v1/contacts?q={q}").json["contacts"]] == [
            composed
        ]
    inline = {"name": "Zoe\u0308", "identities": [{"kind": "email", "value": "zoe@x.example"}]}
    assert log(contact=inline)["contact"]["name"] == "Zoë"


def test_rank_decides_the_dunbar_layer(api, log):
    ids = []
    for i, closeness in enumerate((5, 4, 3, 2, 1)):
        body = {"name": f"P{i}", "identities": [{"kind": "email", "value": f"p{i}@x.io"}]}
        ids.append(log("meal", contact=body, closeness=closeness)["contact"]["id"])
    body = {"name": "P5", "identities": [{"kind": "email", "value": "p5@x.io"}]}
    ids.append(log("email", contact=body, closeness=1)["contact"]["id"])
    ties = [api.get(f"/api/v1/contacts/{i}").json["tie"] for i in ids]
    assert [t["rank"] for t in ties] == [1, 2, 3, 4, 5, 6]
    assert [t["layer"] for t in ties] == [5, 5, 5, 5, 5, 15]
    # The list agrees with the lookups.
    listed = api.get("/api/v1/contacts").json["contacts"]
    assert [c["id"] for c in listed] == ids
    assert [c["tie"]["rank"] for c in listed] == [1, 2, 3, 4, 5, 6]
    # Whatever the order, a row's rank is the one a lookup gives.
    by_name = api.get("/api/v1/contacts?sort=name").json["contacts"]
    assert {c["id"]: c["tie"]["rank"] for c in by_name} == dict(
        zip(ids, [1, 2, 3, 4, 5, 6], strict=True)
    )


def test_an_email_in_full_width_letters_is_the_plain_address(api, log, table_counts):
    """An address pasted from text set in full-width (or other compatibility) letters is the
    same person as the plain one: one contact, found by either spelling."""
    alex = log(
        "email",
        contact={
            "name": "Alex",
            "identities": [{"kind": "email", "value": "ａｌｅｘ@example.com"}],
        },
    )
    assert alex["contact"]["identities"] == [{"kind": "email", "value": "alex@example.com"}]
    for spelling in ("alex@example.com", "ＡＬＥＸ＠ＥＸＡＭＰＬＥ．ＣＯＭ"):
        found = api.get("/api/v1/lookup", query_string={"email": spelling}).json
        assert found["contact"]["id"] == alex["contact"]["id"]
    again = log(
        "call",
        contact={"name": "Alex", "identities": [{"kind": "email", "value": "alex@example.com"}]},
    )
    assert again["contact"]["id"] == alex["contact"]["id"]
    r = api.post(
        "/api/v1/contacts",
        json={"name": "Alex 2", "identities": [{"kind": "email", "value": "ａｌｅｘ@example.com"}]},
    )
    assert_error(r, 409)


def test_an_email_whose_domain_has_an_empty_label_is_refused(api, log, table_counts):
    counts = table_counts()
    for value in ("jane@example.com.", "jane@example..com"):
        body = {"name": "Jane", "identities": [{"kind": "email", "value": value}]}
        assert_error(api.post("/api/v1/contacts", json=body), 422, "value")
        r = api.put(f"/api/v1/interactions/{uuid.uuid4()}", json={"kind": "email", "contact": body})
        assert_error(r, 422, "value")
    assert table_counts() == counts
