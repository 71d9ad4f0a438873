"""The ledger's tables. Every row belongs to one user; queries always filter by it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)  # PostgreSQL answers in its session's time zone


class Base(DeclarativeBase):
    registry = registry(type_annotation_map={datetime: UTCDateTime})


db = SQLAlchemy(model_class=Base)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer, "sqlite")


class User(db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Scores stored for ranking are refreshed when older than this (they decay with time).
    scores_refreshed_at: Mapped[datetime | None]


class Device(db.Model):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class PairingCode(db.Model):
    __tablename__ = "pairing_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class PairAttempt(db.Model):
    """Failed pairing attempts per client, to limit guessing across every API process."""

    __tablename__ = "pair_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    client: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Contact(db.Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]
    # Set when merged into another contact (and deleted): a log still addressed to this one, from
    # a browser that was offline meanwhile, goes there instead of being refused.
    merged_into_id: Mapped[int | None]

    identities: Mapped[list[Identity]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", lazy="selectin"
    )
    stats: Mapped[ContactStats] = relationship(
        back_populates="contact", cascade="all, delete-orphan", lazy="joined", uselist=False
    )


class Identity(db.Model):
    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("user_id", "kind", "value", name="uq_identity_per_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(320))

    contact: Mapped[Contact] = relationship(back_populates="identities")


class Interaction(db.Model):
    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_contact_time", "contact_id", "occurred_at"),
        Index("ix_interactions_external_ref", "user_id", "contact_id", "external_ref"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    initiated_by: Mapped[str] = mapped_column(String(8), default="me")
    closeness: Mapped[int | None]
    favor_direction: Mapped[str | None] = mapped_column(String(8))
    favor_value: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(Text, default="")
    external_ref: Mapped[str | None] = mapped_column(String(300))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    deleted_at: Mapped[datetime | None]


class InteractionAlias(db.Model):
    """A log's id answered with an interaction stored before it (its `external_ref` was logged
    already), or the id of a copy a merge dropped for the interaction kept: a retry of that id
    answers the same interaction, never logs a second one."""

    __tablename__ = "interaction_aliases"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    interaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("interactions.id", ondelete="CASCADE"), index=True
    )


class ContactStats(db.Model):
    """Per-contact aggregates, updated in the same transaction as every ledger write."""

    __tablename__ = "contact_stats"
    __table_args__ = (Index("ix_contact_stats_rank", "user_id", "score"),)

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    as_of: Mapped[float] = mapped_column(Float, default=0.0)
    frequency_mass: Mapped[float] = mapped_column(Float, default=0.0)
    closeness_mass: Mapped[float] = mapped_column(Float, default=0.0)
    given_mass: Mapped[float] = mapped_column(Float, default=0.0)
    received_mass: Mapped[float] = mapped_column(Float, default=0.0)
    initiated_me: Mapped[float] = mapped_column(Float, default=0.0)
    initiated_them: Mapped[float] = mapped_column(Float, default=0.0)
    initiated_mutual: Mapped[float] = mapped_column(Float, default=0.0)
    count: Mapped[int] = mapped_column(default=0)
    given_count: Mapped[int] = mapped_column(default=0)
    received_count: Mapped[int] = mapped_column(default=0)
    given_value: Mapped[int] = mapped_column(default=0)
    received_value: Mapped[int] = mapped_column(default=0)
    first_at: Mapped[float | None] = mapped_column(Float)
    last_at: Mapped[float | None] = mapped_column(Float)
    last_interaction_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The score when last written or refreshed: used only to rank contacts (Dunbar layer, lists).
    score: Mapped[float] = mapped_column(Float, default=0.0)

    contact: Mapped[Contact] = relationship(back_populates="stats")


class Change(db.Model):
    """Append-only feed of every write: other browsers follow it and nothing is silently lost."""

    __tablename__ = "changes"
    __table_args__ = (Index("ix_changes_user_seq", "user_id", "seq"),)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(16))
    # An interaction's uuid, a contact's id, or an identity's "kind:value" (up to 260 characters).
    entity_id: Mapped[str] = mapped_column(String(400))
    op: Mapped[str] = mapped_column(String(8))
    device_id: Mapped[int | None]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict | None] = mapped_column(JSON)
