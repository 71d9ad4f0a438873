"""Ledger writes and reads: every write updates the contact's aggregates and the changes feed in
the same transaction, so a lookup never has to scan a contact's history."""

from __future__ import annotations

import math
import threading
import uuid
from bisect import bisect_left, bisect_right, insort
from dataclasses import asdict, dataclass, replace
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import groupby
from operator import itemgetter
from types import SimpleNamespace

import orjson
from flask import current_app, g, has_request_context
from flask_smorest import abort
from sqlalchemy import and_, bindparam, delete, func, insert, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.util import identity_key

from . import auth, database, scoring
from .auth import Account
from .models import (
    Change,
    Contact,
    ContactStats,
    Identity,
    Interaction,
    InteractionAlias,
    User,
    db,
    utcnow,
)
from .schemas import SettingsOutSchema

_AGGREGATE_FIELDS = [f.name for f in dataclass_fields(scoring.Aggregate)]
_users = User.__table__
# Whom a ledger call acts for: a request's Account (the snapshot read with its token), or a User
# row (the CLI). Only the columns an Account holds are read.
Owner = Account | User


# ---- per-user model settings and locking ------------------------------------------------------


def _connection():
    """Where the plain statements below run (see database.connection)."""
    return database.connection(db)


def model_settings(user: Owner) -> scoring.ModelSettings:
    """The user's settings over the model's defaults: built once per process for each value
    the settings take (every tie needs them; they rarely change), so never to be mutated."""
    return _settings_from(orjson.dumps(user.settings or {}, option=orjson.OPT_SORT_KEYS))


@lru_cache(maxsize=64)
def _settings_from(overrides: bytes) -> scoring.ModelSettings:
    return scoring.ModelSettings.from_overrides(orjson.loads(overrides))


_REREAD_USER = select(*auth.ACCOUNT_COLUMNS).where(_users.c.id == bindparam("user_id"))
_REREAD_AND_LOCK_USER = _REREAD_USER.with_for_update()
_REREAD_UNLESS_LOCKED = _REREAD_USER.with_for_update(skip_locked=True)
_LOCK_USER = database.DriverStatement(_REREAD_AND_LOCK_USER)


def lock_user(user: Owner) -> Account:
    """Serialise one user's writes, so the changes feed's order is the commit order; returns
    the user as of the lock (the token check read it earlier: settings may have changed), which
    also becomes the request's `g.user`.

    PostgreSQL: a row lock on the user. SQLite: every write transaction already holds the
    database's write lock (BEGIN IMMEDIATE, see database.py).
    """
    sqlite = db.engine.dialect.name == "sqlite"
    reread = _REREAD_USER if sqlite else _REREAD_AND_LOCK_USER
    fresh = auth.account_of(db.session.connection().execute(reread, {"user_id": user.id}).one())
    if has_request_context():
        g.user = fresh  # the request's answer is computed with the settings its write used
    return fresh


def lock_and_reload(user: Account, row: Contact | Interaction) -> Account:
    """Lock the user's ledger, then re-read `row`, which was loaded before the lock: a write
    that committed while this one waited (PostgreSQL, READ COMMITTED) may have edited or
    deleted it, and aggregates adjusted from a stale version would drift from the ledger."""
    user = lock_user(user)
    if db.engine.dialect.name != "sqlite":  # SQLite: the transaction began with the lock
        db.session.refresh(row)
    return user


def record_change(user: Owner, entity: str, entity_id, op: str, data: dict | None) -> None:
    db.session.add(Change(**_change(user, entity, entity_id, op, data)))


def record_rescore(user: Owner) -> None:
    """Every score was recomputed (`rebuild_user`): a feed entry with the settings in force, on
    which browsers drop the ties they cached under the old ones."""
    settings = SettingsOutSchema().dump(asdict(model_settings(user)))  # as GET /settings shows
    record_change(user, "settings", "model", "upsert", settings)


def _change(user: Owner, entity: str, entity_id, op: str, data: dict | None) -> dict:
    """A row of the changes feed, made by the request's device."""
    device = g.get("device")
    return {
        "user_id": user.id,
        "entity": entity,
        "entity_id": str(entity_id),
        "op": op,
        "device_id": device.id if device else None,
        "at": utcnow(),
        "data": data,
    }


# ---- aggregates -------------------------------------------------------------------------------


def event_of(row: Interaction) -> scoring.Event:
    return scoring.Event(
        occurred_at=row.occurred_at,
        kind=row.kind,
        initiated_by=row.initiated_by,
        closeness=row.closeness,
        favor_direction=row.favor_direction,
        favor_value=row.favor_value or 0,
    )


def aggregate_of(stats: ContactStats | None) -> scoring.Aggregate:
    if stats is None:
        return scoring.Aggregate()
    return scoring.Aggregate(**{name: getattr(stats, name) for name in _AGGREGATE_FIELDS})


def _store(stats: ContactStats, agg: scoring.Aggregate, settings: scoring.ModelSettings) -> None:
    for name in _AGGREGATE_FIELDS:
        setattr(stats, name, getattr(agg, name))
    stats.score = scoring.score_at(agg, utcnow(), settings)


def stats_for(contact: Contact) -> ContactStats:
    if contact.stats is None:
        contact.stats = ContactStats(contact_id=contact.id, user_id=contact.user_id)
        db.session.add(contact.stats)
    return contact.stats


def _ledger_bounds(contact_id: int) -> tuple[datetime | None, datetime | None, uuid.UUID | None]:
    """First and last live interaction of a contact: two index lookups, not a scan."""
    live = (Interaction.contact_id == contact_id, Interaction.deleted_at.is_(None))
    first = db.session.scalar(select(func.min(Interaction.occurred_at)).where(*live))
    last_row = db.session.execute(
        select(Interaction.id, Interaction.occurred_at)
        .where(*live)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())  # ties: as in a rebuild
        .limit(1)
    ).first()
    return first, (last_row[1] if last_row else None), (last_row[0] if last_row else None)


def _is_later(row, stats) -> bool:
    """Is `row` the contact's last interaction now? Same-instant ties go to the larger id, the
    order a rebuild and the bounds query use, so the kept and rebuilt numbers agree."""
    if stats.last_at is None or stats.last_interaction_id is None:
        return True
    t = row.occurred_at.timestamp()
    return t > stats.last_at or (t == stats.last_at and row.id > stats.last_interaction_id)


def adjust_stats(
    contact: Contact,
    user: Owner,
    removed: scoring.Event | None = None,
    added: Interaction | None = None,
) -> None:
    """Take one version of an interaction out of its contact's aggregates and/or put one in."""
    settings = model_settings(user)
    stats = stats_for(contact)
    agg = aggregate_of(stats)
    if removed is not None:
        agg.apply(removed, settings, -1)
    if added is not None:
        agg.apply(event_of(added), settings, +1)
    if removed is not None:
        # The removed version may have held the first or last instant: ask the index.
        db.session.flush()
        first, last, last_id = _ledger_bounds(contact.id)
        agg.set_bounds(first, last)
        stats.last_interaction_id = last_id
    elif _is_later(added, stats):
        stats.last_interaction_id = added.id
    _store(stats, agg, settings)


