"""The tie-strength model: pure functions over a contact's interaction ledger (no Flask, no DB).

Every time-dependent input is an exponentially decayed sum. A decayed sum can be kept as its value
at a reference instant (`as_of`) and moved to any other instant by one multiplication, so adding or
removing an interaction is O(1) and the result does not depend on the order of the writes: the
per-contact `Aggregate` kept beside the ledger always equals a rebuild from the ledger.
Every component is monotone in the ledger, so logging an interaction never lowers a score.
The defaults and their sources are documented in docs/scoring.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta

DAY = 86400.0
COMPONENTS = ("frequency", "recency", "emotional", "reciprocity", "duration")
KINDS = (
    "email",
    "message",
    "call",
    "video",
    "meeting",
    "coffee",
    "meal",
    "event",
    "introduction",
    "favor",
)
INITIATORS = ("me", "them", "mutual")
DIRECTIONS = ("given", "received")
LAYERS = (5, 15, 50, 150, 500, 1500)
TREND_DAYS = 30  # the trend compares the score now with the score this many days ago


@dataclass(frozen=True)
class ModelSettings:
    """Every constant of the model; a user's settings override any of them."""

    weights: dict[str, float] = field(
        default_factory=lambda: {
            "emotional": 0.30,
            "frequency": 0.20,
            "reciprocity": 0.20,
            "recency": 0.15,
            "duration": 0.15,
        }
    )
    frequency_half_life_days: float = 90.0
    recency_half_life_days: float = 45.0
    emotional_half_life_days: float = 365.0
    reciprocity_half_life_days: float = 365.0
    # Decayed mass at which a component reaches 1 - 1/e (about 63%).
    frequency_saturation: float = 4.0
    emotional_saturation: float = 3.0
    favour_saturation: float = 5.0
    initiative_saturation: float = 4.0
    duration_full_days: float = 3650.0
    # Silence past this multiple of the personal cadence marks a tie dormant (Navarro et al. 2017).
    dormant_cadence_multiple: float = 8.0
    dormant_min_days: float = 90.0
    bands: dict[str, float] = field(
        default_factory=lambda: {"strong": 60.0, "medium": 35.0, "weak": 12.0}
    )
    kind_weights: dict[str, float] = field(
        default_factory=lambda: {
            "email": 0.5,
            "message": 0.5,
            "call": 1.0,
            "video": 1.0,
            "meeting": 1.0,
            "coffee": 1.5,
            "meal": 2.0,
            "event": 0.75,
            "introduction": 1.0,
            "favor": 1.0,
        }
    )
    kind_closeness: dict[str, int] = field(
        default_factory=lambda: {
            "email": 2,
            "message": 2,
            "call": 3,
            "video": 3,
            "meeting": 2,
            "coffee": 4,
            "meal": 4,
            "event": 2,
            "introduction": 3,
            "favor": 3,
        }
    )

    @classmethod
    def from_overrides(cls, overrides: dict | None) -> ModelSettings:
        """Defaults with a user's overrides laid over them (dicts are merged key by key)."""
        base = cls()
        if not overrides:
            return base
        changes = {}
        for f in fields(cls):
            if f.name not in overrides:
                continue
            value = overrides[f.name]
            current = getattr(base, f.name)
            changes[f.name] = {**current, **value} if isinstance(current, dict) else value
        return replace(base, **changes)

    def half_lives(self) -> dict[str, float]:
        return {
            "frequency": self.frequency_half_life_days * DAY,
            "emotional": self.emotional_half_life_days * DAY,
            "reciprocity": self.reciprocity_half_life_days * DAY,
        }


@dataclass(frozen=True)
class Event:
    """One interaction as the model sees it."""

    occurred_at: datetime
    kind: str
    initiated_by: str = "me"
    closeness: int | None = None
    favor_direction: str | None = None
    favor_value: int = 0


