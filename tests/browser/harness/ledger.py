"""Seeding the live ledger and reading what the overlay shows, for the e2e tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from .api import LiveApi


def days_ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def ensure_contact(
    api: LiveApi,
    name: str,
    *,
    linkedin: str | None = None,
    email: str | None = None,
    interactions: list[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The contact holding ``linkedin``/``email`` (created with ``interactions`` if missing);
    returns ``{"contact": ..., "tie": ...}`` as the lookup endpoint does."""
    found = api.lookup(linkedin=linkedin) if linkedin else api.lookup(email=email)
    if found.get("contact"):
        return found
    contact = api.create_contact(name, linkedin=linkedin, email=email)
    for body in interactions:
        api.log_interaction(contact["id"], **body)
    return api.lookup(linkedin=linkedin) if linkedin else api.lookup(email=email)


def score_number(text: str | None) -> int | None:
    """The score shown in ``[data-field=score]`` ("38 · medium · top 5" -> 38)."""
    if not text:
        return None
    m = re.search(r"\d+", text)
    return int(m.group()) if m else None


def tie_score(found: dict[str, Any]) -> int:
    """The rounded score of a lookup result, as the overlay shows it."""
    return round(float(found["tie"]["score"]))