def rebuild_user(user: Owner) -> int:
    """Recompute every contact's aggregates of one user from the ledger; returns the count.
    The changes feed says so (`record_rescore`): ties browsers cached before are out of date.

    One pass over the live ledger in (contact, time) order, read as plain rows, and one bulk
    write of the aggregates: a million interactions take seconds, where loading each contact's
    interactions as objects took minutes.
    """
    settings = model_settings(user)
    now = utcnow()
    contact_ids = db.session.scalars(
        select(Contact.id).where(Contact.user_id == user.id, Contact.deleted_at.is_(None))
    ).all()
    live = (Interaction.user_id == user.id, Interaction.deleted_at.is_(None))
    rows = db.session.connection().execute(  # Core rows: no ORM bookkeeping per row
        select(*_EVENT_COLUMNS)
        .where(*live)
        .order_by(Interaction.contact_id, Interaction.occurred_at)
        .execution_options(yield_per=10_000)
    )
    aggregates = {
        contact_id: scoring.rebuild([scoring.Event(*row[1:]) for row in group], settings)
        for contact_id, group in groupby(rows, key=itemgetter(0))
    }
    stats = []
    for contact_id in contact_ids:
        agg = aggregates.get(contact_id) or scoring.Aggregate()
        stats.append(
            {
                "contact_id": contact_id,
                "user_id": user.id,
                **{name: getattr(agg, name) for name in _AGGREGATE_FIELDS},
                "last_interaction_id": None,
                "score": scoring.score_at(agg, now, settings),
            }
        )
    last_ids = _last_interaction_ids(live)
    for row in stats:
        row["last_interaction_id"] = last_ids.get(row["contact_id"])
    db.session.execute(delete(ContactStats).where(ContactStats.user_id == user.id))
    if stats:
        db.session.execute(insert(ContactStats), stats)
    db.session.execute(update(_users).where(_users.c.id == user.id).values(scores_refreshed_at=now))
    record_rescore(user)
    db.session.expire_all()  # objects already loaded see their new aggregates and stamp
    return len(contact_ids)


# The contact, then the fields of scoring.Event in its order.
_EVENT_COLUMNS = (
    Interaction.contact_id,
    Interaction.occurred_at,
    Interaction.kind,
    Interaction.initiated_by,
    Interaction.closeness,
    Interaction.favor_direction,
    Interaction.favor_value,
)


def _last_interaction_ids(live) -> dict[int, uuid.UUID]:
    """Each contact's latest live interaction (ties broken by the larger id, as everywhere)."""
    latest = (
        select(Interaction.contact_id, func.max(Interaction.occurred_at).label("at"))
        .where(*live)
        .group_by(Interaction.contact_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Interaction.contact_id, Interaction.id)
        .join(
            latest,
            (Interaction.contact_id == latest.c.contact_id)
            & (Interaction.occurred_at == latest.c.at),
        )
        .where(*live)
    )
    last_ids: dict[int, uuid.UUID] = {}
    for contact_id, interaction_id in rows:
        held = last_ids.get(contact_id)
        if held is None or str(interaction_id) > str(held):
            last_ids[contact_id] = interaction_id
    return last_ids


def refresh_scores_if_stale(user: Owner) -> None:
    """Ranking uses stored scores, which decay with time; refresh them when they are old.

    Runs in its own transaction and gives way under contention: it is an optimisation only.
    """
    if not _scores_stale(user.scores_refreshed_at):
        return
    now = utcnow()
    try:
        with db.engine.begin() as conn, database.giving_way(conn):
            # Lock order as in every write (the user's row, then the aggregates), else this and
            # a writer can deadlock on PostgreSQL; a user row held by a writer means give way.
            # The settings are read again here: new ones may have rescored everything since the
            # token check read them. (SQLite: a write since this read makes the update fail.)
            sqlite = conn.dialect.name == "sqlite"
            mine = _REREAD_USER if sqlite else _REREAD_UNLESS_LOCKED
            current = conn.execute(mine, {"user_id": user.id}).first()
            if current is None:
                return
            user = auth.account_of(current)
            if not _scores_stale(user.scores_refreshed_at):
                return  # another request refreshed them meanwhile
            settings = model_settings(user)
            rows = conn.execute(select(ContactStats).where(ContactStats.user_id == user.id)).all()
            scores = [
                {
                    "cid": row.contact_id,
                    "score": scoring.score_at(
                        scoring.Aggregate(**{n: getattr(row, n) for n in _AGGREGATE_FIELDS}),
                        now,
                        settings,
                    ),
                }
                for row in rows
            ]
            if scores:
                conn.execute(
                    update(ContactStats)
                    .where(ContactStats.contact_id == bindparam("cid"))
                    .values(score=bindparam("score")),
                    scores,
                )
            conn.execute(update(User).where(User.id == user.id).values(scores_refreshed_at=now))
    except OperationalError:  # another writer holds the database: the next list will retry
        current_app.logger.info("score refresh deferred: database busy")


def read_in_one_snapshot(user: Owner) -> Account:
    """Begin a read's transaction as one snapshot and return the user as of it, which also
    becomes `g.user`: the settings an answer computes its ties under are then those that made
    the scores it reads. (The token check read the user earlier; a PATCH /settings may have
    rescored everything since, and a refresh that gave way did not read it again.)

    PostgreSQL: REPEATABLE READ, since READ COMMITTED gives each statement a snapshot of its
    own, and a rescore committed between two of them would mix into the answer. SQLite: a read
    transaction is one snapshot from its first read (WAL).
    """
    sqlite = db.engine.dialect.name == "sqlite"
    options = {} if sqlite else {"isolation_level": "REPEATABLE READ"}
    conn = db.session.connection(execution_options=options)
    fresh = auth.account_of(conn.execute(_REREAD_USER, {"user_id": user.id}).one())
    if has_request_context():
        g.user = fresh
    return fresh


def _scores_stale(stamp: datetime | None) -> bool:
    hours = current_app.config["STRONGTIES_SCORE_REFRESH_HOURS"]
    return stamp is None or utcnow() - stamp >= timedelta(hours=hours)


# ---- reads ------------------------------------------------------------------------------------