# The decayed sums an Aggregate keeps, each with the half-life family it decays by.
_DECAYED = {
    "frequency_mass": "frequency",
    "closeness_mass": "emotional",
    "given_mass": "reciprocity",
    "received_mass": "reciprocity",
    "initiated_me": "frequency",
    "initiated_them": "frequency",
    "initiated_mutual": "frequency",
}


@dataclass
class Aggregate:
    """A contact's running totals, valued at `as_of` (epoch seconds)."""

    as_of: float = 0.0
    frequency_mass: float = 0.0
    closeness_mass: float = 0.0
    given_mass: float = 0.0
    received_mass: float = 0.0
    initiated_me: float = 0.0
    initiated_them: float = 0.0
    initiated_mutual: float = 0.0
    count: int = 0
    given_count: int = 0
    received_count: int = 0
    given_value: int = 0
    received_value: int = 0
    first_at: float | None = None
    last_at: float | None = None

    def apply(self, event: Event, settings: ModelSettings, sign: int = 1) -> None:
        """Add (sign=1) or remove (sign=-1) one event's contribution.

        Removing cannot recover `first_at`/`last_at` when the removed event held them; the caller
        passes the ledger's new bounds to `set_bounds` (an indexed query, not a history scan).
        """
        t = event.occurred_at.timestamp()
        if sign > 0 and t > self.as_of:
            self._move_to(t, settings)
        half = settings.half_lives()
        for name, amount in _contribution(event, settings).items():
            if amount:
                decay = 2.0 ** (-(self.as_of - t) / half[_DECAYED[name]])
                value = getattr(self, name) + sign * amount * decay
                setattr(self, name, value if value > 1e-9 else 0.0)
        self.count += sign
        if event.favor_direction == "given":
            self.given_count += sign
            self.given_value += sign * event.favor_value
        elif event.favor_direction == "received":
            self.received_count += sign
            self.received_value += sign * event.favor_value
        if sign > 0:
            self.first_at = t if self.first_at is None else min(self.first_at, t)
            self.last_at = t if self.last_at is None else max(self.last_at, t)

    def set_bounds(self, first: datetime | None, last: datetime | None) -> None:
        self.first_at = first.timestamp() if first else None
        self.last_at = last.timestamp() if last else None
        if self.count <= 0:
            self.__init__()  # an empty ledger has no residue of float error either

    def _move_to(self, t: float, settings: ModelSettings) -> None:
        half = settings.half_lives()
        # Also from as_of 0 (nothing applied yet, or an event at the epoch itself): sums of zero
        # stay zero, and an epoch event's mass must decay like any other.
        for name, family in _DECAYED.items():
            setattr(self, name, getattr(self, name) * 2.0 ** (-(t - self.as_of) / half[family]))
        self.as_of = t

    def decayed(self, at: float, settings: ModelSettings) -> dict[str, float]:
        """Every decayed sum valued at instant `at`."""
        half = settings.half_lives()
        return {
            name: getattr(self, name) * 2.0 ** (-(at - self.as_of) / half[family])
            for name, family in _DECAYED.items()
        }


def _contribution(event: Event, settings: ModelSettings) -> dict[str, float]:
    closeness = event.closeness or settings.kind_closeness.get(event.kind, 2)
    favour = float(event.favor_value or 0)
    return {
        "frequency_mass": settings.kind_weights.get(event.kind, 1.0),
        "closeness_mass": closeness / 5.0,
        "given_mass": favour if event.favor_direction == "given" else 0.0,
        "received_mass": favour if event.favor_direction == "received" else 0.0,
        "initiated_me": 1.0 if event.initiated_by == "me" else 0.0,
        "initiated_them": 1.0 if event.initiated_by == "them" else 0.0,
        "initiated_mutual": 1.0 if event.initiated_by == "mutual" else 0.0,
    }


def _saturate(mass: float, scale: float) -> float:
    return 1.0 - math.exp(-max(mass, 0.0) / scale)


