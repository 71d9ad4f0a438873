"""One blueprint per resource."""

from . import (
    changes,
    connect,
    contacts,
    devices,
    docs,
    health,
    interactions,
    lookup,
    pair,
    settings,
)

API_BLUEPRINTS = (
    health.blp,
    pair.blp,
    lookup.blp,
    contacts.blp,
    interactions.blp,
    changes.blp,
    devices.blp,
    settings.blp,
)
PAGE_BLUEPRINTS = (connect.blp, docs.blp)
