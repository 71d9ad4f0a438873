from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import func, select

from ..models import Change, db
from ..schemas import ChangesArgsSchema, ChangesSchema, ErrorSchema

blp = Blueprint("changes", __name__, url_prefix="/api/v1", description="The sync feed")


@blp.route("/changes")
class Changes(MethodView):
    @blp.arguments(ChangesArgsSchema(), location="query")
    @blp.response(200, ChangesSchema)
    @blp.alt_response(410, schema=ErrorSchema, description="`since` is past the newest change")
    def get(self, args):
        """Every write after `since`, in commit order; pass the returned `cursor` next time."""
        rows = db.session.scalars(
            select(Change)
            .where(Change.user_id == g.user.id, Change.seq > args["since"])
            .order_by(Change.seq)
            .limit(args["limit"] + 1)
        ).all()
        if not rows:
            _refuse_a_cursor_from_elsewhere(args["since"])
        page = rows[: args["limit"]]
        return {
            "changes": [
                {
                    "seq": c.seq,
                    "entity": c.entity,
                    "op": c.op,
                    "id": c.entity_id,
                    "at": c.at,
                    "device_id": c.device_id,
                    "data": c.data,
                }
                for c in page
            ],
            "cursor": page[-1].seq if page else args["since"],
            "has_more": len(rows) > args["limit"],
        }


def _refuse_a_cursor_from_elsewhere(since: int) -> None:
    """Every cursor this feed hands out is at most its newest seq. One beyond it comes from
    another ledger (a database restored from an older backup, or replaced): trusting it would
    skip every change until the feed caught up, so the client is told to start again (410, as
    sync APIs answer a sync token they no longer know)."""
    newest = db.session.scalar(select(func.max(Change.seq)).where(Change.user_id == g.user.id))
    if since > (newest or 0):
        reason = f"The cursor is past the newest change ({newest or 0})"
        abort(
            410,
            message=f"{reason}: this ledger was restored or replaced. Drop what you cached "
            "from the feed and read it again from since=0.",
            errors={"query": {"since": [f"{reason}."]}},
        )
