from dataclasses import asdict, replace

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import update

from .. import ledger
from ..models import User, db
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
        user = ledger.lock_user(g.user)
        merged = dict(user.settings or {})
        for key, value in data.items():
            merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
        if ledger.model_settings(replace(user, settings=merged)) == ledger.model_settings(user):
            return asdict(ledger.model_settings(user))  # nothing changes: no rebuild, no entry
        users = User.__table__
        db.session.execute(update(users).where(users.c.id == user.id).values(settings=merged))
        user = replace(user, settings=merged)
        ledger.rebuild_user(user)  # which tells browsers in the changes feed
        db.session.commit()
        return asdict(ledger.model_settings(user))
