"""Ledger writes and reads: every write updates the contact's aggregates and the changes feed in
the same transaction, so a lookup never has to scan a contact's history."""

from __future__ import annotations

import uuid
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta

from flask import current_app
from flask_smorest import abort
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.exc import OperationalError

from . import scoring
from .models import Change, Contact, ContactStats, Device, Identity, Interaction, User, db, utcnow

_AGGREGATE_FIELDS = [f.name for f in dataclass_fields(scoring.Aggregate)]


# ---- per-user model settings and locking ------------------------------------------------------


def model_settings(user: User) -> scoring.ModelSettings:
    return scoring.ModelSettings.from_overrides(user.settings)


def lock_user(user: User) -> None:
    """Serialise one user's writes, so the changes feed's order is the commit order.

    PostgreSQL: a row lock on the user. SQLite: every write transaction already holds the
    database's write lock (BEGIN IMMEDIATE, see database.py).
    """
    if db.engine.dialect.name != "sqlite":
        db.session.execute(select(User.id).where(User.id == user.id).with_for_update())


def record_change(user: User, entity: str, entity_id, op: str, data: dict | None) -> None:
    from flask import g

    device = getattr(g, "device", None)
    db.session.add(
        Change(
            user_id=user.id,
            entity=entity,
            entity_id=str(entity_id),
            op=op,
            device_id=device.id if device else None,
            data=data,
        )
    )


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
        .order_by(Interaction.occurred_at.desc())
        .limit(1)
    ).first()
    return first, (last_row[1] if last_row else None), (last_row[0] if last_row else None)