# The reads of every tie, built once: SQLAlchemy then reuses their compiled form, and plain
# table columns skip the ORM's per-query work (a lookup is a few of these, not a dozen objects).
_contacts, _stats = Contact.__table__, ContactStats.__table__
_identities, _interactions = Identity.__table__, Interaction.__table__
_changes = Change.__table__
_RANK = database.DriverStatement(  # a log's rank when the worker's ordered copy is behind
    select(func.count().label("above"))
    .select_from(_stats)
    .where(
        _stats.c.user_id == bindparam("user_id"),
        _stats.c.score > bindparam("score"),
        _stats.c.contact_id != bindparam("contact_id"),
    )
)
_LAST_COLUMNS = (_interactions.c.id, _interactions.c.kind, _interactions.c.occurred_at)
_LAST = select(*_LAST_COLUMNS, _interactions.c.note).where(_interactions.c.id == bindparam("id"))
_LASTS = select(*_LAST_COLUMNS, _interactions.c.note).where(
    _interactions.c.id.in_(bindparam("ids", expanding=True))
)
_LIVE = (
    _interactions.c.contact_id == bindparam("contact_id"),
    _interactions.c.deleted_at.is_(None),
)
# The trend's window in one statement: the last live event at or before `since`, joined to
# every live event after it (a single row of NULL events when there is none).
_earlier = (
    select(func.max(_interactions.c.occurred_at).label("earlier_last"))
    .where(*_LIVE, _interactions.c.occurred_at <= bindparam("since"))
    .subquery("earlier")
)
_recent = _interactions.alias("recent")
_WINDOW = database.DriverStatement(
    select(_earlier.c.earlier_last, *(_recent.c[c.key] for c in _EVENT_COLUMNS[1:])).select_from(
        _earlier.outerjoin(
            _recent,
            and_(
                _recent.c.contact_id == bindparam("contact_id"),
                _recent.c.deleted_at.is_(None),
                _recent.c.occurred_at > bindparam("since"),
            ),
        )
    )
)
# A contact as the API shows it, in one statement: a row per identity it holds, with its
# aggregates, its last interaction, its owner's settings and the version of the ledger (its
# newest change and the owner's last score refresh: for the rank, below).
_held = _identities.alias("held")


def _contact_view(source, *where):
    return (
        select(
            _contacts.c.id,
            _contacts.c.name,
            _contacts.c.notes,
            _contacts.c.created_at,
            _contacts.c.updated_at,
            _stats.c.contact_id.label("stats_contact_id"),
            *(_stats.c[name] for name in _AGGREGATE_FIELDS),
            _stats.c.score,
            _stats.c.last_interaction_id,
            _interactions.c.kind.label("last_kind"),
            _interactions.c.occurred_at.label("last_occurred_at"),
            _interactions.c.note.label("last_note"),
            _held.c.kind.label("held_kind"),
            _held.c.value.label("held_value"),
            _users.c.settings.label("owner_settings"),
            _users.c.scores_refreshed_at.label("owner_refreshed_at"),
            select(func.max(_changes.c.seq))
            .where(_changes.c.user_id == _contacts.c.user_id)
            .scalar_subquery()
            .label("ledger_version"),
        )
        .select_from(
            source.join(_users, _users.c.id == _contacts.c.user_id)
            .outerjoin(_held, _held.c.contact_id == _contacts.c.id)
            .outerjoin(_stats, _stats.c.contact_id == _contacts.c.id)
            .outerjoin(_interactions, _interactions.c.id == _stats.c.last_interaction_id)
        )
        .where(*where)
    )


# What the overlay asks for on every page: the contact holding an identity.
_LOOKUP = _contact_view(
    _identities.join(_contacts, _contacts.c.id == _identities.c.contact_id),
    _identities.c.user_id == bindparam("user_id"),
    _identities.c.kind == bindparam("kind"),
    _identities.c.value == bindparam("value"),
)
_CONTACT_BY_ID = _contact_view(
    _contacts,
    _contacts.c.id == bindparam("contact_id"),
    _contacts.c.user_id == bindparam("user_id"),
    _contacts.c.deleted_at.is_(None),
)
# Run on the driver: SQLAlchemy's execution would cost more than the statements (database.py).
_LOOKUP_ON_DRIVER = database.DriverStatement(_LOOKUP)
_CONTACT_BY_ID_ON_DRIVER = database.DriverStatement(_CONTACT_BY_ID)


def rank_of(user_id: int, value: float, contact_id: int | None = None) -> int:
    """1 + the number of the user's other contacts whose stored score is above `value`."""
    params = {
        "user_id": user_id,
        "score": value,
        "contact_id": -1 if contact_id is None else contact_id,
    }
    return (_RANK.first(_connection(), params).above or 0) + 1


def last_interactions(stats: list) -> dict:
    """The last interactions of several contacts (their ContactStats) in one query, by id: for
    `tie_of(..., last_interactions=...)` over a list."""
    ids = [s.last_interaction_id for s in stats if s is not None and s.last_interaction_id]
    if not ids:
        return {}
    rows = _connection().execute(_LASTS, {"ids": ids})
    return {row.id: row for row in rows}


# Each process keeps, per user, the stored scores in order, as of a version of the ledger (its
# newest change): a rank is then a binary search, not a count over every contact. Every write
# that changes a stored score adds a contact entry to the changes feed, so a copy that is behind
# catches up by re-reading the scores of the contacts changed since; a rebuild or refresh (which
# stamps the user) changes them all, and the copy is read again.
_SCORES = select(_stats.c.contact_id, _stats.c.score).where(
    _stats.c.user_id == bindparam("user_id")
)
_SCORES_OF = select(_stats.c.contact_id, _stats.c.score).where(
    _stats.c.contact_id.in_(bindparam("ids", expanding=True))
)
_CHANGED_CONTACTS = (
    select(_changes.c.entity_id)
    .where(
        _changes.c.user_id == bindparam("user_id"),
        _changes.c.entity == "contact",
        _changes.c.seq > bindparam("after"),
        _changes.c.seq <= bindparam("upto"),
    )
    .distinct()
)
_CATCH_UP_AT_MOST = 500  # contacts changed since the copy: beyond, it is read again


@dataclass
class _ScoreOrder:
    """One user's stored scores: each contact's, and all of them in order."""

    version: int | None  # the newest change it reflects
    refreshed: datetime | None  # the user's scores_refreshed_at it was read under
    by_contact: dict[int, float]
    ordered: list[float]

    def above(self, score: float, contact_id: int | None = None) -> int:
        """How many contacts (other than `contact_id`) have a stored score above `score`."""
        count = len(self.ordered) - bisect_right(self.ordered, score)
        own = self.by_contact.get(contact_id)
        return count - 1 if own is not None and own > score else count

    def move(self, contact_id: int, score: float | None) -> None:
        """The contact's stored score is now `score` (None: it has none)."""
        old = self.by_contact.pop(contact_id, None)
        if old is not None:
            del self.ordered[bisect_left(self.ordered, old)]
        if score is not None:
            self.by_contact[contact_id] = score
            insort(self.ordered, score)


_orders: dict[tuple, _ScoreOrder] = {}
_orders_lock = threading.Lock()  # threads of one process share the copies


def _order_key(user: Owner) -> tuple:
    # The engine (hashed by identity), not its URL, whose hash costs a lookup more than the
    # binary search: an app's copies are its engine's; another engine on the same database
    # keeps its own, caught up from the same feed.
    return (db.engine, user.id, user.created_at)


def _score_order(conn, user: Owner, version: int | None, refreshed: datetime | None) -> _ScoreOrder:
    """The user's stored scores as of `version` (or later) and of the refresh stamped
    `refreshed`, both read with the scores the caller ranks (the request's own copy of the user
    may predate a refresh it made); read on `conn`, with `_orders_lock` held."""
    key = _order_key(user)
    held = _orders.get(key)
    if held is not None and held.refreshed == refreshed:
        if version is None or (held.version is not None and version <= held.version):
            return held  # current (or newer than the caller's view: just as right)
        if held.version is not None:
            params = {"user_id": user.id, "after": held.version, "upto": version}
            changed = [int(i) for i in conn.execute(_CHANGED_CONTACTS, params).scalars()]
            if len(changed) <= _CATCH_UP_AT_MOST:
                scores = dict(conn.execute(_SCORES_OF, {"ids": changed}).all()) if changed else {}
                for contact_id in changed:
                    held.move(contact_id, scores.get(contact_id))
                held.version = version
                return held
    by_contact = dict(conn.execute(_SCORES, {"user_id": user.id}).all())
    if len(_orders) >= 64:  # a shared server's many users: start afresh
        _orders.clear()
    held = _orders[key] = _ScoreOrder(version, refreshed, by_contact, sorted(by_contact.values()))
    return held


