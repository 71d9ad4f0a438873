"""Device tokens and pairing codes: random secrets, stored only as SHA-256 digests."""

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from flask import current_app, g, request
from flask_smorest import abort
from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import OperationalError

from . import database, errors
from .models import Device, PairAttempt, PairingCode, User, db, utcnow

TOKEN_PREFIX = "st_"
# Crockford's base32 without the look-alikes: 16 characters carry 80 bits.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PUBLIC_ENDPOINTS = {"health.health", "pair.pair", "api-docs.openapi_json", "docs.docs", "connect"}
DEFAULT_USERNAME = "me"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_pairing_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum()).replace("O", "0").replace("I", "1")


def default_user() -> User:
    """The single user of a personal install, created on first need."""
    user = db.session.scalar(select(User).where(User.username == DEFAULT_USERNAME))
    if user is None:
        user = User(username=DEFAULT_USERNAME, settings={})
        db.session.add(user)
        db.session.flush()
    return user


def create_device(user: User, name: str) -> tuple[Device, str]:
    token = new_token()
    device = Device(user_id=user.id, name=name[:120] or "Browser", token_hash=digest(token))
    db.session.add(device)
    db.session.flush()
    return device, token


def code_lifetime() -> str:
    """How long a pairing code lives, as the CLI and the /connect page tell it."""
    minutes = current_app.config["STRONGTIES_PAIR_CODE_MINUTES"]
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def create_pairing_code(user: User) -> str:
    code = new_pairing_code()
    minutes = current_app.config.get("STRONGTIES_PAIR_CODE_MINUTES", 10)
    db.session.execute(delete(PairingCode).where(PairingCode.expires_at < utcnow()))
    db.session.add(
        PairingCode(
            user_id=user.id,
            code_hash=digest(normalise_code(code)),
            expires_at=utcnow() + timedelta(minutes=minutes),
        )
    )
    return code


def client_address() -> str:
    return (request.remote_addr or "unknown")[:64]


def check_pair_rate_limit() -> None:
    """Refuse a client with too many failed attempts in the code lifetime (shared via the DB)."""
    lifetime = timedelta(minutes=current_app.config["STRONGTIES_PAIR_CODE_MINUTES"])
    now = utcnow()
    failures, oldest = db.session.execute(
        select(func.count(), func.min(PairAttempt.at)).where(
            PairAttempt.client == client_address(), PairAttempt.at > now - lifetime
        )
    ).one()
    if failures >= current_app.config["STRONGTIES_PAIR_MAX_FAILURES"]:
        # The oldest failure counted leaves the window then, and one more try is allowed.
        wait = math.ceil((oldest + lifetime - now).total_seconds())
        abort(
            429,
            message="Too many failed pairing attempts; wait a few minutes.",
            headers={"Retry-After": str(max(wait, 1))},
        )


def record_pair_failure() -> None:
    db.session.add(PairAttempt(client=client_address()))
    db.session.commit()


def redeem_pairing_code(code: str) -> User | None:
    """The user a valid, unused, unexpired code belongs to; the code is spent."""
    # One conditional update: of two requests racing with the same code, only one spends it.
    now = utcnow()
    user_id = db.session.scalar(
        update(PairingCode)
        .where(
            PairingCode.code_hash == digest(normalise_code(code)),
            PairingCode.used_at.is_(None),
            PairingCode.expires_at > now,
        )
        .values(used_at=now)
        .returning(PairingCode.user_id)
    )
    return db.session.get(User, user_id) if user_id is not None else None


@dataclass(frozen=True)
class Account:
    """The user a request acts for, as read with its token: a plain snapshot, since most
    requests only read. A write re-reads it under the lock (`ledger.lock_user`)."""

    id: int
    username: str
    settings: dict | None
    created_at: datetime
    scores_refreshed_at: datetime | None


@dataclass(frozen=True)
class Caller:
    """The device a request comes from."""

    id: int
    user_id: int
    last_seen_at: datetime | None


_users, _devices = User.__table__, Device.__table__
ACCOUNT_COLUMNS = tuple(_users.c[f.name] for f in fields(Account))
# Every request's first statement: the device and its user in one query, built once.
_DEVICE_AND_USER = (
    select(
        _devices.c.id.label("device_id"),
        _devices.c.token_hash,
        _devices.c.revoked_at,
        _devices.c.last_seen_at,
        *ACCOUNT_COLUMNS,
    )
    .join_from(_devices, _users, _users.c.id == _devices.c.user_id)
    .where(_devices.c.token_hash == bindparam("token_hash"))
)
_DEVICE_AND_USER_ON_DRIVER = database.DriverStatement(_DEVICE_AND_USER)


def account_of(row) -> Account:
    return Account(**{f.name: getattr(row, f.name) for f in fields(Account)})


def authenticate() -> None:
    """Resolve the bearer token to a live device; sets g.device and g.user, or answers 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, message="Missing bearer token.")  # errors.py adds the WWW-Authenticate
    token = token.strip()
    wanted = digest(token)
    found = _DEVICE_AND_USER_ON_DRIVER.first(database.connection(db), {"token_hash": wanted})
    # The lookup is by digest; comparing again in constant time keeps timing independent of it.
    if found is None or not hmac.compare_digest(found.token_hash, wanted):
        _refuse_token("Unknown device token.")
    if found.revoked_at is not None:
        _refuse_token("This device was disconnected; pair it again.")
    g.device = Caller(found.device_id, found.id, found.last_seen_at)
    g.user = account_of(found)


def _refuse_token(message: str) -> None:
    """A 401 for a token sent but not accepted, as RFC 6750 describes it."""
    challenge = f'{errors.BEARER}, error="invalid_token", error_description="{message}"'
    abort(401, message=message, headers={"WWW-Authenticate": challenge})


def note_seen(device: Caller) -> None:
    """Keep `last_seen_at` roughly current without a write on every request.

    A short transaction of its own, taken before the request's own write (if any) begins; it
    gives way at once if another writer holds the database: a later request will note it.
    """
    now = utcnow()
    if device.last_seen_at and now - device.last_seen_at < timedelta(minutes=5):
        return
    try:
        with db.engine.begin() as conn, database.giving_way(conn):
            conn.execute(update(Device).where(Device.id == device.id).values(last_seen_at=now))
    except OperationalError:
        pass
