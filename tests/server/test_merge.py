"""One person under two contacts (known by email, then met on LinkedIn): adding the page's
identity to the contact you already have, or merging the two contacts into one."""

import random
from datetime import UTC, datetime, timedelta

import pytest
from server_helpers import assert_error, new_id
from test_consistency import assert_same_stats, rebuilt_snapshot, run_random_writes, stats_snapshot

ANA_MAIL = {"name": "Ana Souza", "identities": [{"kind": "email", "value": "ana@example.com"}]}
ANA_IN = {"name": "Ana S.", "identities": [{"kind": "linkedin", "value": "ana-souza"}]}
HER_PROFILE = {"identities": ANA_IN["identities"]}


def days_ago(n: int) -> str:
    return (datetime.now(UTC) - timedelta(days=n)).isoformat()


def lookup(api, **query) -> dict:
    r = api.get("/api/v1/lookup", query_string=query)
    assert r.status_code == 200
    return r.json


def test_adding_the_page_identity_makes_the_profile_find_the_contact(api, log, changes):
    ana = log("email", contact=ANA_MAIL, occurred_at=days_ago(3))["contact"]
    assert lookup(api, linkedin="ana-souza")["contact"] is None
    before = len(changes())

    r = api.post(f"/api/v1/contacts/{ana['id']}/identities", json=HER_PROFILE)
    assert r.status_code == 200, r.json
    assert {(i["kind"], i["value"]) for i in r.json["identities"]} == {
        ("email", "ana@example.com"),
        ("linkedin", "ana-souza"),
    }
    found = lookup(api, linkedin="https://www.linkedin.com/in/ana-souza/")
    assert found["contact"]["id"] == ana["id"]
    assert found["tie"]["interaction_count"] == 1
    # Other browsers learn it from the feed: the identity, then the contact holding it.
    new = changes()[before:]
    assert [(c["entity"], c["op"]) for c in new] == [("identity", "upsert"), ("contact", "upsert")]

    # Again: nothing to add, nothing written.
    again = api.post(f"/api/v1/contacts/{ana['id']}/identities", json=HER_PROFILE)
    assert again.status_code == 200
    assert len(changes()) == before + 2


def test_an_identity_another_contact_holds_is_refused_and_nothing_changes(api, log, table_counts):
    ana = log("email", contact=ANA_MAIL)["contact"]
    log("message", contact=ANA_IN)
    counts = table_counts()
    r = api.post(f"/api/v1/contacts/{ana['id']}/identities", json=HER_PROFILE)
    assert_error(r, 409)
    assert "ana-souza" in r.json["message"]
    assert table_counts() == counts


def test_identities_are_validated(api, log, table_counts):
    ana = log("email", contact=ANA_MAIL)["contact"]
    counts = table_counts()
    path = f"/api/v1/contacts/{ana['id']}/identities"
    assert_error(api.post(path, json={"identities": []}), 422, "identities")
    assert_error(api.post(path, json={}), 422, "identities")
    bad = {"identities": [{"kind": "phone", "value": "123"}]}
    assert_error(api.post(path, json=bad), 422, "kind")
    assert_error(api.post("/api/v1/contacts/999999/identities", json=HER_PROFILE), 404)
    assert table_counts() == counts


def test_merging_moves_the_history_and_the_tie_counts_both(app, api, log, changes):
    mail = log("email", contact=ANA_MAIL, occurred_at=days_ago(40), initiated_by="them")
    for n in (2, 9):
        log("email", contact_id=mail["contact"]["id"], occurred_at=days_ago(n))
    linked = log("coffee", contact=ANA_IN, occurred_at=days_ago(1), favor={"direction": "given"})
    into, other = mail["contact"]["id"], linked["contact"]["id"]
    api.patch(f"/api/v1/contacts/{other}", json={"notes": "Met at PyCon"})
    separate = [lookup(api, email="ana@example.com")["tie"], linked["tie"]]
    before = len(changes())

    r = api.post(f"/api/v1/contacts/{into}/merge", json={"contact_id": other})
    assert r.status_code == 200, r.json
    merged = r.json
    assert merged["id"] == into and merged["name"] == "Ana Souza"
    assert merged["notes"] == "Met at PyCon"
    assert {i["value"] for i in merged["identities"]} == {"ana@example.com", "ana-souza"}
    tie = merged["tie"]
    assert tie["interaction_count"] == 4
    assert tie["reciprocity"]["given"] == 1
    assert tie["last_interaction"]["kind"] == "coffee"
    assert tie["score"] > max(t["score"] for t in separate)
    # Both of her pages now show the one contact; the other one is gone.
    for query in ({"email": "ana@example.com"}, {"linkedin": "ana-souza"}):
        assert lookup(api, **query)["contact"]["id"] == into
    assert_error(api.get(f"/api/v1/contacts/{other}"), 404)
    history = api.get(f"/api/v1/contacts/{into}/interactions").json["interactions"]
    assert len(history) == 4
    # The kept aggregates are what a rebuild of the ledger makes of it.
    assert_same_stats(stats_snapshot(app), rebuilt_snapshot(app))
    # The feed tells other browsers each move, the deletion, and the merged contact last.
    new = changes()[before:]
    assert [(c["entity"], c["op"]) for c in new] == [
        ("identity", "upsert"),
        ("interaction", "upsert"),
        ("contact", "delete"),
        ("contact", "upsert"),
    ]
    assert new[0]["data"]["contact_id"] == into
    assert new[1]["data"]["contact_id"] == into
    assert new[2]["data"]["merged_into"] == into
    assert new[-1]["data"]["tie"]["interaction_count"] == 4