def _order_if_current(user: Owner, version: int | None, refreshed: datetime | None):
    """For a writer, before its own statements: the copy if it is exactly as of `version` (a
    lookup of the person just brought it there, as when a log follows the overlay), else None
    (the writer counts: catching up costs a writer more statements than counting does)."""
    with _orders_lock:
        held = _orders.get(_order_key(user))
    if held is not None and (held.version, held.refreshed) == (version, refreshed):
        return held
    return None


def _rank_of_stored(user: Owner, score: float, version: tuple) -> int:
    """rank_of(user.id, score) from the ordered copy as of `version`: the ledger's newest
    change and the user's scores_refreshed_at."""
    with _orders_lock:
        return _score_order(_connection(), user, *version).above(score) + 1


_LEDGER_VERSION = select(
    func.max(_changes.c.seq),
    select(_users.c.scores_refreshed_at)
    .where(_users.c.id == bindparam("user_id"))
    .scalar_subquery(),
).where(_changes.c.user_id == bindparam("user_id"))


def stored_ranks(user: Owner):
    """score -> rank for every row of a read-only list, the same rank a lookup gives."""
    version = tuple(_connection().execute(_LEDGER_VERSION, {"user_id": user.id}).one())
    return lambda score: _rank_of_stored(user, score, version)


def _flush_pending() -> None:
    """The tie's reads are plain statements, which do not autoflush as ORM queries do."""
    session = db.session
    if session.new or session.dirty or session.deleted:
        session.flush()


def _last_interaction(interaction_id):
    """kind, occurred_at, note and id of one interaction, from the session if it holds it."""
    key = identity_key(Interaction, interaction_id)
    if key in db.session.identity_map:
        return db.session.identity_map[key]
    return _connection().execute(_LAST, {"id": interaction_id}).first()


def tie_of(
    contact: Contact,
    user: Owner,
    *,
    rank: int | None = None,
    with_trend: bool = True,
    last_interactions: dict | None = None,
) -> dict:
    """The tie summary of one contact, from its aggregates.

    `rank` may be given by a caller that already knows it (a list sorted by score); the trend
    costs two index lookups, which lists and feed snapshots skip (it is then null). A list may
    pass the last interactions of its contacts, read in one query, by id.
    """
    _flush_pending()
    stats = contact.stats
    last = _UNREAD
    if stats is not None and last_interactions is not None:
        last = last_interactions.get(stats.last_interaction_id, _UNREAD)
    return _tie(contact.id, stats, user, rank=rank, with_trend=with_trend, last=last)


_UNREAD = object()


def _tie(
    contact_id: int, stats, user: Owner, *, rank=None, with_trend=True, last=_UNREAD, recent=None
) -> dict:
    """The tie from a contact's aggregates (a ContactStats or a row with its columns, or None)
    and its last interaction (anything with id, kind, occurred_at and note; read if not given).
    `recent`: the trend's window as `_trend` would read it, when the caller knows it."""
    at = utcnow()
    settings = model_settings(user)
    agg = aggregate_of(stats)
    parts = scoring.components(agg, at, settings)
    value = scoring.score(parts, settings)
    # Ranked like the contact list: by stored scores, never counting the contact against itself.
    rank = rank or rank_of(user.id, stats.score if stats is not None else value, contact_id)
    if last is _UNREAD:
        last = None
        if stats is not None and stats.last_interaction_id is not None:
            last = _last_interaction(stats.last_interaction_id)
    if last is not None:
        last = {
            "id": last.id,
            "kind": last.kind,
            "occurred_at": last.occurred_at,
            "days_ago": max(0, (at - last.occurred_at).days),
            "note": last.note,
        }
    cadence = scoring.cadence_days(agg)
    return {
        "score": _number(value, 1),
        "band": scoring.band(value, agg, at, settings),
        "layer": scoring.layer(rank),
        "rank": rank,
        "components": {k: _number(v, 4) for k, v in parts.items()},
        "last_interaction": last,
        "reciprocity": scoring.reciprocity_ledger(agg),
        "interaction_count": agg.count,
        "first_interaction_at": datetime.fromtimestamp(agg.first_at, at.tzinfo)
        if agg.first_at is not None  # 0.0 is 1970-01-01T00:00Z, an instant like any other
        else None,
        "cadence_days": _number(cadence, 1) if cadence is not None else None,
        "trend_30d": _number(_trend(contact_id, agg, at, settings, recent, value), 1)
        if with_trend
        else None,
        "computed_at": at,
    }


def _number(value: float, digits: int) -> float:
    """A number of a tie, rounded. orjson writes NaN and ±Infinity as null (where json.dumps
    raised), so one is refused here, loudly: it can only be a bug, since validated input cannot
    make one (tests/hardening)."""
    if not math.isfinite(value):
        raise ValueError(f"a tie's number is not finite: {value!r}")
    return round(value, digits) + 0.0  # -0.0 (a sliver of a loss, rounded) reads as 0.0


def _trend(contact_id: int, agg, at: datetime, settings, recent=None, now=None) -> float:
    """`recent`, if given: (the events of the last 30 days, the last event before them);
    `now`: the score at `at`."""
    if agg.count <= 0:
        return 0.0
    since = at - timedelta(days=scoring.TREND_DAYS)
    if recent is not None:
        events, earlier_last = recent
    elif agg.last_at is not None and agg.last_at <= since.timestamp():
        # Nothing in the last 30 days (most ties): the aggregates answer without a query.
        events, earlier_last = [], datetime.fromtimestamp(agg.last_at, at.tzinfo)
    else:
        params = {"contact_id": contact_id, "since": since}
        rows = _WINDOW.all(_connection(), params)
        events = [scoring.Event(*row[1:]) for row in rows if row.occurred_at is not None]
        earlier_last = rows[0].earlier_last
    return scoring.trend(agg, events, earlier_last, at, settings, now=now)


@dataclass(frozen=True)
class _LastInteraction:
    id: uuid.UUID
    kind: str
    occurred_at: datetime
    note: str


def lookup(user: Account, kind: str, value: str) -> tuple[dict | None, int | None]:
    """`contact_dict` of the contact holding an identity (None if nobody does), and the seq of
    the newest change in the feed it reflects: what the overlay asks for on every page, in one
    statement (two for a tie active in the last 30 days) instead of a dozen ORM queries."""
    params = {"user_id": user.id, "kind": kind, "value": value}
    rows = _LOOKUP_ON_DRIVER.all(_connection(), params)
    if not rows:
        return None, None
    row = rows[0]
    # Scored with the settings read with that seq (the token check read them earlier), so a
    # browser can tell whether a `settings` change in the feed came after this tie.
    user = replace(user, settings=row.owner_settings, scores_refreshed_at=row.owner_refreshed_at)
    stats = row if row.stats_contact_id is not None else None
    version = (row.ledger_version, row.owner_refreshed_at)
    rank = _rank_of_stored(user, row.score, version) if stats else None
    tie = _tie(row.id, stats, user, rank=rank, last=_last_of(row))
    return _contact_of(rows, tie), row.ledger_version


