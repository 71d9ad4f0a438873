"""A realistic synthetic ledger, the same for a given seed and size.

Most contacts are weak ties (a handful of interactions over the years), a few are strong ties
(contact several times a week for years) and between them sits a layer of medium ties; the
interaction counts follow from that shape, scaled to the requested total. Rows go straight into
a migrated database (executemany on SQLite, COPY on PostgreSQL); the aggregates are then
computed by the product's own rebuild, so every number the API serves is real.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import create_engine, event, insert, text
from sqlalchemy.engine import Engine

from api.models import Contact, Identity, Interaction, User, db

DAY = 86400.0
YEAR = 365.25 * DAY
CHUNK = 50_000


@dataclass(frozen=True)
class Tier:
    name: str
    share: float  # of contacts
    mean_count: float  # interactions before scaling to the requested total
    years: tuple[float, float]  # how long ago the tie started
    silence_days: tuple[float, float]  # how long ago the last interaction was
    kinds: dict[str, float]
    initiators: dict[str, float]
    closeness: dict[int | None, float]
    favour_rate: float


STRONG = Tier(
    "strong",
    0.003,
    5000,
    (3, 10),
    (0, 7),
    {
        "email": 35,
        "message": 30,
        "call": 10,
        "video": 6,
        "meeting": 10,
        "coffee": 5,
        "meal": 3,
        "favor": 1,
    },
    {"me": 35, "them": 35, "mutual": 30},
    {None: 70, 3: 5, 4: 15, 5: 10},
    0.02,
)
MEDIUM = Tier(
    "medium",
    0.097,
    750,
    (1, 8),
    (0, 60),
    {"email": 45, "message": 15, "call": 10, "video": 10, "meeting": 15, "coffee": 3, "event": 2},
    {"me": 45, "them": 40, "mutual": 15},
    {None: 85, 2: 5, 3: 8, 4: 2},
    0.01,
)
WEAK = Tier(
    "weak",
    0.9,
    8,
    (0.3, 10),
    (0, 3 * 365),
    {"email": 40, "meeting": 20, "event": 20, "call": 8, "introduction": 7, "coffee": 5},
    {"me": 55, "them": 40, "mutual": 5},
    {None: 90, 1: 3, 2: 5, 3: 2},
    0.01,
)
TIERS = (STRONG, MEDIUM, WEAK)

FIRST = (
    "Ada Alan Amara Ana Ben Carla Chen David Elena Emma Farid Grace Hana Ines Ivan Jamal Jana "
    "Kofi Lea Lucas Maya Mei Nadia Noah Olga Omar Pablo Priya Rosa Sam Sara Tomas Yuki Zoe"
).split()
LAST = (
    "Abe Baker Costa Diaz Evans Fischer Garcia Haddad Ito Jensen Kim Kowalski Lopez Martin "
    "Nakamura Novak Okafor Petrov Quinn Rossi Sato Silva Smith Tanaka Usman Varga Wang Weber "
    "Xu Yilmaz Zhang"
).split()


@dataclass(frozen=True)
class Size:
    contacts: int
    interactions: int


FULL = Size(10_000, 1_000_000)
SMALL = Size(10, 1_000)  # the same shape, a thousand times smaller
QUICK = Size(200, 20_000)


@dataclass
class PlannedContact:
    id: int
    tier: Tier
    name: str
    slug: str
    email: str | None
    count: int
    start: float  # epoch seconds of the first interaction
    end: float  # and of the last


@dataclass
class Ledger:
    """What was generated: enough for the load generator to pick realistic targets."""

    size: Size
    seed: int
    now: datetime
    contacts: list[PlannedContact]

    def by_tier(self, name: str) -> list[PlannedContact]:
        return [c for c in self.contacts if c.tier.name == name]

    def summary(self) -> dict:
        return {
            "contacts": len(self.contacts),
            "interactions": sum(c.count for c in self.contacts),
            "seed": self.seed,
            "tiers": {
                t.name: {
                    "contacts": len(self.by_tier(t.name)),
                    "interactions": sum(c.count for c in self.by_tier(t.name)),
                }
                for t in TIERS
            },
        }


def plan(size: Size, seed: int, now: datetime | None = None) -> Ledger:
    """Decide every contact and how many interactions it has, from the seed alone."""
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    tiers: list[Tier] = []
    for tier in (STRONG, MEDIUM):
        tiers += [tier] * max(1, round(size.contacts * tier.share))
    tiers += [WEAK] * max(0, size.contacts - len(tiers))
    tiers = tiers[: size.contacts]
    raw = [t.mean_count * rng.lognormvariate(0, 0.5) for t in tiers]
    scale = size.interactions / sum(raw)
    counts = [max(1, int(r * scale)) for r in raw]
    # Hand out (or take back) the rounding remainder, largest ledgers first.
    order = sorted(range(len(counts)), key=lambda i: -counts[i])
    i = 0
    while sum(counts) != size.interactions:
        j = order[i % len(order)]
        step = 1 if sum(counts) < size.interactions else -1
        if counts[j] + step >= 1:
            counts[j] += step
        i += 1
    contacts = []
    t_now = now.timestamp()
    for n, (tier, count) in enumerate(zip(tiers, counts, strict=True), start=1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        slug = f"{first}-{last}-{n:05d}{rng.getrandbits(16):04x}".lower()
        email = f"{first}.{last}.{n}@example.{rng.choice(['com', 'org', 'io'])}".lower()
        end = t_now - rng.uniform(*tier.silence_days) * DAY - rng.uniform(3600, 6 * 3600)
        start = min(end, t_now - rng.uniform(*tier.years) * YEAR)
        contacts.append(
            PlannedContact(
                id=n,
                tier=tier,
                name=f"{first} {last}",
                slug=slug,
                email=email if rng.random() < 0.6 else None,
                count=count,
                start=start,
                end=end,
            )
        )
    return Ledger(size=size, seed=seed, now=now, contacts=contacts)


def _weighted(rng: random.Random, table: dict, k: int) -> list:
    return rng.choices(list(table), weights=list(table.values()), k=k)


def interaction_rows(ledger: Ledger, user_id: int) -> Iterator[dict]:
    """Every interaction of the ledger, contact by contact, oldest first."""
    rng = random.Random(ledger.seed + 1)
    for c in ledger.contacts:
        tier, n = c.tier, c.count
        span = c.end - c.start
        times = sorted(
            [c.start, c.end][: min(n, 2)] + [c.start + rng.random() * span for _ in range(n - 2)]
        )
        kinds = _weighted(rng, tier.kinds, n)
        initiators = _weighted(rng, tier.initiators, n)
        closeness = _weighted(rng, tier.closeness, n)
        for t, kind, initiated_by, close in zip(times, kinds, initiators, closeness, strict=True):
            at = datetime.fromtimestamp(t, UTC)
            favour = rng.random() < tier.favour_rate or kind == "favor"
            yield {
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "user_id": user_id,
                "contact_id": c.id,
                "occurred_at": at,
                "kind": kind,
                "initiated_by": initiated_by,
                "closeness": close,
                "favor_direction": rng.choice(("given", "received")) if favour else None,
                "favor_value": rng.randint(1, 5) if favour else 0,
                "note": "",
                "external_ref": None,
                "device_id": None,
                "created_at": at,
                "updated_at": at,
                "deleted_at": None,
            }


def contact_rows(ledger: Ledger, user_id: int) -> tuple[list[dict], list[dict]]:
    contacts, identities = [], []
    for c in ledger.contacts:
        created = datetime.fromtimestamp(c.start, UTC)
        contacts.append(
            {
                "id": c.id,
                "user_id": user_id,
                "name": c.name,
                "notes": "",
                "created_at": created,
                "updated_at": datetime.fromtimestamp(c.end, UTC),
                "deleted_at": None,
            }
        )
        identities.append(
            {"user_id": user_id, "contact_id": c.id, "kind": "linkedin", "value": c.slug}
        )
        if c.email:
            identities.append(
                {"user_id": user_id, "contact_id": c.id, "kind": "email", "value": c.email}
            )
    return contacts, identities


def loader_engine(url: str) -> Engine:
    """An engine for bulk loading: on SQLite, no fsync until the end."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-262144")  # 256 MiB
            cursor.close()

    return engine


