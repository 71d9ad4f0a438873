from dataclasses import asdict

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint

from .. import ledger
from ..models import db
from ..schemas import SettingsOutSchema, SettingsSchema

blp = Blueprint("settings", __name__, url_prefix="/api/v1", description="Scoring settings")


@blp.route("/settings")
class Settings(MethodView):
    @blp.response(200, SettingsOutSchema)
    def get(self):
        """The scoring model's settings in force for this user."""
        return asdict(ledger.model_settings(g.user))

    @blp.arguments(SettingsSchema())
    @blp.response(200, SettingsOutSchema)
    def patch(self, data):
        """Change weights, half-lives or per-kind defaults; every score is rebuilt."""
        ledger.lock_user(g.user)
        merged = dict(g.user.settings or {})
        for key, value in data.items():
            merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
        g.user.settings = merged
        ledger.rebuild_user(g.user)
        db.session.commit()
        return asdict(ledger.model_settings(g.user))