def _contact_of(rows, tie: dict, **changed) -> dict:
    """`contact_dict`'s shape from a contact view's rows (one per identity the contact holds)."""
    held = {(r.held_kind, r.held_value) for r in rows if r.held_kind is not None}
    return {**_contact_shape(rows[0], held, tie), **changed}


def _contact_shape(contact, identities: set[tuple[str, str]], tie: dict) -> dict:
    """A contact as the API answers it, from anything with its columns (a Contact, a row)."""
    return {
        "id": contact.id,
        "name": contact.name,
        "identities": [{"kind": k, "value": v} for k, v in sorted(identities)],
        "notes": contact.notes,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
        "tie": tie,
    }


def _last_of(row) -> _LastInteraction | None:
    """The last interaction a contact view's row carries."""
    if row.stats_contact_id is None or row.last_occurred_at is None:
        return None
    return _LastInteraction(
        row.last_interaction_id, row.last_kind, row.last_occurred_at, row.last_note
    )


def contact_dict(contact: Contact, user: Owner, **tie_options) -> dict:
    held = {(i.kind, i.value) for i in contact.identities}
    return _contact_shape(contact, held, tie_of(contact, user, **tie_options))


def interaction_dict(row: Interaction) -> dict:
    return {
        "id": row.id,
        "contact_id": row.contact_id,
        "kind": row.kind,
        "occurred_at": row.occurred_at,
        "initiated_by": row.initiated_by,
        "closeness": row.closeness,
        "favor": {"direction": row.favor_direction, "value": row.favor_value}
        if row.favor_direction
        else None,
        "note": row.note,
        "external_ref": row.external_ref,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "deleted_at": row.deleted_at,
    }


def interaction_page(contact: Contact, limit: int, before: uuid.UUID | None = None) -> dict:
    """`limit` of a contact's live interactions, newest first (same instant: larger id first),
    after the interaction `before` (the `next` of the previous page), and the next `before`."""
    live = (Interaction.contact_id == contact.id, Interaction.deleted_at.is_(None))
    query = select(Interaction).where(*live)
    if before is not None:
        mark = db.session.scalar(
            select(Interaction.occurred_at).where(
                Interaction.id == before, Interaction.contact_id == contact.id
            )
        )
        if mark is None:
            abort(
                422,
                message="Invalid input: before",
                errors={"query": {"before": ["Not an interaction of this contact."]}},
            )
        position = tuple_(Interaction.occurred_at, Interaction.id)
        query = query.where(position < tuple_(mark, before))
    order = (Interaction.occurred_at.desc(), Interaction.id.desc())
    rows = db.session.scalars(query.order_by(*order).limit(limit + 1)).all()
    page = rows[:limit]
    return {
        "interactions": [interaction_dict(row) for row in page],
        "next": page[-1].id if len(rows) > limit else None,
    }


def get_contact(user: Owner, contact_id: int, *, follow_merges: bool = False) -> Contact:
    """The user's live contact `contact_id` (else a 404); with `follow_merges`, a contact merged
    into another gives the one it became (a log queued before the merge still lands)."""
    contact = db.session.get(Contact, contact_id)
    if follow_merges:
        contact = _merged_into(contact)
    if contact is None or contact.user_id != user.id or contact.deleted_at is not None:
        abort(404, message=f"No contact {contact_id}.")
    return contact


def _merged_into(contact: Contact | None) -> Contact | None:
    """The contact `contact` became through merges (itself if it was never merged)."""
    for _ in range(100):  # each merge points further on; a chain ends at a live contact
        if contact is None or contact.merged_into_id is None:
            break
        contact = db.session.get(Contact, contact.merged_into_id)
    return contact


def contact_of_stored(user: Owner, row: Interaction) -> Contact:
    """The live contact a stored interaction is answered with (a replay of its PUT, a repeated
    DELETE): its own, or the one it was merged into. A deleted contact took its interactions
    with it: 410, never an answer showing it as if it were still there (a browser would cache
    it again)."""
    contact = _merged_into(db.session.get(Contact, row.contact_id))
    if contact is None or contact.user_id != user.id or contact.deleted_at is not None:
        abort(
            410,
            message=f"Interaction {row.id} was logged, but its contact {row.contact_id} has "
            "since been deleted with its interactions; it stays deleted.",
        )
    return contact


def find_by_identity(user: Owner, kind: str, value: str) -> Contact | None:
    return db.session.scalar(
        select(Contact)
        .join(Identity, Identity.contact_id == Contact.id)
        .where(Identity.user_id == user.id, Identity.kind == kind, Identity.value == value)
    )


def get_interaction(user: Owner, interaction_id: uuid.UUID) -> Interaction:
    row = db.session.get(Interaction, interaction_id)
    if row is None or row.user_id != user.id:
        abort(404, message=f"No interaction {interaction_id}.")
    return row


# ---- contact writes ---------------------------------------------------------------------------


def _check_identities_free(user: Owner, identities: list[dict], contact: Contact | None) -> None:
    for ident in identities:
        holder = find_by_identity(user, ident["kind"], ident["value"])
        if holder is not None and (contact is None or holder.id != contact.id):
            abort(
                409,
                message=f"{ident['kind']} {ident['value']} already belongs to contact {holder.id}.",
                errors={"json": {"identities": [f"held by contact {holder.id}"]}},
            )


def _unique(identities: list[dict]) -> list[dict]:
    return list({(i["kind"], i["value"]): i for i in identities}.values())


def _record_contact(user: Owner, contact: Contact) -> None:
    db.session.flush()
    snapshot = contact_dict(contact, user, with_trend=False)
    record_change(user, "contact", contact.id, "upsert", _jsonable(snapshot))


def create_contact(user: Owner, data: dict) -> Contact:
    user = lock_user(user)
    contact = _new_contact(user, data)
    _record_contact(user, contact)
    return contact


def _new_contact(user: Owner, data: dict) -> Contact:
    """Insert a contact and its identities (the caller holds the user lock and records it)."""
    identities = _unique(data.get("identities", []))
    _check_identities_free(user, identities, None)
    contact = Contact(user_id=user.id, name=data["name"], notes=data.get("notes", ""))
    db.session.add(contact)
    db.session.flush()
    stats_for(contact)
    _add_identities(user, contact, identities)
    return contact


def _add_identities(user: Owner, contact: Contact, identities: list[dict]) -> None:
    """Attach identities the contact does not hold yet (checked free by the caller)."""
    have = {(i.kind, i.value) for i in contact.identities}
    for ident in identities:
        if (ident["kind"], ident["value"]) not in have:
            row = Identity(user_id=user.id, contact_id=contact.id, **ident)
            contact.identities.append(row)
            _record_identity(user, row, "upsert")