@pytest.mark.parametrize(
    ("kept", "merged", "notes"),
    [
        ("Former VP at Acme", "VP", "Former VP at Acme\n\nVP"),  # a word of it: still a note
        ("Met at PyCon\n\nLikes tea", "Likes tea", "Met at PyCon\n\nLikes tea"),  # merged before
        ("Likes tea", "Likes tea", "Likes tea"),
        ("", "Likes tea", "Likes tea"),
    ],
)
def test_merging_keeps_every_note_once(api, log, kept, merged, notes):
    into = log("email", contact=ANA_MAIL)["contact"]["id"]
    other = log("coffee", contact=ANA_IN)["contact"]["id"]
    api.patch(f"/api/v1/contacts/{into}", json={"notes": kept})
    api.patch(f"/api/v1/contacts/{other}", json={"notes": merged})
    r = api.post(f"/api/v1/contacts/{into}/merge", json={"contact_id": other})
    assert r.status_code == 200, r.json
    assert r.json["notes"] == notes


def test_merging_after_random_writes_keeps_every_aggregate_exact(app, api):
    run_random_writes(api, random.Random(5), steps=30)
    contacts = sorted(c["id"] for c in api.get("/api/v1/contacts").json["contacts"])
    assert len(contacts) >= 2
    r = api.post(f"/api/v1/contacts/{contacts[0]}/merge", json={"contact_id": contacts[-1]})
    assert r.status_code == 200, r.json
    assert_same_stats(stats_snapshot(app), rebuilt_snapshot(app))


def test_a_merge_that_cannot_be_is_refused_and_changes_nothing(api, log, other_api, table_counts):
    ana = log("email", contact=ANA_MAIL)["contact"]["id"]
    alices = other_api.post("/api/v1/contacts", json={"name": "Bob"}).json["id"]
    counts = table_counts()
    merge = f"/api/v1/contacts/{ana}/merge"
    assert_error(api.post(merge, json={"contact_id": ana}), 422, "contact_id")
    assert_error(api.post(merge, json={"contact_id": 999999}), 404)
    assert_error(api.post(merge, json={"contact_id": alices}), 404)  # another user's
    assert_error(api.post(f"/api/v1/contacts/{alices}/merge", json={"contact_id": ana}), 404)
    assert_error(api.post(merge, json={"contact_id": "2"}), 422, "contact_id")
    assert_error(api.post(merge, json={"contact_id": 2**31}), 422, "contact_id")
    assert_error(api.post(merge, json={}), 422, "contact_id")
    assert table_counts() == counts


def test_a_log_still_addressed_to_a_merged_contact_lands_on_the_one_it_became(api, log):
    """A browser that was offline during the merge sends its queued logs by the old id."""
    ana = log("email", contact=ANA_MAIL)["contact"]["id"]
    ana_in = log("message", contact=ANA_IN)["contact"]["id"]
    souza = {"name": "A. Souza", "identities": [{"kind": "email", "value": "a.souza@work.example"}]}
    third = log("call", contact=souza)["contact"]["id"]
    # A chain: the third contact into the LinkedIn one, then that one into the email one.
    assert (
        api.post(f"/api/v1/contacts/{ana_in}/merge", json={"contact_id": third}).status_code == 200
    )
    assert api.post(f"/api/v1/contacts/{ana}/merge", json={"contact_id": ana_in}).status_code == 200

    queued = log("coffee", contact_id=third)
    assert queued["contact"]["id"] == ana
    assert queued["tie"]["interaction_count"] == 4
    # An edit moving an interaction to the old id moves it to her too.
    other = log(
        "meal", contact={"name": "Bo", "identities": [{"kind": "email", "value": "bo@x.io"}]}
    )
    r = api.patch(f"/api/v1/interactions/{other['interaction']['id']}", json={"contact_id": ana_in})
    assert r.status_code == 200 and r.json["contact"]["id"] == ana
    # Reading the merged contact itself is still a 404: it is gone.
    assert_error(api.get(f"/api/v1/contacts/{ana_in}"), 404)