def _chunks(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


INTERACTION_COLUMNS = [c.name for c in Interaction.__table__.columns]


def load(url: str, ledger: Ledger, username: str = "me") -> int:
    """Insert the ledger into the (migrated, empty) database at `url`; returns the user's id."""
    engine = loader_engine(url)
    try:
        with engine.begin() as conn:
            user_id = conn.execute(
                insert(User.__table__).returning(User.__table__.c.id),
                {"username": username, "settings": {}, "created_at": ledger.now},
            ).scalar_one()
            contacts, identities = contact_rows(ledger, user_id)
            conn.execute(insert(Contact.__table__), contacts)
            conn.execute(insert(Identity.__table__), identities)
            if engine.dialect.name == "postgresql":
                _copy_interactions(conn, ledger, user_id)
                _reset_sequences(conn)
            else:
                _insert_many(conn, Interaction.__table__, interaction_rows(ledger, user_id))
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        return user_id
    finally:
        engine.dispose()


def _insert_many(conn, table, rows: Iterator[dict]) -> None:
    """executemany with the columns' own bind processors applied once, without the per-row
    statement machinery (four times faster for a million rows, the same stored values)."""
    columns = list(table.columns)
    processors = [c.type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in columns]
    pairs = [(c.name, p) for c, p in zip(columns, processors, strict=True)]
    names = ", ".join(c.name for c in columns)
    marks = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"

    def values(row: dict) -> tuple:
        out, seen = [], {}
        for name, process in pairs:
            value = row[name]
            if process is not None and value is not None:
                key = id(value)  # created_at and updated_at are occurred_at: convert it once
                if key not in seen:
                    seen[key] = process(value)
                value = seen[key]
            out.append(value)
        return tuple(out)

    for chunk in _chunks(rows, CHUNK):
        conn.exec_driver_sql(sql, [values(r) for r in chunk])


def _copy_interactions(conn, ledger: Ledger, user_id: int) -> None:
    cursor = conn.connection.driver_connection.cursor()
    columns = ", ".join(INTERACTION_COLUMNS)
    with cursor.copy(f"COPY interactions ({columns}) FROM STDIN") as copy:
        for row in interaction_rows(ledger, user_id):
            copy.write_row([row[c] for c in INTERACTION_COLUMNS])


def _reset_sequences(conn) -> None:
    """Explicit ids were inserted: move the identity sequences past them."""
    for table in ("users", "contacts", "identities"):
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


def rebuild_and_token(app, username: str = "me", device_name: str = "bench") -> str:
    """Compute every aggregate with the product's own rebuild; returns a fresh device token."""
    from sqlalchemy import select

    from api import auth, ledger

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        ledger.lock_user(user)
        ledger.rebuild_user(user)
        db.session.commit()
        _, token = auth.create_device(user, device_name)
        db.session.commit()
        return token


@dataclass
class Built:
    ledger: Ledger
    token: str  # a device token of the ledger's user
    load_seconds: float
    rebuild_seconds: float


def build(url: str, size: Size, seed: int) -> Built:
    """Plan a ledger, migrate the empty database at `url`, load the ledger into it and compute
    its aggregates with the product's own rebuild; the app used for that is disposed of."""
    from api import create_app
    from api.database import upgrade

    ledger = plan(size, seed)
    upgrade(url)
    started = time.perf_counter()
    load(url, ledger)
    loaded = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    token = rebuild_and_token(app)
    rebuilt = time.perf_counter()
    with app.app_context():
        db.engine.dispose()
    return Built(ledger, token, loaded - started, rebuilt - loaded)


# What the extension logs with one click, as often as people log them.
PUT_KINDS = {"email": 30, "message": 20, "meeting": 20, "call": 10, "coffee": 10, "video": 10}


def lookup_paths(ledger: Ledger, seed: int, n: int = 2000) -> list[str]:
    """Lookups of known people, picked uniformly: most are weak ties, as on a real screen."""
    rng = random.Random(seed + 2)
    return [
        f"/api/v1/lookup?linkedin={rng.choice(ledger.contacts).slug}"
        for _ in range(min(n, 20 * len(ledger.contacts)))
    ]


def put_bodies(ledger: Ledger, seed: int, n: int = 2000) -> list[dict]:
    """What the extension sends on a one-click log: by contact id once known, else inline."""
    rng = random.Random(seed + 3)
    bodies = []
    for i in range(n):
        contact = rng.choice(ledger.contacts)
        kind = rng.choices(list(PUT_KINDS), weights=list(PUT_KINDS.values()))[0]
        if i % 2:
            bodies.append({"kind": kind, "contact_id": contact.id})
        else:
            identity = {"kind": "linkedin", "value": contact.slug}
            bodies.append(
                {"kind": kind, "contact": {"name": contact.name, "identities": [identity]}}
            )
    return bodies
