"""The tie-strength model (api/scoring.py): pure functions, held to the properties that make a
score trustworthy to the person reading it."""

import math
import random
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api import scoring
from api.scoring import Aggregate, Event, ModelSettings

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SETTINGS = ModelSettings()
FIVE_YEARS = 5 * 365 * 86400


def score_of(events, at=NOW, settings=SETTINGS):
    return scoring.score_at(scoring.rebuild(list(events), settings), at, settings)


def ago(days=0.0, seconds=0):
    return NOW - timedelta(days=days, seconds=seconds)


def assert_same_aggregate(kept: Aggregate, rebuilt: Aggregate, at=NOW):
    """Equal as the model sees them: counts and bounds exactly, decayed sums to a tolerance."""
    for name in (
        "count",
        "given_count",
        "received_count",
        "given_value",
        "received_value",
        "first_at",
        "last_at",
    ):
        assert getattr(kept, name) == getattr(rebuilt, name), name
    ours, theirs = kept.decayed(at.timestamp(), SETTINGS), rebuilt.decayed(at.timestamp(), SETTINGS)
    for name, value in theirs.items():
        assert math.isclose(ours[name], value, rel_tol=1e-9, abs_tol=1e-9), name
    assert math.isclose(
        scoring.score_at(kept, at, SETTINGS),
        scoring.score_at(rebuilt, at, SETTINGS),
        rel_tol=1e-9,
        abs_tol=1e-9,
    )


# ---- strategies --------------------------------------------------------------------------------

instants = st.integers(min_value=0, max_value=FIVE_YEARS).map(lambda s: ago(seconds=s))
favours = st.one_of(
    st.just((None, 0)),
    st.tuples(st.sampled_from(scoring.DIRECTIONS), st.integers(min_value=1, max_value=5)),
)


@st.composite
def events(draw, when=instants):
    direction, value = draw(favours)
    return Event(
        occurred_at=draw(when),
        kind=draw(st.sampled_from(scoring.KINDS)),
        initiated_by=draw(st.sampled_from(scoring.INITIATORS)),
        closeness=draw(st.none() | st.integers(min_value=1, max_value=5)),
        favor_direction=direction,
        favor_value=value,
    )


ledgers = st.lists(events(), max_size=15)
# The order tests also meet the earliest instant the API accepts (as_of 0, the epoch itself).
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
any_ledgers = st.lists(events(when=instants | st.just(EPOCH)), max_size=15)


# ---- purity ------------------------------------------------------------------------------------