def components(agg: Aggregate, at: datetime, settings: ModelSettings) -> dict[str, float]:
    """The five components, each in [0, 1], as of instant `at`."""
    if agg.count <= 0 or agg.last_at is None or agg.first_at is None:
        return dict.fromkeys(COMPONENTS, 0.0)
    t = at.timestamp()
    d = agg.decayed(t, settings)
    silence_days = max(0.0, t - agg.last_at) / DAY
    # The tie's evidenced length, first to last interaction: an old single contact is no
    # longer a tie for having aged, so the same interaction always counts less when older.
    tenure_days = max(0.0, min(t, agg.last_at) - agg.first_at) / DAY
    given, received = d["given_mass"], d["received_mass"]
    # Mutual exchange counts four times a one-sided favour of the same value.
    favours = _saturate(
        2.0 * min(given, received) + 0.5 * max(given, received), settings.favour_saturation
    )
    me, them, mutual = d["initiated_me"], d["initiated_them"], d["initiated_mutual"]
    initiative = _saturate(
        2.0 * min(me, them) + 2.0 * mutual + 0.5 * max(me, them), settings.initiative_saturation
    )
    return {
        "frequency": min(1.0, _saturate(d["frequency_mass"], settings.frequency_saturation)),
        "recency": min(1.0, 2.0 ** (-silence_days / settings.recency_half_life_days)),
        "emotional": min(1.0, _saturate(d["closeness_mass"], settings.emotional_saturation)),
        "reciprocity": min(1.0, 0.5 * favours + 0.5 * initiative),
        "duration": min(1.0, math.log1p(tenure_days) / math.log1p(settings.duration_full_days)),
    }


def score(parts: dict[str, float], settings: ModelSettings) -> float:
    """Weighted sum of the components, 0-100.

    Never NaN or infinite, which only a bug could make: stored, SQLite would keep NULL and
    PostgreSQL rank it above every number; answered, orjson would write null.
    """
    total = sum(max(w, 0.0) for w in settings.weights.values()) or 1.0
    value = (
        100.0 * sum(max(settings.weights.get(c, 0.0), 0.0) * parts[c] for c in COMPONENTS) / total
    )
    if not math.isfinite(value):
        raise ValueError(f"score is not finite: {value!r} from {parts}")
    return value


def cadence_days(agg: Aggregate) -> float | None:
    """The usual gap between interactions, or None before there are two."""
    if agg.count < 2 or agg.first_at is None or agg.last_at is None:
        return None
    return (agg.last_at - agg.first_at) / DAY / (agg.count - 1)


def band(value: float, agg: Aggregate, at: datetime, settings: ModelSettings) -> str:
    """strong / medium / weak / dormant; a silence far past the personal cadence is dormant."""
    if agg.count <= 0 or agg.last_at is None:
        return "dormant"
    silence = (at.timestamp() - agg.last_at) / DAY
    gap = cadence_days(agg)
    usual = gap if gap else settings.dormant_min_days
    if silence > max(settings.dormant_cadence_multiple * usual, settings.dormant_min_days):
        return "dormant"
    for name in ("strong", "medium", "weak"):
        if value >= settings.bands[name]:
            return name
    return "dormant"


def layer(rank: int) -> int:
    """Dunbar layer of a contact ranked `rank` (1 = strongest) among the user's contacts."""
    for size in LAYERS:
        if rank <= size:
            return size
    return LAYERS[-1]


def reciprocity_ledger(agg: Aggregate) -> dict[str, int]:
    """Favours given and received; a positive balance means they owe you."""
    return {
        "given": agg.given_count,
        "received": agg.received_count,
        "given_value": agg.given_value,
        "received_value": agg.received_value,
        "balance": agg.given_value - agg.received_value,
    }


