from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import text

from .. import __version__, database
from ..models import db
from ..schemas import HealthSchema

blp = Blueprint("health", __name__, url_prefix="/api/v1", description="Liveness")


@blp.route("/health", endpoint="health")
class Health(MethodView):
    @blp.doc(security=[])  # no token needed
    @blp.response(200, HealthSchema)
    def get(self):
        """Is the server up and its database reachable? Needs no token."""
        database.connection(db).execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__, "database": db.engine.dialect.name}