def test_a_message_logged_under_both_contacts_counts_once_after_the_merge(api, log, changes):
    """The same email (external_ref) logged with each of the two contacts: the merged contact
    holds it once, as if it had been logged under one contact from the start. The other copy
    is deleted (its note joins the one kept), its tombstone in the feed keeping what it held."""
    ref = "<CAF=both@mail.gmail.com>"
    kept = log("email", contact=ANA_MAIL, external_ref=ref, note="work address")
    copy = log("email", contact=ANA_IN, external_ref=ref, note="profile copy")
    own = log("call", contact=ANA_IN, note="her own call")
    into, other = kept["contact"]["id"], copy["contact"]["id"]

    r = api.post(f"/api/v1/contacts/{into}/merge", json={"contact_id": other})
    assert r.status_code == 200, r.json
    assert r.json["tie"]["interaction_count"] == 2
    listed = api.get(f"/api/v1/contacts/{into}/interactions").json["interactions"]
    assert sorted(i["note"] for i in listed) == ["her own call", "work address\n\nprofile copy"]
    tombstone = [c for c in changes() if c["id"] == copy["interaction"]["id"]][-1]
    assert tombstone["op"] == "delete" and tombstone["data"]["note"] == "profile copy"
    # Logged again: still the one interaction, under either address.
    for contact in (ANA_MAIL, ANA_IN):
        again = log("email", contact=contact, external_ref=ref, expect=200)
        assert again["interaction"]["id"] == kept["interaction"]["id"]
    assert own["interaction"]["id"] in {i["id"] for i in listed}


def test_the_dropped_copy_of_a_message_leaves_its_note_favour_and_closeness(app, api, log, changes):
    """What the user wrote on the copy that is dropped stays in the live ledger: its note joins
    the kept interaction's (once), its favour and closeness fill what the kept one lacks."""
    ref = "<CAF=both@mail.gmail.com>"
    kept = log("email", contact=ANA_MAIL, external_ref=ref, note="work address")
    copy = log(
        "email",
        contact=ANA_IN,
        external_ref=ref,
        note="she offered an intro to Acme",
        favor={"direction": "received", "value": 3},
        closeness=4,
    )
    into, other = kept["contact"]["id"], copy["contact"]["id"]
    before = len(changes())

    r = api.post(f"/api/v1/contacts/{into}/merge", json={"contact_id": other})
    assert r.status_code == 200, r.json
    [held] = api.get(f"/api/v1/contacts/{into}/interactions").json["interactions"]
    assert held["id"] == kept["interaction"]["id"]
    assert held["note"] == "work address\n\nshe offered an intro to Acme"
    assert held["favor"] == {"direction": "received", "value": 3}
    assert held["closeness"] == 4
    # The tie counts the favour, and other browsers read the kept interaction's new version.
    assert r.json["tie"]["reciprocity"]["received"] == 1
    assert_same_stats(stats_snapshot(app), rebuilt_snapshot(app))
    upserts = [c for c in changes()[before:] if c["id"] == held["id"]]
    assert [c["op"] for c in upserts] == ["upsert"] and upserts[0]["data"]["note"] == held["note"]


def test_the_kept_copy_keeps_its_own_favour_closeness_and_a_note_it_holds(api, log):
    ref = "<CAF=both@mail.gmail.com>"
    kept = log(
        "email",
        contact=ANA_MAIL,
        external_ref=ref,
        note="intro to Acme\n\nfollow up in May",
        favor={"direction": "given", "value": 2},
        closeness=2,
    )
    log(
        "email",
        contact=ANA_IN,
        external_ref=ref,
        note="follow up in May",  # a whole paragraph of the kept note: kept once
        favor={"direction": "received", "value": 5},
        closeness=5,
    )
    into = kept["contact"]["id"]
    other = lookup(api, linkedin="ana-souza")["contact"]["id"]
    assert api.post(f"/api/v1/contacts/{into}/merge", json={"contact_id": other}).status_code == 200
    [held] = api.get(f"/api/v1/contacts/{into}/interactions").json["interactions"]
    assert held["note"] == "intro to Acme\n\nfollow up in May"
    assert held["favor"] == {"direction": "given", "value": 2}
    assert held["closeness"] == 2


def test_ids_that_answered_the_dropped_copy_answer_the_kept_one(api, log):
    """A browser that logged the copy retries its PUT (its answer was lost), or retries an id
    that was bound to the copy: either answers the message as the merged contact holds it."""
    ref = "<CAF=both@mail.gmail.com>"
    kept = log("email", contact=ANA_MAIL, external_ref=ref)
    copy = log("email", contact=ANA_IN, external_ref=ref, note="copy")
    bound_id = new_id()
    log("email", contact=ANA_IN, external_ref=ref, id=bound_id, expect=200)  # bound to the copy
    into, other = kept["contact"]["id"], copy["contact"]["id"]
    assert api.post(f"/api/v1/contacts/{into}/merge", json={"contact_id": other}).status_code == 200

    for retried in (copy["interaction"]["id"], bound_id):
        again = log("email", contact=ANA_IN, external_ref=ref, id=retried, expect=200)
        assert again["interaction"]["id"] == kept["interaction"]["id"]
        assert again["interaction"]["deleted_at"] is None and again["contact"]["id"] == into
        assert again["tie"]["interaction_count"] == 1
    # The copy itself stays what it is: deleted (an undo of it changes nothing more).
    r = api.delete(f"/api/v1/interactions/{copy['interaction']['id']}")
    assert r.status_code == 200 and r.json["interaction"]["deleted_at"] is not None
    assert r.json["tie"]["interaction_count"] == 1