def _record_identity(user: Owner, ident: Identity, op: str) -> None:
    data = {"kind": ident.kind, "value": ident.value, "contact_id": ident.contact_id}
    key = f"{ident.kind}:{ident.value}"
    record_change(user, "identity", key, op, None if op == "delete" else data)


def update_contact(user: Owner, contact: Contact, data: dict) -> Contact:
    user = lock_and_reload(user, contact)
    if contact.deleted_at is not None:
        abort(404, message=f"No contact {contact.id}.")
    changed = False
    for key in ("name", "notes"):
        if key in data and data[key] != getattr(contact, key):
            setattr(contact, key, data[key])
            changed = True
    if "identities" in data:
        wanted = _unique(data["identities"])
        _check_identities_free(user, wanted, contact)
        keep = {(i["kind"], i["value"]) for i in wanted}
        held = {(i.kind, i.value) for i in contact.identities}
        changed = changed or keep != held
        for ident in list(contact.identities):
            if (ident.kind, ident.value) not in keep:
                _record_identity(user, ident, "delete")
                contact.identities.remove(ident)
        _add_identities(user, contact, wanted)
    if changed:  # an edit that changes nothing writes nothing: no feed entry, no new updated_at
        contact.updated_at = utcnow()
        _record_contact(user, contact)
    return contact


def delete_contact(user: Owner, contact: Contact) -> None:
    """Soft-deletes the contact and its interactions; frees its identities for reuse."""
    user = lock_and_reload(user, contact)
    if contact.deleted_at is not None:
        abort(404, message=f"No contact {contact.id}.")
    now = utcnow()
    contact.deleted_at = now
    for ident in list(contact.identities):
        _record_identity(user, ident, "delete")
        contact.identities.remove(ident)
    # One tombstone per interaction, so a browser following the feed drops them too.
    for row in db.session.scalars(
        select(Interaction).where(
            Interaction.contact_id == contact.id, Interaction.deleted_at.is_(None)
        )
    ):
        row.deleted_at = row.updated_at = now
        _record_interaction(user, row, "delete")
    if contact.stats is not None:
        db.session.delete(contact.stats)
    record_change(
        user, "contact", contact.id, "delete", {"id": contact.id, "deleted_at": now.isoformat()}
    )


def add_identities(user: Owner, contact: Contact, identities: list[dict]) -> Contact:
    """Give the contact more identities (the person on screen is one you know by another address);
    one it holds already changes nothing, one another contact holds is a 409."""
    user = lock_and_reload(user, contact)
    if contact.deleted_at is not None:
        abort(404, message=f"No contact {contact.id}.")
    wanted = _unique(identities)
    _check_identities_free(user, wanted, contact)
    held = {(i.kind, i.value) for i in contact.identities}
    if any((i["kind"], i["value"]) not in held for i in wanted):
        _add_identities(user, contact, wanted)
        contact.updated_at = utcnow()
        _record_contact(user, contact)
    return contact


def merge_contacts(user: Owner, into: Contact, other: Contact) -> Contact:
    """`other` is the same person as `into`: its identities and live interactions move to `into`
    (but a message `into` holds already, by external_ref, is deleted instead, what it held folded
    into the kept one; `into` keeps its name; `other`'s notes are appended), `other` is deleted,
    and the tie is rebuilt from the merged history. The feed says so entry by entry, as separate
    edits would."""
    user = lock_and_reload(user, into)
    if db.engine.dialect.name != "sqlite":
        db.session.refresh(other)  # as `into`: a write may have committed while this one waited
    for contact in (into, other):
        if contact.deleted_at is not None:
            abort(404, message=f"No contact {contact.id}.")
    now = utcnow()
    moved = list(other.identities)
    for ident in moved:
        ident.contact = into  # re-parented, not deleted and inserted again
    db.session.flush()
    for ident in moved:
        _record_identity(user, ident, "upsert")
    # A message logged under both is kept once, as a log of it under one contact would have
    # been: the other's copy is deleted, what the user wrote on it kept on `into`'s.
    held = {
        row.external_ref: row
        for row in db.session.scalars(
            select(Interaction).where(
                Interaction.contact_id == into.id,
                Interaction.deleted_at.is_(None),
                Interaction.external_ref.is_not(None),
            )
        )
    }
    for row in db.session.scalars(
        select(Interaction).where(
            Interaction.contact_id == other.id, Interaction.deleted_at.is_(None)
        )
    ):
        kept = held.get(row.external_ref) if row.external_ref else None
        if kept is not None:
            _fold_copy(user, kept, row, now)
            continue
        row.contact_id, row.updated_at = into.id, now
        _record_interaction(user, row, "upsert")
    into.notes = _with_paragraph(into.notes, other.notes)
    other.deleted_at = other.updated_at = now
    other.merged_into_id = into.id
    if other.stats is not None:
        db.session.delete(other.stats)
    gone = {"id": other.id, "deleted_at": now.isoformat(), "merged_into": into.id}
    record_change(user, "contact", other.id, "delete", gone)
    db.session.flush()
    _rebuild_stats(user, into)
    into.updated_at = now
    _record_contact(user, into)
    return into


def _with_paragraph(notes: str, extra: str) -> str:
    """`notes` with `extra` appended as a paragraph, unless it is one already: a note merged
    before is kept once (but a word found in another paragraph is still a note of its own)."""
    if not extra or f"\n\n{extra}\n\n" in f"\n\n{notes}\n\n":
        return notes
    return f"{notes}\n\n{extra}" if notes else extra


def _fold_copy(user: Owner, kept: Interaction, copy: Interaction, now: datetime) -> None:
    """`copy` logs the message `kept` holds: it is deleted, but what it held that `kept` lacks
    (its note, a favour, a closeness) moves to `kept`, and ids that answered it answer `kept`
    (a retry of its PUT, or of an id bound to it, from a browser that was offline)."""
    edits = {"note": _with_paragraph(kept.note, copy.note)}
    if kept.favor_direction is None and copy.favor_direction is not None:
        edits |= {"favor_direction": copy.favor_direction, "favor_value": copy.favor_value}
    if kept.closeness is None:
        edits["closeness"] = copy.closeness
    if any(getattr(kept, k) != v for k, v in edits.items()):
        for key, value in edits.items():
            setattr(kept, key, value)
        kept.updated_at = now
        _record_interaction(user, kept, "upsert")
    db.session.execute(
        update(InteractionAlias)
        .where(InteractionAlias.interaction_id == copy.id)
        .values(interaction_id=kept.id)
    )
    db.session.add(InteractionAlias(id=copy.id, user_id=user.id, interaction_id=kept.id))
    copy.deleted_at = copy.updated_at = now
    _record_interaction(user, copy, "delete")


def _rebuild_stats(user: Owner, contact: Contact) -> None:
    """One contact's aggregates from its live ledger, as `rebuild_user` computes every contact's."""
    settings = model_settings(user)
    rows = db.session.connection().execute(
        select(*_EVENT_COLUMNS).where(
            Interaction.contact_id == contact.id, Interaction.deleted_at.is_(None)
        )
    )
    stats = stats_for(contact)
    _store(stats, scoring.rebuild([scoring.Event(*row[1:]) for row in rows], settings), settings)
    stats.last_interaction_id = _ledger_bounds(contact.id)[2]


