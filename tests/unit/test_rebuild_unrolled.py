"""scoring.rebuild is Aggregate.apply unrolled: the very same floats, not merely close ones."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from api import scoring
from api.scoring import Aggregate, Event, ModelSettings

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)

instants = st.one_of(
    st.integers(0, 20 * 365 * 86400).map(lambda s: NOW - timedelta(seconds=s)),
    st.integers(0, 3).map(lambda d: NOW - timedelta(days=d)),  # repeated instants
    st.just(EPOCH),  # the earliest instant accepted: as_of 0, where nothing has moved yet
)
events = st.builds(
    Event,
    occurred_at=instants,
    kind=st.sampled_from(scoring.KINDS),
    initiated_by=st.sampled_from(scoring.INITIATORS),
    closeness=st.one_of(st.none(), st.integers(1, 5)),
    favor_direction=st.one_of(st.none(), st.sampled_from(scoring.DIRECTIONS)),
    favor_value=st.integers(0, 5),
)
settings = st.sampled_from(
    [
        ModelSettings(),
        ModelSettings.from_overrides(
            {"kind_weights": {"email": 0, "call": 3}, "frequency_half_life_days": 7}
        ),
    ]
)


def applied_one_by_one(ledger, model):
    agg = Aggregate()
    for event in sorted(ledger, key=lambda e: e.occurred_at):
        agg.apply(event, model)
    return agg


@given(st.lists(events, max_size=40), settings)
def test_rebuild_equals_applying_each_event(ledger, model):
    assert scoring.rebuild(ledger, model) == applied_one_by_one(ledger, model)
