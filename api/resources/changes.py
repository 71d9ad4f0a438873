from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from ..models import Change, db
from ..schemas import ChangesArgsSchema, ChangesSchema

blp = Blueprint("changes", __name__, url_prefix="/api/v1", description="The sync feed")


@blp.route("/changes")
class Changes(MethodView):
    @blp.arguments(ChangesArgsSchema(), location="query")
    @blp.response(200, ChangesSchema)
    def get(self, args):
        """Every write after `since`, in commit order; pass the returned `cursor` next time."""
        rows = db.session.scalars(
            select(Change)
            .where(Change.user_id == g.user.id, Change.seq > args["since"])
            .order_by(Change.seq)
            .limit(args["limit"] + 1)
        ).all()
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