# ---- interaction writes -----------------------------------------------------------------------


def _fields_from(data: dict) -> dict:
    out = {}
    for key in ("kind", "occurred_at", "initiated_by", "closeness", "note", "external_ref"):
        if key in data:
            out[key] = data[key]
    if "favor" in data:
        favor = data["favor"]
        out["favor_direction"] = favor["direction"] if favor else None
        out["favor_value"] = favor["value"] if favor else 0
    return out


def _contact_for_new_interaction(user: Owner, data: dict) -> Contact:
    if "contact_id" in data:
        return get_contact(user, data["contact_id"], follow_merges=True)
    inline = data["contact"]
    identities = _unique(inline.get("identities", []))
    if not identities:
        abort(
            422,
            message="Invalid input: contact.identities",
            errors={"json": {"contact": {"identities": ["At least one identity is needed."]}}},
        )
    found = [(i, find_by_identity(user, i["kind"], i["value"])) for i in identities]
    holders = {c.id: c for _, c in found if c is not None}
    if len(holders) > 1:
        abort(409, message="Those identities belong to different contacts.")
    if holders:
        contact = next(iter(holders.values()))
        missing = [i for i, c in found if c is None]
        if missing:  # exact identifiers only: the page showed both for the same person
            _add_identities(user, contact, missing)  # free: looked up under the user lock
            contact.updated_at = utcnow()
        return contact
    # The caller holds the user lock and records the contact once, after the interaction.
    return _new_contact(user, {**inline, "identities": identities})


def _record_interaction(user: Owner, row: Interaction, op: str) -> None:
    record_change(user, "interaction", row.id, op, _jsonable(interaction_dict(row)))


def record_interaction(
    user: Owner,
    device: auth.Caller | None,
    interaction_id: uuid.UUID,
    data: dict,
    *,
    client_id: bool = True,
) -> tuple[Interaction, Contact, bool]:
    """Create an interaction with a client-chosen id; a replay returns the stored one unchanged.
    Returns the interaction, the contact to answer with, and whether it was created.

    An id answered with an interaction logged before (same `external_ref`) stays bound to it
    (`client_id`: the client chose the id, so it may retry it): a retry answers that interaction,
    as it is now, even once deleted, and never logs a second one."""
    user = lock_user(user)
    # An alias first: a copy dropped by a merge keeps its row but answers the interaction kept.
    bound = db.session.get(InteractionAlias, interaction_id)
    if bound is not None and bound.user_id == user.id:
        existing = db.session.get(Interaction, bound.interaction_id)
    elif bound is not None:
        abort(409, message="That interaction id is taken.")
    else:
        existing = db.session.get(Interaction, interaction_id)
    if existing is not None:
        if existing.user_id != user.id:
            abort(409, message="That interaction id is taken.")
        return existing, contact_of_stored(user, existing), False
    contact = _contact_for_new_interaction(user, data)
    # A contact found by an inline identity and given the others it lacked (not flushed yet).
    grown = contact in db.session.dirty
    ref = data.get("external_ref")
    if ref:
        duplicate = _live_log_of(user, contact, ref)
        if duplicate is not None:
            if grown:  # no new interaction, but the contact changed: the feed says so
                _record_contact(user, contact)
            if client_id:
                bound = {"id": interaction_id, "user_id": user.id, "interaction_id": duplicate.id}
                db.session.add(InteractionAlias(**bound))
            return duplicate, contact, False
    row = Interaction(**_new_interaction(user, device, interaction_id, contact.id, data))
    db.session.add(row)
    db.session.flush()
    adjust_stats(contact, user, added=row)
    contact.updated_at = row.created_at
    _record_interaction(user, row, "upsert")
    _record_contact(user, contact)
    return row, contact, True


def _new_interaction(
    user: Owner, device: auth.Caller | None, interaction_id: uuid.UUID, contact_id: int, data: dict
) -> dict:
    """The columns of a new interaction: the request's fields over the defaults."""
    now = utcnow()
    return {
        "id": interaction_id,
        "user_id": user.id,
        "contact_id": contact_id,
        "device_id": device.id if device else None,
        "occurred_at": now,
        "initiated_by": "me",
        "closeness": None,
        "favor_direction": None,
        "favor_value": 0,
        "note": "",
        "external_ref": None,
        "created_at": now,
        "updated_at": now,
        "deleted_at": None,
        **_fields_from(data),
    }


# ---- the one-click log ------------------------------------------------------------------------
# What the extension sends most: a new interaction with someone already in the ledger. It runs
# as a few plain statements while the write lock is held, and its answer is computed once, for
# the changes feed and for the reply alike.
_SAME_REF = database.DriverStatement(
    select(_interactions.c.id)
    .where(
        _interactions.c.user_id == bindparam("user_id"),
        _interactions.c.contact_id == bindparam("contact_id"),
        _interactions.c.external_ref == bindparam("ref"),
        _interactions.c.deleted_at.is_(None),
    )
    .limit(1)
)
_aliases = InteractionAlias.__table__
_BOUND_ID = database.DriverStatement(select(_aliases.c.id).where(_aliases.c.id == bindparam("id")))
_STATS_COLUMNS = [*_AGGREGATE_FIELDS, "score", "last_interaction_id"]
_STORE_STATS = database.DriverStatement(
    update(_stats)
    .where(_stats.c.contact_id == bindparam("contact"))
    .values({name: bindparam(f"new_{name}") for name in _STATS_COLUMNS})
)
_TOUCH_CONTACT = database.DriverStatement(
    update(_contacts)
    .where(_contacts.c.id == bindparam("contact"))
    .values(updated_at=bindparam("at"))
)
_INSERT_CHANGES = database.DriverStatement(
    insert(_changes)
    .values({name: bindparam(name) for name in _changes.c.keys() if name != "seq"})
    .inline()  # no RETURNING of each new seq: nothing reads it
)


def log_interaction(
    user: Account, device: auth.Caller | None, interaction_id: uuid.UUID, data: dict
) -> dict | None:
    """`record_interaction` for its common case, answered as `{interaction, contact, tie}`.

    Returns None, having written nothing, for every other case (a replay, an id taken, a
    contact or identity to create, an external_ref logged before, a contact not found), which
    `record_interaction` then decides as it always does. Commits what it writes, on a
    connection of its own (`database.writing`): the ORM session is not used.
    """
    with database.writing(db) as conn:
        answer = _log_common_case(conn, user, device, interaction_id, data)
        if answer is not None:
            conn.commit()
        return answer