def rebuild(events: list[Event], settings: ModelSettings) -> Aggregate:
    """The aggregate of a whole ledger, from scratch.

    Exactly the arithmetic of `Aggregate.apply` on each event in time order, so the very same
    floats, unrolled into one loop over local variables: a million interactions take seconds.
    `events` may be any objects with the fields of `Event` (database rows, say).
    """
    half = settings.half_lives()
    h_freq, h_emo, h_rec = half["frequency"], half["emotional"], half["reciprocity"]
    kind_weights, kind_closeness = settings.kind_weights, settings.kind_closeness
    as_of = 0.0
    freq = close = given = received = me = them = mutual = 0.0
    count = given_count = received_count = given_value = received_value = 0
    first_at = last_at = None
    for event in sorted(events, key=lambda e: e.occurred_at):
        t = event.occurred_at.timestamp()
        if t > as_of:  # Aggregate._move_to
            d_freq = 2.0 ** (-(t - as_of) / h_freq)
            d_emo = 2.0 ** (-(t - as_of) / h_emo)
            d_rec = 2.0 ** (-(t - as_of) / h_rec)
            freq, me, them, mutual = freq * d_freq, me * d_freq, them * d_freq, mutual * d_freq
            close = close * d_emo
            given, received = given * d_rec, received * d_rec
            as_of = t
        if t == as_of:
            d_freq = d_emo = d_rec = 1.0
        else:  # an instant at or before the epoch: as in Aggregate.apply
            d_freq = 2.0 ** (-(as_of - t) / h_freq)
            d_emo = 2.0 ** (-(as_of - t) / h_emo)
            d_rec = 2.0 ** (-(as_of - t) / h_rec)
        # _contribution, added where non-zero and clamped as in Aggregate.apply
        amount = kind_weights.get(event.kind, 1.0)
        if amount:
            freq = freq + amount * d_freq
            freq = freq if freq > 1e-9 else 0.0
        amount = (event.closeness or kind_closeness.get(event.kind, 2)) / 5.0
        if amount:
            close = close + amount * d_emo
            close = close if close > 1e-9 else 0.0
        favour = float(event.favor_value or 0)
        if favour and event.favor_direction == "given":
            given = given + favour * d_rec
            given = given if given > 1e-9 else 0.0
        elif favour and event.favor_direction == "received":
            received = received + favour * d_rec
            received = received if received > 1e-9 else 0.0
        if event.initiated_by == "me":
            me = me + d_freq
            me = me if me > 1e-9 else 0.0
        elif event.initiated_by == "them":
            them = them + d_freq
            them = them if them > 1e-9 else 0.0
        elif event.initiated_by == "mutual":
            mutual = mutual + d_freq
            mutual = mutual if mutual > 1e-9 else 0.0
        count += 1
        if event.favor_direction == "given":
            given_count += 1
            given_value += event.favor_value
        elif event.favor_direction == "received":
            received_count += 1
            received_value += event.favor_value
        first_at = t if first_at is None else min(first_at, t)
        last_at = t if last_at is None else max(last_at, t)
    return Aggregate(
        as_of=as_of,
        frequency_mass=freq,
        closeness_mass=close,
        given_mass=given,
        received_mass=received,
        initiated_me=me,
        initiated_them=them,
        initiated_mutual=mutual,
        count=count,
        given_count=given_count,
        received_count=received_count,
        given_value=given_value,
        received_value=received_value,
        first_at=first_at,
        last_at=last_at,
    )


def score_at(agg: Aggregate, at: datetime, settings: ModelSettings) -> float:
    return score(components(agg, at, settings), settings)


def trend(
    agg: Aggregate,
    recent: list[Event],
    earlier_last: datetime | None,
    at: datetime,
    settings: ModelSettings,
    days: int = TREND_DAYS,
    now: float | None = None,
) -> float:
    """Score now minus the score `days` ago: the aggregate without the events since then.

    `recent` are the events after `at - days` (an indexed range, not the whole history) and
    `earlier_last` the latest event before that instant; `now`, the score at `at` if known.
    """
    then = at - timedelta(days=days)
    now = score_at(agg, at, settings) if now is None else now
    past = replace(agg)
    for event in recent:
        past.apply(event, settings, sign=-1)
    if past.count <= 0 or earlier_last is None:
        return now
    past.last_at = earlier_last.timestamp()
    return now - score_at(past, then, settings)
