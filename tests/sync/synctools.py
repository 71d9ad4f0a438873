"""Helpers of the sync suite: a caller per device, a client-side replay of the changes feed,
the check that the kept aggregates equal a rebuild from the ledger, and a live gunicorn."""

import os
import random
import re
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from live_server import ServerProcess
from sqlalchemy import select

from api import ledger, scoring
from api.models import Contact, ContactStats, User, db

BIN = Path(sys.executable).parent
POSTGRES_URL = os.environ.get(
    "STRONGTIES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REPO = Path(__file__).resolve().parents[2]


class Device:
    """Calls the in-process API with one device's token: dev.get(path), dev.put(path, json=...)."""

    def __init__(self, client, token: str, name: str = ""):
        self.client, self.token, self.name = client, token, name
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method):
        def call(path, **kwargs):
            headers = {**self.headers, **kwargs.pop("headers", {})}
            return getattr(self.client, method)(path, headers=headers, **kwargs)

        return call


class Answer:
    """A requests response that reads like Flask's test response (status_code, get_json)."""

    def __init__(self, response: requests.Response):
        self.response = response
        self.status_code = response.status_code
        self.headers = response.headers

    def get_json(self):
        return self.response.json() if self.response.content else None


class HttpDevice:
    """One device's token against a live server. A 503 (database busy) carries Retry-After
    and is retried, as the extension's outbox does; every other answer is returned."""

    def __init__(self, base: str, token: str, name: str = ""):
        self.base, self.token, self.name = base, token, name
        self.retried: list[str] = []
        self._local = threading.local()

    def request(self, method: str, path: str, json=None) -> Answer:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.token}"
        for _ in range(40):
            r = session.request(method, self.base + path, json=json, timeout=60)
            if r.status_code != 503:
                return Answer(r)
            assert r.headers.get("Retry-After"), "a 503 must say when to retry"
            self.retried.append(f"{method} {path}")
            time.sleep(min(float(r.headers["Retry-After"]), 1.0) * random.uniform(0.2, 1.0))
        raise AssertionError(f"{method} {path}: still busy after 40 tries")

    def get(self, path):
        return self.request("GET", path)

    def put(self, path, json=None):
        return self.request("PUT", path, json)

    def patch(self, path, json=None):
        return self.request("PATCH", path, json)

    def post(self, path, json=None):
        return self.request("POST", path, json)

    def delete(self, path):
        return self.request("DELETE", path)


# ---- the changes feed -------------------------------------------------------------------------


def follow_feed(dev, since=0, limit=7, max_pages=10_000):
    """Every change after `since`, page by page; checks the cursor contract on the way."""
    changes, cursor = [], since
    for _ in range(max_pages):
        r = dev.get(f"/api/v1/changes?since={cursor}&limit={limit}")
        assert r.status_code == 200, r.get_json()
        page = r.get_json()
        assert len(page["changes"]) <= limit
        seqs = [c["seq"] for c in page["changes"]]
        assert seqs == sorted(seqs) and all(s > cursor for s in seqs), (cursor, seqs)
        if page["changes"]:
            assert page["cursor"] == seqs[-1]
        else:
            assert page["cursor"] == cursor and not page["has_more"]
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes, cursor
        assert len(page["changes"]) == limit
    raise AssertionError("the feed never ended")


def replay(changes):
    """A client's copy of the ledger from the feed alone: contacts, identities, interactions."""
    contacts, identities, interactions = {}, {}, {}
    tables = {"contact": contacts, "identity": identities, "interaction": interactions}
    for change in changes:
        entity, op, key, data = change["entity"], change["op"], change["id"], change["data"]
        if entity == "settings":  # every score recomputed: no ledger data of its own
            continue
        table = tables[entity]
        if op == "upsert":
            table[key] = data
        else:
            assert op == "delete", change
            table.pop(key, None)
    return contacts, identities, interactions