def _log_common_case(
    conn, user: Account, device: auth.Caller | None, interaction_id: uuid.UUID, data: dict
) -> dict | None:
    if conn.dialect.name != "sqlite":  # SQLite: the transaction holds the write lock already
        _LOCK_USER.first(conn, {"user_id": user.id})
    rows = _existing_contact(conn, user, data)
    if not rows or rows[0].stats_contact_id is None:
        return None
    contact = rows[0]
    # The settings as of the lock, read with the contact (the token check read them earlier).
    user = replace(user, settings=contact.owner_settings)
    ref = data.get("external_ref")
    if ref:
        params = {"user_id": user.id, "contact_id": contact.id, "ref": ref}
        if _SAME_REF.first(conn, params) is not None:
            return None
    if _BOUND_ID.first(conn, {"id": interaction_id}) is not None:
        return None  # the id was answered with an earlier interaction: a retry
    # The stored scores just before this write, if this process holds them: its rank, below.
    order = _order_if_current(user, contact.ledger_version, contact.owner_refreshed_at)
    values = _new_interaction(user, device, interaction_id, contact.id, data)
    if _INSERT_NEW[conn.dialect.name].first(conn, values) is None:
        return None  # the id is taken: a replay, or someone else's
    row = SimpleNamespace(**values)

    settings = model_settings(user)
    agg = aggregate_of(contact)
    agg.apply(event_of(row), settings, +1)
    later = _is_later(row, contact)
    stats = SimpleNamespace(
        **{name: getattr(agg, name) for name in _AGGREGATE_FIELDS},
        score=scoring.score_at(agg, row.created_at, settings),
        last_interaction_id=row.id if later else contact.last_interaction_id,
    )
    new = {f"new_{name}": getattr(stats, name) for name in _STATS_COLUMNS}
    _STORE_STATS.execute(conn, {"contact": contact.id, **new})
    _TOUCH_CONTACT.execute(conn, {"contact": contact.id, "at": row.created_at})
    rank = None  # counted by _tie
    if order is not None:
        with _orders_lock:
            rank = order.above(stats.score, contact.id) + 1
    tie = _tie(
        contact.id,
        stats,
        user,
        rank=rank,
        last=row if later else _last_of(contact),
        recent=_window_with(contact, row),
    )
    answer = {
        "interaction": interaction_dict(row),
        "contact": _contact_of(rows, tie, updated_at=row.created_at),
        "tie": tie,
    }
    snapshot = {**answer["contact"], "tie": {**tie, "trend_30d": None}}  # as _record_contact
    changes = [
        _change(user, "interaction", row.id, "upsert", _jsonable(answer["interaction"])),
        _change(user, "contact", contact.id, "upsert", _jsonable(snapshot)),
    ]
    _INSERT_CHANGES.execute_many(conn, changes)
    return answer


# INSERTs of an interaction that insert (and return) nothing if its id is taken, per dialect.
_INSERT_NEW = {
    name: database.DriverStatement(
        dialect_insert(_interactions)
        .on_conflict_do_nothing(index_elements=["id"])
        .returning(_interactions.c.id)
    )
    for name, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}


def _window_with(contact, row):
    """The trend's window (events of the last 30 days, the last before them) once `row` is
    added to a contact quiet for 30 days: known without a query. None otherwise."""
    since = (utcnow() - timedelta(days=scoring.TREND_DAYS)).timestamp()
    if contact.last_at is not None and contact.last_at > since:
        return None  # the contact had other recent events: `_trend` reads them
    before = datetime.fromtimestamp(contact.last_at, UTC) if contact.last_at is not None else None
    if row.occurred_at.timestamp() <= since:
        return None  # a backdated log: the window is empty and the aggregates answer
    return [event_of(row)], before


def _existing_contact(conn, user: Account, data: dict) -> list:
    """The contact view's rows of the contact the new interaction is for, if it exists and
    holds every identity given; else []."""
    if "contact_id" in data:
        params = {"user_id": user.id, "contact_id": data["contact_id"]}
        return _CONTACT_BY_ID_ON_DRIVER.all(conn, params)
    wanted = {(i["kind"], i["value"]) for i in data["contact"].get("identities", [])}
    if not wanted:
        return []
    kind, value = min(wanted)
    rows = _LOOKUP_ON_DRIVER.all(conn, {"user_id": user.id, "kind": kind, "value": value})
    held = {(r.held_kind, r.held_value) for r in rows}
    return rows if wanted <= held else []


def update_interaction(user: Owner, row: Interaction, data: dict) -> Interaction:
    """Last write by server time wins; the version it replaces stays in the changes feed."""
    user = lock_and_reload(user, row)
    if row.deleted_at is not None:
        abort(409, message="That interaction was deleted; a delete wins over an older edit.")
    old_contact = get_contact(user, row.contact_id)
    new_contact = (
        get_contact(user, data["contact_id"], follow_merges=True)
        if "contact_id" in data
        else old_contact
    )
    edits = _fields_from(data)
    if new_contact.id == old_contact.id and all(getattr(row, k) == v for k, v in edits.items()):
        return row  # nothing changes: nothing is written, nothing bumped
    ref = edits.get("external_ref", row.external_ref)
    if ref and (new_contact.id != old_contact.id or ref != row.external_ref):
        _refuse_second_log_of(user, new_contact, ref, row.id)
    before = event_of(row)
    for key, value in edits.items():
        setattr(row, key, value)
    row.contact_id = new_contact.id
    row.updated_at = utcnow()
    if new_contact.id == old_contact.id:
        adjust_stats(old_contact, user, removed=before, added=row)
    else:
        adjust_stats(old_contact, user, removed=before)
        adjust_stats(new_contact, user, added=row)
    _record_interaction(user, row, "upsert")
    _record_contact(user, new_contact)
    if new_contact.id != old_contact.id:
        _record_contact(user, old_contact)
    return row


def _live_log_of(
    user: Owner, contact: Contact, ref: str, besides: uuid.UUID | None = None
) -> Interaction | None:
    """The live interaction of `contact` that logs the message `ref` (other than `besides`)."""
    query = select(Interaction).where(
        Interaction.user_id == user.id,
        Interaction.contact_id == contact.id,
        Interaction.external_ref == ref,
        Interaction.deleted_at.is_(None),
    )
    if besides is not None:
        query = query.where(Interaction.id != besides)
    return db.session.scalars(query.limit(1)).first()


def _refuse_second_log_of(user: Owner, contact: Contact, ref: str, editing: uuid.UUID) -> None:
    """409 if another live interaction of `contact` holds `ref`: one message, one interaction
    per contact, as a log of it keeps (`record_interaction`)."""
    holder = _live_log_of(user, contact, ref, besides=editing)
    if holder is not None:
        abort(
            409,
            message=f"Interaction {holder.id} of contact {contact.id} has that external_ref "
            "already: the same message is logged once per contact.",
        )


def delete_interaction(user: Owner, row: Interaction) -> tuple[Interaction, Contact]:
    """Returns the interaction and the contact to answer with."""
    user = lock_and_reload(user, row)
    if row.deleted_at is not None:
        return row, contact_of_stored(user, row)
    contact = get_contact(user, row.contact_id)
    row.deleted_at = utcnow()
    row.updated_at = row.deleted_at
    adjust_stats(contact, user, removed=event_of(row))
    _record_interaction(user, row, "delete")
    _record_contact(user, contact)
    return row, contact


def _jsonable(value):
    """Plain JSON types for the changes feed's snapshots: the value as it reads once written as
    JSON (dates and ids as the API writes them, as in tests/server/test_answers.py)."""
    return orjson.loads(orjson.dumps(value))
