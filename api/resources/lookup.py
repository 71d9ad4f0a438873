from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort

from .. import ledger
from ..identity import canonical
from ..schemas import LookupArgsSchema, LookupResultSchema
from .answers import json_answer

blp = Blueprint("lookup", __name__, url_prefix="/api/v1", description="The person on screen")


@blp.route("/lookup")
class Lookup(MethodView):
    @blp.arguments(LookupArgsSchema(), location="query")
    @blp.response(200, LookupResultSchema)
    def get(self, args):
        """The tie with the person behind a LinkedIn profile (URL or slug) or an email address.

        An unknown person gives `{"contact": null, "tie": null}`. A known one's answer also
        has `seq`: the changes feed's position it is as of (the tie reflects every change up to
        that seq, and the settings in force then).
        """
        kind = "linkedin" if "linkedin" in args else "email"
        try:
            value = canonical(kind, args[kind])
        except ValueError as exc:
            abort(422, message=str(exc), errors={"query": {kind: [str(exc)]}})
        data, seq = ledger.lookup(g.user, kind, value)
        if data is None:
            return json_answer({"contact": None, "tie": None})
        return json_answer({"contact": data, "tie": data["tie"], "seq": seq})
