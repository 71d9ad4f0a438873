import uuid

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from .. import ledger
from ..models import Contact, db
from ..schemas import (
    ErrorSchema,
    InteractionInSchema,
    InteractionPatchSchema,
    InteractionResultSchema,
)
from .answers import json_answer

blp = Blueprint("interactions", __name__, url_prefix="/api/v1", description="The ledger")
GONE = "Its contact was deleted since, with its interactions"


def commit_and_answer(row, contact=None) -> dict:
    """Commit, then answer from the objects just written: they stay loaded (not expired) and
    held, so the answer costs only the tie's own reads, which on SQLite no longer hold the
    write lock. `contact`: the one to answer with, if not the interaction's own."""
    if contact is None:  # held: the session only keeps weak refs
        contact = db.session.get(Contact, row.contact_id)
    session = db.session()
    session.expire_on_commit = False
    session.commit()
    data = ledger.contact_dict(contact, g.user)
    return {"interaction": ledger.interaction_dict(row), "contact": data, "tie": data["tie"]}


def log(interaction_id: uuid.UUID, data: dict, client_id: bool = True):
    """Log a new interaction (201), or answer with the one already stored for it (200: a replay
    of its id, or its `external_ref` logged before for the contact)."""
    answer = ledger.log_interaction(g.user, g.device, interaction_id, data)
    if answer is not None:
        return json_answer(answer, 201)
    row, contact, created = ledger.record_interaction(
        g.user, g.device, interaction_id, data, client_id=client_id
    )
    return json_answer(commit_and_answer(row, contact), 201 if created else 200)


@blp.route("/interactions")
class Interactions(MethodView):
    @blp.arguments(InteractionInSchema())
    @blp.response(201, InteractionResultSchema)
    @blp.alt_response(200, schema=InteractionResultSchema, description="Already stored")
    @blp.alt_response(404, schema=ErrorSchema, description="No such contact_id")
    @blp.alt_response(409, schema=ErrorSchema, description="Identities of different contacts")
    def post(self, data):
        """Log an interaction with a server-assigned id; an `external_ref` already logged for
        the contact returns the stored interaction (200) instead of a second one."""
        return log(uuid.uuid4(), data, client_id=False)  # an id no client can retry


@blp.route("/interactions/<uuid:interaction_id>")
class InteractionItem(MethodView):
    @blp.arguments(InteractionInSchema())
    @blp.response(201, InteractionResultSchema)
    @blp.alt_response(200, schema=InteractionResultSchema, description="Already stored")
    @blp.alt_response(
        409,
        schema=ErrorSchema,
        description="Another user's id, or identities of different contacts",
    )
    @blp.alt_response(410, schema=ErrorSchema, description=GONE)
    def put(self, data, interaction_id):
        """Log an interaction under a client-chosen id: a replay changes nothing (200).

        With an inline `contact` the first log creates the contact; an `external_ref` already
        logged for that contact returns the stored interaction instead of a second one. A
        replay after the contact was deleted (with its interactions) is a 410.
        """
        return log(interaction_id, data)

    @blp.arguments(InteractionPatchSchema())
    @blp.response(200, InteractionResultSchema)
    @blp.alt_response(
        409,
        schema=ErrorSchema,
        description="The interaction was deleted, or its contact has its external_ref already",
    )
    def patch(self, data, interaction_id):
        """Edit an interaction; the last write by server time wins. An `external_ref` that
        another live interaction of its contact holds (given, or on moving it) is a 409."""
        row = ledger.update_interaction(
            g.user, ledger.get_interaction(g.user, interaction_id), data
        )
        return commit_and_answer(row)

    @blp.response(200, InteractionResultSchema)
    @blp.alt_response(410, schema=ErrorSchema, description=GONE)
    def delete(self, interaction_id):
        """Delete an interaction (a tombstone stays in the changes feed); deleting it again
        changes nothing, and after its contact was deleted it is a 410."""
        interaction = ledger.get_interaction(g.user, interaction_id)
        row, contact = ledger.delete_interaction(g.user, interaction)
        return commit_and_answer(row, contact)