def instant(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def comparable(obj: dict) -> dict:
    """Timestamps compared as instants, whatever their ISO spelling."""
    return {
        k: instant(v) if k.endswith("_at") and isinstance(v, str | None) else v
        for k, v in obj.items()
    }


# ---- aggregates against a rebuild ---------------------------------------------------------------

_AGG_FIELDS = ["count", "given_count", "received_count", "given_value", "received_value"]


def _summary(agg: scoring.Aggregate, at: datetime, settings) -> dict:
    return {
        **{name: getattr(agg, name) for name in _AGG_FIELDS},
        "first_at": agg.first_at,
        "last_at": agg.last_at,
        **(agg.decayed(at.timestamp(), settings) if agg.count else {}),
        **scoring.components(agg, at, settings),
    }


def kept_and_rebuilt(app, username: str | None = None) -> tuple[dict, dict]:
    """Per contact of a user: the kept aggregates and a rebuild from the ledger (rolled back)."""
    at = datetime.now(UTC)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == (username or "me")))
        settings = ledger.model_settings(user)
        kept = {}
        for stats in db.session.scalars(
            select(ContactStats).where(ContactStats.user_id == user.id)
        ):
            kept[stats.contact_id] = (
                _summary(ledger.aggregate_of(stats), at, settings),
                stats.last_interaction_id,
            )
        ledger.rebuild_user(user)
        db.session.flush()
        rebuilt = {}
        for contact in db.session.scalars(
            select(Contact).where(Contact.user_id == user.id, Contact.deleted_at.is_(None))
        ):
            stats = contact.stats
            rebuilt[contact.id] = (
                _summary(ledger.aggregate_of(stats), at, settings),
                stats.last_interaction_id,
            )
        db.session.rollback()
    return kept, rebuilt


def assert_aggregates_match_rebuild(app, username: str | None = None) -> int:
    kept, rebuilt = kept_and_rebuilt(app, username)
    assert set(kept) == set(rebuilt), "contacts with kept aggregates differ from live contacts"
    for contact_id, (want, want_last) in rebuilt.items():
        have, have_last = kept[contact_id]
        # A contact without live interactions has no first/last instant: None is compared
        # exactly (pytest.approx refuses None under a relative tolerance).
        unset = {k for k, v in want.items() if v is None}
        assert {k: have.get(k) for k in unset} == dict.fromkeys(unset), contact_id
        numbers = {k: v for k, v in have.items() if k not in unset}
        want = {k: v for k, v in want.items() if k not in unset}
        assert numbers == pytest.approx(want, rel=1e-9, abs=1e-9), contact_id
        assert have_last == want_last, contact_id
    return len(rebuilt)


# ---- a live gunicorn ----------------------------------------------------------------------------


class Gunicorn(ServerProcess):
    """`gunicorn -w N 'api:create_app()'` on a database; ready once every worker has booted."""

    def __init__(self, env: dict, log: Path, workers: int = 3):
        command = [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            "127.0.0.1:{port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--no-control-socket",  # gunicorn 27 shares ~/.gunicorn/gunicorn.ctl otherwise
            "api:create_app()",
        ]
        super().__init__(env, log, command, host="127.0.0.1", cwd=REPO)
        self.workers = workers

    def ready(self) -> bool:
        booted = self.log_text(current=True).count("Booting worker")
        return booted >= self.workers and super().ready()


def pairing_code(html: str) -> str | None:
    match = re.search(r'data-pairing-code="([0-9A-Z-]+)"', html)
    return match.group(1) if match else None


def stored_ranks(app, username: str) -> dict[int, int]:
    """Each contact's rank counted in the database: 1 + the contacts stored above it."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        scores = dict(
            db.session.execute(
                select(ContactStats.contact_id, ContactStats.score).where(
                    ContactStats.user_id == user.id
                )
            ).all()
        )
        db.session.rollback()
    return {cid: 1 + sum(other > own for other in scores.values()) for cid, own in scores.items()}
