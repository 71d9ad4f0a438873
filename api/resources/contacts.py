import unicodedata

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import func, literal, or_, select

from .. import ledger
from ..models import Contact, ContactStats, Identity, db
from ..schemas import (
    ContactIdentitiesSchema,
    ContactInSchema,
    ContactListArgsSchema,
    ContactMergeSchema,
    ContactOutSchema,
    ContactPageSchema,
    ContactPatchSchema,
    ErrorSchema,
    InteractionListSchema,
    InteractionPageArgsSchema,
)

blp = Blueprint("contacts", __name__, url_prefix="/api/v1", description="People in the ledger")


def _folded(text):
    """`text` in lower case, as a search compares it: lower() (SQLite's maps letter by letter
    as PostgreSQL's, see database.py), with a final sigma read as any other ("κωστας" finds
    ΚΩΣΤΑΣ, whose lower case is "κωστασ"), and an "i" with a combining dot as "i" (an identity
    key, lowercased by Python, spells "İ" so: "ipek" finds the slug of /in/İpek)."""
    lowered = func.replace(func.lower(text), "\u03c2", "\u03c3")
    return func.replace(lowered, "i\u0307", "i")


@blp.route("/contacts")
class Contacts(MethodView):
    @blp.arguments(ContactListArgsSchema(), location="query")
    @blp.response(200, ContactPageSchema)
    def get(self, args):
        """Contacts, strongest first by default (`sort=score|name|recent`), paged; `q` keeps
        those whose name or one of whose identities contains it (case-insensitive)."""
        ledger.refresh_scores_if_stale(g.user)
        # Everything below reads one snapshot, under the settings that made its scores.
        ledger.read_in_one_snapshot(g.user)
        query = (
            select(Contact)
            .join(ContactStats, ContactStats.contact_id == Contact.id, isouter=True)
            .where(Contact.user_id == g.user.id, Contact.deleted_at.is_(None))
        )
        if "q" in args:
            q = unicodedata.normalize("NFC", args["q"])  # as names are stored
            pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = _folded(literal(pattern + "%"))
            by_identity = select(Identity.contact_id).where(
                Identity.user_id == g.user.id, _folded(Identity.value).like(pattern, escape="\\")
            )
            query = query.where(
                or_(_folded(Contact.name).like(pattern, escape="\\"), Contact.id.in_(by_identity))
            )
        total = db.session.scalar(select(func.count()).select_from(query.subquery()))
        order = {
            "score": (ContactStats.score.desc(), Contact.id),
            # "alice" beside "Alice", not after "Zed", whatever the database's collation.
            "name": (func.lower(Contact.name), Contact.name, Contact.id),
            "recent": (ContactStats.last_at.desc().nulls_last(), Contact.id),
        }[args["sort"]]
        size = args["page_size"]
        rows = db.session.scalars(
            query.order_by(*order).offset((args["page"] - 1) * size).limit(size)
        ).all()
        last = ledger.last_interactions([c.stats for c in rows])
        rank = ledger.stored_ranks(g.user)
        return {
            "contacts": [
                ledger.contact_dict(
                    c,
                    g.user,
                    rank=rank(c.stats.score) if c.stats is not None else None,
                    with_trend=False,
                    last_interactions=last,
                )
                for c in rows
            ],
            "page": args["page"],
            "page_size": size,
            "total": total,
        }

    @blp.arguments(ContactInSchema())
    @blp.response(201, ContactOutSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="An identity held by another contact")
    def post(self, data):
        """Add a contact; an identity another contact already holds is a 409."""
        contact = ledger.create_contact(g.user, data)
        db.session.commit()
        return ledger.contact_dict(contact, g.user)


@blp.route("/contacts/<int:contact_id>")
class ContactItem(MethodView):
    @blp.response(200, ContactOutSchema)
    def get(self, contact_id):
        """One contact with its tie."""
        user = ledger.read_in_one_snapshot(g.user)
        return ledger.contact_dict(ledger.get_contact(user, contact_id), user)

    @blp.arguments(ContactPatchSchema())
    @blp.response(200, ContactOutSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="An identity held by another contact")
    def patch(self, data, contact_id):
        """Rename, re-note or replace the identities of a contact."""
        contact = ledger.update_contact(g.user, ledger.get_contact(g.user, contact_id), data)
        db.session.commit()
        return ledger.contact_dict(contact, g.user)

    @blp.response(204)
    def delete(self, contact_id):
        """Delete a contact and its interactions (kept as tombstones in the changes feed)."""
        ledger.delete_contact(g.user, ledger.get_contact(g.user, contact_id))
        db.session.commit()


@blp.route("/contacts/<int:contact_id>/identities")
class ContactIdentities(MethodView):
    @blp.arguments(ContactIdentitiesSchema())
    @blp.response(200, ContactOutSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="An identity held by another contact")
    def post(self, data, contact_id):
        """Add identities to a contact (the person on screen is someone you know by another
        address); one it already holds changes nothing, one another contact holds is a 409."""
        contact = ledger.get_contact(g.user, contact_id)
        contact = ledger.add_identities(g.user, contact, data["identities"])
        db.session.commit()
        return ledger.contact_dict(contact, g.user)


@blp.route("/contacts/<int:contact_id>/merge")
class ContactMerge(MethodView):
    @blp.arguments(ContactMergeSchema())
    @blp.response(200, ContactOutSchema)
    def post(self, data, contact_id):
        """Merge another contact into this one: the same person, logged under two names.

        The other contact's identities and interactions move here, its notes are appended, and
        it is deleted; the tie is rebuilt from the merged history.
        """
        if data["contact_id"] == contact_id:
            abort(
                422,
                message="A contact cannot be merged into itself.",
                errors={"json": {"contact_id": ["Give another contact's id."]}},
            )
        into = ledger.get_contact(g.user, contact_id)
        other = ledger.get_contact(g.user, data["contact_id"])
        contact = ledger.merge_contacts(g.user, into, other)
        db.session.commit()
        return ledger.contact_dict(contact, g.user)


@blp.route("/contacts/<int:contact_id>/interactions")
class ContactInteractions(MethodView):
    @blp.arguments(InteractionPageArgsSchema(), location="query")
    @blp.response(200, InteractionListSchema)
    def get(self, args, contact_id):
        """The contact's interactions, newest first, `limit` (up to 500) at a time.

        The answer's `next`, passed back as `before`, gives the following page.
        """
        contact = ledger.get_contact(g.user, contact_id)
        return ledger.interaction_page(contact, args["limit"], args.get("before"))