def adjust_stats(
    contact: Contact,
    user: User,
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
    elif stats.last_at is None or added.occurred_at.timestamp() >= stats.last_at:
        stats.last_interaction_id = added.id
    _store(stats, agg, settings)


def rebuild_contact(contact: Contact, settings: scoring.ModelSettings) -> None:
    rows = db.session.scalars(
        select(Interaction).where(
            Interaction.contact_id == contact.id, Interaction.deleted_at.is_(None)
        )
    ).all()
    agg = scoring.rebuild([event_of(r) for r in rows], settings)
    stats = stats_for(contact)
    last = max(rows, key=lambda r: (r.occurred_at, str(r.id)), default=None)
    stats.last_interaction_id = last.id if last else None
    _store(stats, agg, settings)


def rebuild_user(user: User) -> int:
    """Recompute every contact's aggregates of one user from the ledger; returns the count."""
    settings = model_settings(user)
    contacts = db.session.scalars(select(Contact).where(Contact.user_id == user.id)).all()
    for contact in contacts:
        rebuild_contact(contact, settings)
    user.scores_refreshed_at = utcnow()
    return len(contacts)


def refresh_scores_if_stale(user: User) -> None:
    """Ranking uses stored scores, which decay with time; refresh them when they are old.

    Runs in its own transaction and gives way under contention: it is an optimisation only.
    """
    hours = current_app.config["STRONGTIES_SCORE_REFRESH_HOURS"]
    stamp = user.scores_refreshed_at
    if stamp is not None and utcnow() - stamp < timedelta(hours=hours):
        return
    settings = model_settings(user)
    now = utcnow()
    try:
        with db.engine.begin() as conn:
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


# ---- reads ------------------------------------------------------------------------------------


def rank_of(user_id: int, value: float) -> int:
    above = db.session.scalar(
        select(func.count())
        .select_from(ContactStats)
        .where(ContactStats.user_id == user_id, ContactStats.score > value)
    )
    return (above or 0) + 1


def tie_of(
    contact: Contact, user: User, *, rank: int | None = None, with_trend: bool = True
) -> dict:
    """The tie summary of one contact, from its aggregates.

    `rank` may be given by a caller that already knows it (a list sorted by score); the trend
    costs two index lookups, which lists and feed snapshots skip (it is then null).
    """
    at = utcnow()
    settings = model_settings(user)
    stats = contact.stats
    agg = aggregate_of(stats)
    parts = scoring.components(agg, at, settings)
    value = scoring.score(parts, settings)
    rank = rank or rank_of(user.id, value)
    last = None
    if stats is not None and stats.last_interaction_id is not None:
        row = db.session.get(Interaction, stats.last_interaction_id)
        if row is not None:
            last = {
                "id": row.id,
                "kind": row.kind,
                "occurred_at": row.occurred_at,
                "days_ago": max(0, (at - row.occurred_at).days),
                "note": row.note,
            }
    cadence = scoring.cadence_days(agg)
    return {
        "score": round(value, 1),
        "band": scoring.band(value, agg, at, settings),
        "layer": scoring.layer(rank),
        "rank": rank,
        "components": {k: round(v, 4) for k, v in parts.items()},
        "last_interaction": last,
        "reciprocity": scoring.reciprocity_ledger(agg),
        "interaction_count": agg.count,
        "first_interaction_at": datetime.fromtimestamp(agg.first_at, at.tzinfo)
        if agg.first_at
        else None,
        "cadence_days": round(cadence, 1) if cadence is not None else None,
        "trend_30d": round(_trend(contact, agg, at, settings), 1) if with_trend else None,
        "computed_at": at,
    }


def _trend(contact: Contact, agg, at: datetime, settings) -> float:
    if agg.count <= 0:
        return 0.0
    since = at - timedelta(days=30)
    live = (Interaction.contact_id == contact.id, Interaction.deleted_at.is_(None))
    recent = db.session.scalars(select(Interaction).where(*live, Interaction.occurred_at > since))
    earlier_last = db.session.scalar(
        select(func.max(Interaction.occurred_at)).where(*live, Interaction.occurred_at <= since)
    )
    return scoring.trend(agg, [event_of(r) for r in recent], earlier_last, at, settings)


def contact_dict(contact: Contact, user: User, **tie_options) -> dict:
    return {
        "id": contact.id,
        "name": contact.name,
        "identities": [
            {"kind": i.kind, "value": i.value}
            for i in sorted(contact.identities, key=lambda i: (i.kind, i.value))
        ],
        "notes": contact.notes,
        "created_at": contact.created_at,
        "updated_at": contact.updated_at,
        "tie": tie_of(contact, user, **tie_options),
    }


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


def get_contact(user: User, contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.user_id != user.id or contact.deleted_at is not None:
        abort(404, message=f"No contact {contact_id}.")
    return contact


def find_by_identity(user: User, kind: str, value: str) -> Contact | None:
    return db.session.scalar(
        select(Contact)
        .join(Identity, Identity.contact_id == Contact.id)
        .where(Identity.user_id == user.id, Identity.kind == kind, Identity.value == value)
    )


def get_interaction(user: User, interaction_id: uuid.UUID) -> Interaction:
    row = db.session.get(Interaction, interaction_id)
    if row is None or row.user_id != user.id:
        abort(404, message=f"No interaction {interaction_id}.")
    return row


# ---- contact writes ---------------------------------------------------------------------------


def _check_identities_free(user: User, identities: list[dict], contact: Contact | None) -> None:
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


def _record_contact(user: User, contact: Contact) -> None:
    db.session.flush()
    snapshot = contact_dict(contact, user, with_trend=False)
    record_change(user, "contact", contact.id, "upsert", _jsonable(snapshot))


def create_contact(user: User, data: dict) -> Contact:
    lock_user(user)
    identities = _unique(data.get("identities", []))
    _check_identities_free(user, identities, None)
    contact = Contact(user_id=user.id, name=data["name"], notes=data.get("notes", ""))
    contact.identities = [Identity(user_id=user.id, **i) for i in identities]
    db.session.add(contact)
    db.session.flush()
    stats_for(contact)
    for ident in contact.identities:
        record_change(
            user, "identity", f"{ident.kind}:{ident.value}", "upsert", {**ident_dict(ident)}
        )
    _record_contact(user, contact)
    return contact


def ident_dict(ident: Identity) -> dict:
    return {"kind": ident.kind, "value": ident.value, "contact_id": ident.contact_id}


def update_contact(user: User, contact: Contact, data: dict) -> Contact:
    lock_user(user)
    if "name" in data:
        contact.name = data["name"]
    if "notes" in data:
        contact.notes = data["notes"]
    if "identities" in data:
        wanted = _unique(data["identities"])
        _check_identities_free(user, wanted, contact)
        keep = {(i["kind"], i["value"]) for i in wanted}
        for ident in list(contact.identities):
            if (ident.kind, ident.value) not in keep:
                record_change(user, "identity", f"{ident.kind}:{ident.value}", "delete", None)
                contact.identities.remove(ident)
        have = {(i.kind, i.value) for i in contact.identities}
        for ident in wanted:
            if (ident["kind"], ident["value"]) not in have:
                row = Identity(user_id=user.id, contact_id=contact.id, **ident)
                contact.identities.append(row)
                record_change(
                    user, "identity", f"{row.kind}:{row.value}", "upsert", ident_dict(row)
                )
    contact.updated_at = utcnow()
    _record_contact(user, contact)
    return contact


def delete_contact(user: User, contact: Contact) -> None:
    """Soft-deletes the contact and its interactions; frees its identities for reuse."""
    lock_user(user)
    now = utcnow()
    contact.deleted_at = now
    for ident in list(contact.identities):
        record_change(user, "identity", f"{ident.kind}:{ident.value}", "delete", None)
        contact.identities.remove(ident)
    db.session.execute(
        update(Interaction)
        .where(Interaction.contact_id == contact.id, Interaction.deleted_at.is_(None))
        .values(deleted_at=now, updated_at=now)
    )
    if contact.stats is not None:
        db.session.delete(contact.stats)
    record_change(
        user, "contact", contact.id, "delete", {"id": contact.id, "deleted_at": now.isoformat()}
    )


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


def _contact_for_new_interaction(user: User, data: dict) -> Contact:
    if "contact_id" in data:
        return get_contact(user, data["contact_id"])
    inline = data["contact"]
    identities = _unique(inline.get("identities", []))
    if not identities:
        abort(
            422,
            message="Invalid input: contact.identities",
            errors={"json": {"contact": {"identities": ["At least one identity is needed."]}}},
        )
    holders = {c.id: c for i in identities if (c := find_by_identity(user, i["kind"], i["value"]))}
    if len(holders) > 1:
        abort(409, message="Those identities belong to different contacts.")
    if holders:
        contact = next(iter(holders.values()))
        missing = [i for i in identities if not find_by_identity(user, i["kind"], i["value"])]
        if missing:  # exact identifiers only: the page showed both for the same person
            update_contact(user, contact, {"identities": [*_idents(contact), *missing]})
        return contact
    return create_contact(user, {**inline, "identities": identities})


def _idents(contact: Contact) -> list[dict]:
    return [{"kind": i.kind, "value": i.value} for i in contact.identities]


def _record_interaction(user: User, row: Interaction, op: str) -> None:
    record_change(user, "interaction", row.id, op, _jsonable(interaction_dict(row)))


def record_interaction(
    user: User, device: Device | None, interaction_id: uuid.UUID, data: dict
) -> tuple[Interaction, bool]:
    """Create an interaction with a client-chosen id; a replay returns the stored one unchanged."""
    lock_user(user)
    existing = db.session.get(Interaction, interaction_id)
    if existing is not None:
        if existing.user_id != user.id:
            abort(409, message="That interaction id is taken.")
        return existing, False
    contact = _contact_for_new_interaction(user, data)
    ref = data.get("external_ref")
    if ref:
        duplicate = db.session.scalar(
            select(Interaction).where(
                Interaction.user_id == user.id,
                Interaction.contact_id == contact.id,
                Interaction.external_ref == ref,
                Interaction.deleted_at.is_(None),
            )
        )
        if duplicate is not None:
            return duplicate, False
    now = utcnow()
    row = Interaction(
        id=interaction_id,
        user_id=user.id,
        contact_id=contact.id,
        occurred_at=data.get("occurred_at") or now,
        kind=data["kind"],
        initiated_by=data.get("initiated_by") or "me",
        closeness=data.get("closeness"),
        favor_direction=None,
        favor_value=0,
        note=data.get("note") or "",
        external_ref=ref,
        device_id=device.id if device else None,
        created_at=now,
        updated_at=now,
    )
    for key, value in _fields_from(data).items():
        setattr(row, key, value)
    if not row.note:
        row.note = ""
    db.session.add(row)
    db.session.flush()
    adjust_stats(contact, user, added=row)
    contact.updated_at = now
    _record_interaction(user, row, "upsert")
    _record_contact(user, contact)
    return row, True


def update_interaction(user: User, row: Interaction, data: dict) -> Interaction:
    """Last write by server time wins; the version it replaces stays in the changes feed."""
    lock_user(user)
    if row.deleted_at is not None:
        abort(409, message="That interaction was deleted; a delete wins over an older edit.")
    old_contact = get_contact(user, row.contact_id)
    new_contact = get_contact(user, data["contact_id"]) if "contact_id" in data else old_contact
    before = event_of(row)
    for key, value in _fields_from(data).items():
        setattr(row, key, value if key != "note" else (value or ""))
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


def delete_interaction(user: User, row: Interaction) -> Interaction:
    lock_user(user)
    if row.deleted_at is not None:
        return row
    contact = get_contact(user, row.contact_id)
    row.deleted_at = utcnow()
    row.updated_at = row.deleted_at
    adjust_stats(contact, user, removed=event_of(row))
    _record_interaction(user, row, "delete")
    _record_contact(user, contact)
    return row


def _jsonable(value):
    """Plain JSON types for the changes feed's snapshots."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
