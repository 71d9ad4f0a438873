from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select
from werkzeug.security import check_password_hash

from .. import auth
from ..models import User, db
from ..openapi import error
from ..schemas import PairResultSchema, PairSchema
from .devices import device_dict

blp = Blueprint("pair", __name__, url_prefix="/api/v1", description="Connecting a browser")

# Compared against when the username is unknown, so both paths take the same time.
_DUMMY_HASH = "scrypt:32768:8:1$abcdefghijklmnop$" + "0" * 128


@blp.route("/pair", endpoint="pair")
class Pair(MethodView):
    @blp.doc(security=[])  # no token needed
    @blp.arguments(PairSchema())
    @blp.response(201, PairResultSchema)
    @blp.alt_response(401, response=error(401))  # the code or password is not valid
    @blp.alt_response(429, response=error(429))
    def post(self, data):
        """Exchange a one-time pairing code (or a username and password) for a device token.

        Failed attempts are counted per client address; too many answer 429.
        """
        auth.check_pair_rate_limit()
        if "code" in data:
            user = auth.redeem_pairing_code(data["code"])
        else:
            user = db.session.scalar(select(User).where(User.username == data["username"]))
            stored = user.password_hash if user and user.password_hash else _DUMMY_HASH
            if not check_password_hash(stored, data["password"]) or not user:
                user = None
        if user is None:
            db.session.rollback()
            auth.record_pair_failure()
            abort(401, message="That pairing code or password is not valid (or has expired).")
        device, token = auth.create_device(user, data["device_name"])
        g.device = device
        db.session.commit()
        return {"token": token, "device": device_dict(device)}