def test_importing_the_model_loads_no_web_framework_or_database():
    probe = (
        "import sys, api.scoring\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'flask_smorest', 'flask_sqlalchemy', 'sqlalchemy', 'werkzeug'))\n"
        "assert not bad, bad\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


# ---- components, score, band, layer, ledger ----------------------------------------------------


def test_an_empty_ledger_scores_zero_and_is_dormant():
    agg = scoring.rebuild([], SETTINGS)
    assert scoring.components(agg, NOW, SETTINGS) == dict.fromkeys(scoring.COMPONENTS, 0.0)
    assert scoring.score_at(agg, NOW, SETTINGS) == 0.0
    assert scoring.band(0.0, agg, NOW, SETTINGS) == "dormant"
    assert scoring.reciprocity_ledger(agg) == {
        "given": 0,
        "received": 0,
        "given_value": 0,
        "received_value": 0,
        "balance": 0,
    }


@given(ledgers)
def test_components_are_fractions_and_the_score_is_0_to_100(ledger):
    agg = scoring.rebuild(ledger, SETTINGS)
    parts = scoring.components(agg, NOW, SETTINGS)
    assert set(parts) == set(scoring.COMPONENTS)
    assert all(0.0 <= v <= 1.0 for v in parts.values()), parts
    assert 0.0 <= scoring.score(parts, SETTINGS) <= 100.0


def weekly_for_a_year(until_days_ago=0, **fields):
    return [
        Event(ago(days=until_days_ago + 7 * i), fields.get("kind", "coffee"), **fields)
        for i in range(52)
    ]


def test_each_component_responds_to_its_own_evidence():
    one = [Event(ago(days=1), "email")]
    base = scoring.components(scoring.rebuild(one, SETTINGS), NOW, SETTINGS)
    # frequency: more contact.
    more = one + [Event(ago(days=d), "email") for d in (2, 3, 4)]
    assert (
        scoring.components(scoring.rebuild(more, SETTINGS), NOW, SETTINGS)["frequency"]
        > (base["frequency"])
    )
    # recency: the same contact longer ago.
    old = [Event(ago(days=60), "email")]
    assert (
        scoring.components(scoring.rebuild(old, SETTINGS), NOW, SETTINGS)["recency"]
        < (base["recency"])
    )
    # emotional: a closer exchange.
    close = [Event(ago(days=1), "email", closeness=5)]
    assert (
        scoring.components(scoring.rebuild(close, SETTINGS), NOW, SETTINGS)["emotional"]
        > (base["emotional"])
    )
    # reciprocity: they reached out too.
    both = one + [Event(ago(days=1), "email", initiated_by="them")]
    parts = scoring.components(scoring.rebuild(both, SETTINGS), NOW, SETTINGS)
    assert parts["reciprocity"] > base["reciprocity"]
    # duration: known for longer.
    long = one + [Event(ago(days=700), "email")]
    assert (
        scoring.components(scoring.rebuild(long, SETTINGS), NOW, SETTINGS)["duration"]
        > (base["duration"])
    )


def test_bands_from_strong_to_dormant():
    strong = weekly_for_a_year(closeness=4, initiated_by="mutual")
    agg = scoring.rebuild(strong, SETTINGS)
    value = scoring.score_at(agg, NOW, SETTINGS)
    assert value >= 60 and scoring.band(value, agg, NOW, SETTINGS) == "strong"

    single = scoring.rebuild([Event(ago(days=1), "email")], SETTINGS)
    value = scoring.score_at(single, NOW, SETTINGS)
    assert scoring.band(value, single, NOW, SETTINGS) in ("weak", "dormant")
    assert value < 35

    # Threshold mapping for a live tie.
    live = scoring.rebuild([Event(ago(days=1), "call")], SETTINGS)
    assert scoring.band(60.0, live, NOW, SETTINGS) == "strong"
    assert scoring.band(59.9, live, NOW, SETTINGS) == "medium"
    assert scoring.band(35.0, live, NOW, SETTINGS) == "medium"
    assert scoring.band(34.9, live, NOW, SETTINGS) == "weak"
    assert scoring.band(12.0, live, NOW, SETTINGS) == "weak"
    assert scoring.band(11.9, live, NOW, SETTINGS) == "dormant"


def test_silence_far_past_the_usual_cadence_is_dormant_whatever_the_score():
    # Met weekly for a year, then nothing for 100 days: 100 > 8 x 7 and > 90.
    ledger = weekly_for_a_year(until_days_ago=100, closeness=5, initiated_by="mutual")
    agg = scoring.rebuild(ledger, SETTINGS)
    value = scoring.score_at(agg, NOW, SETTINGS)
    assert value >= 12
    assert scoring.band(value, agg, NOW, SETTINGS) == "dormant"
    assert scoring.cadence_days(agg) == pytest.approx(7.0)
    # The same tie 80 days silent is not dormant yet (under the 90-day floor).
    agg = scoring.rebuild(weekly_for_a_year(until_days_ago=80, closeness=5), SETTINGS)
    assert scoring.band(scoring.score_at(agg, NOW, SETTINGS), agg, NOW, SETTINGS) != "dormant"


@pytest.mark.parametrize(
    ("rank", "layer"),
    [(1, 5), (5, 5), (6, 15), (15, 15), (16, 50), (50, 50), (51, 150), (150, 150)]
    + [(151, 500), (500, 500), (501, 1500), (1500, 1500), (1501, 1500), (10**6, 1500)],
)
def test_dunbar_layer_by_rank(rank, layer):
    assert scoring.layer(rank) == layer


def test_reciprocity_ledger_says_who_owes_whom():
    ledger = [
        Event(ago(days=10), "favor", favor_direction="given", favor_value=5),
        Event(ago(days=9), "coffee", favor_direction="given", favor_value=2),
        Event(ago(days=8), "introduction", favor_direction="received", favor_value=3),
        Event(ago(days=7), "call"),
    ]
    assert scoring.reciprocity_ledger(scoring.rebuild(ledger, SETTINGS)) == {
        "given": 2,
        "received": 1,
        "given_value": 7,
        "received_value": 3,
        "balance": 4,  # positive: they owe me
    }
    flipped = [
        replace(
            e, favor_direction={"given": "received", "received": "given"}.get(e.favor_direction)
        )
        for e in ledger
    ]
    assert scoring.reciprocity_ledger(scoring.rebuild(flipped, SETTINGS))["balance"] == -4


def trend_of(ledger, at=NOW, days=30):
    """scoring.trend fed exactly what the ledger service feeds it (a 30-day index range)."""
    since = at - timedelta(days=days)
    recent = [e for e in ledger if e.occurred_at > since]
    earlier = [e.occurred_at for e in ledger if e.occurred_at <= since]
    agg = scoring.rebuild(ledger, SETTINGS)
    return scoring.trend(agg, recent, max(earlier, default=None), at, SETTINGS, days=days)


def test_trend_rises_with_new_contact_and_falls_in_silence():
    history = [Event(ago(days=d), "call") for d in (60, 90, 120, 150)]
    assert trend_of(history) < 0
    assert trend_of(history + [Event(ago(days=2), "meal", closeness=5)]) > 0
    # A first contact this month: the whole score is new.
    fresh = [Event(ago(days=3), "coffee")]
    assert trend_of(fresh) == pytest.approx(score_of(fresh))


@given(ledgers)
def test_trend_is_the_score_now_minus_the_score_30_days_ago(ledger):
    then = NOW - timedelta(days=30)
    before = [e for e in ledger if e.occurred_at <= then]
    expected = score_of(ledger) - score_of(before, at=then)
    assert trend_of(ledger) == pytest.approx(expected, abs=1e-6)


def test_settings_overrides_merge_key_by_key():
    custom = ModelSettings.from_overrides(
        {"weights": {"duration": 0.0}, "recency_half_life_days": 10.0}
    )
    assert custom.weights["duration"] == 0.0
    assert custom.weights["emotional"] == SETTINGS.weights["emotional"]
    assert custom.recency_half_life_days == 10.0
    ledger = [Event(ago(days=20), "call"), Event(ago(days=400), "call")]
    assert score_of(ledger, settings=custom) != score_of(ledger)


# ---- properties --------------------------------------------------------------------------------


@given(ledgers, events())
def test_logging_an_interaction_never_lowers_the_score(ledger, new):
    assert score_of(ledger + [new]) >= score_of(ledger) - 1e-9


@given(
    st.lists(events(), min_size=1, max_size=15),
    events(),
    st.floats(min_value=0, max_value=1),
    st.floats(min_value=0, max_value=1),
)
def test_a_later_interaction_counts_at_least_as_much(ledger, x, at, later_by):
    """For a ledger S and an interaction x not earlier than S's first interaction, moving x later
    (up to the read time) never lowers the score."""
    first = min(e.occurred_at for e in ledger)
    early = first + (NOW - first) * at
    late = early + (NOW - early) * later_by
    assert first <= early <= late <= NOW
    before = score_of(ledger + [replace(x, occurred_at=early)])
    assert score_of(ledger + [replace(x, occurred_at=late)]) >= before - 1e-9


@given(events(), st.integers(min_value=60, max_value=FIVE_YEARS))
def test_a_single_interaction_scores_lower_the_older_it_is(x, older_by):
    """With one interaction, the same interaction longer ago scores strictly lower."""
    earlier = replace(x, occurred_at=x.occurred_at - timedelta(seconds=older_by))
    assert score_of([earlier]) < score_of([x])


def test_a_single_interaction_fades_day_by_day():
    scores = [score_of([Event(ago(days=d), "coffee")]) for d in (0, 1, 2, 7, 10, 30, 90, 365)]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == len(scores)


@given(
    st.lists(events(), max_size=10),
    st.lists(st.tuples(instants, st.integers(min_value=1, max_value=5)), min_size=2, max_size=10),
    st.sampled_from(["given", "received"]),
)
def test_mutual_favours_beat_one_sided_favours_of_the_same_volume(others, favs, one_way):
    plain = [replace(e, favor_direction=None, favor_value=0) for e in others]

    def with_directions(directions):
        return plain + [
            Event(when, "favor", favor_direction=d, favor_value=value)
            for (when, value), d in zip(favs, directions, strict=True)
        ]

    mutual = with_directions((["given", "received"] * len(favs))[: len(favs)])
    one_sided = with_directions([one_way] * len(favs))
    assert score_of(mutual) > score_of(one_sided)


@given(any_ledgers, st.randoms(use_true_random=False))
def test_insertion_order_does_not_matter(ledger, rnd):
    shuffled = list(ledger)
    rnd.shuffle(shuffled)
    in_order = Aggregate()
    for e in shuffled:
        in_order.apply(e, SETTINGS)
    assert_same_aggregate(in_order, scoring.rebuild(ledger, SETTINGS))
    assert_same_aggregate(scoring.rebuild(shuffled, SETTINGS), scoring.rebuild(ledger, SETTINGS))


@given(any_ledgers, st.lists(st.integers(0, 10**6), max_size=25), st.randoms(use_true_random=False))
def test_kept_aggregate_with_removals_equals_a_rebuild(ledger, removal_picks, rnd):
    """What the ledger service does on every write (apply one by one; on a removal apply with
    sign=-1 and set the new bounds) gives the numbers of a full rebuild."""
    kept = Aggregate()
    live = []
    order = list(ledger)
    rnd.shuffle(order)
    for e in order:
        kept.apply(e, SETTINGS)
        live.append(e)
    for pick in removal_picks:
        if not live:
            break
        gone = live.pop(pick % len(live))
        kept.apply(gone, SETTINGS, sign=-1)
        times = [e.occurred_at for e in live]
        kept.set_bounds(min(times, default=None), max(times, default=None))
        if pick % 3 == 0 and live:  # interleave adds: an edit is a removal and an add
            again = replace(gone, occurred_at=ago(seconds=pick % FIVE_YEARS))
            kept.apply(again, SETTINGS)
            live.append(again)
    assert_same_aggregate(kept, scoring.rebuild(live, SETTINGS))


def test_removing_everything_leaves_no_residue():
    ledger = [Event(ago(days=d), "meal", favor_direction="given", favor_value=3) for d in (1, 5, 9)]
    kept = scoring.rebuild(ledger, SETTINGS)
    for e in random.Random(1).sample(ledger, len(ledger)):
        kept.apply(e, SETTINGS, sign=-1)
    kept.set_bounds(None, None)
    assert kept == Aggregate()
    assert scoring.score_at(kept, NOW, SETTINGS) == 0.0


@pytest.mark.parametrize(
    "settings, parts",
    [
        (SETTINGS, dict.fromkeys(scoring.COMPONENTS, math.nan)),
        (replace(SETTINGS, weights={"recency": math.inf}), dict.fromkeys(scoring.COMPONENTS, 1.0)),
    ],
    ids=["a component", "a weight"],
)
def test_a_score_that_is_not_finite_is_an_error_not_a_value(settings, parts):
    # Stored, SQLite would keep NULL; answered, orjson would write null.
    with pytest.raises(ValueError, match="not finite"):
        scoring.score(parts, settings)
