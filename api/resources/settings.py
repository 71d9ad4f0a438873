from dataclasses import asdict, replace

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import update

from .. import ledger, scoring
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
        """Change weights, half-lives or per-kind defaults; every score is rebuilt.

        Weights that are all zero (every score would be 0), or kind weights that are all zero
        (no interaction would count towards frequency), are a 422.
        """
        user = ledger.lock_user(g.user)
        merged = dict(user.settings or {})
        for key, value in data.items():
            merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
        _refuse_meaningless(ledger.model_settings(replace(user, settings=merged)))
        return _put_in_force(user, merged)

    @blp.response(200, SettingsOutSchema)
    def delete(self):
        """Go back to the default settings (docs/scoring.md); every score is rebuilt."""
        return _put_in_force(ledger.lock_user(g.user), {})


def _put_in_force(user, overrides: dict) -> dict:
    """Store the user's overrides; when that changes the settings in force, rebuild every
    score (which tells browsers in the changes feed). The caller holds the user lock."""
    users = User.__table__
    wanted = replace(user, settings=overrides)
    changed = ledger.model_settings(wanted) != ledger.model_settings(user)
    if overrides != (user.settings or {}):
        db.session.execute(update(users).where(users.c.id == user.id).values(settings=overrides))
        user = wanted
    if changed:  # the same settings in force: nothing to rescore, nothing in the feed
        ledger.rebuild_user(user)
    db.session.commit()
    return asdict(ledger.model_settings(user))


def _refuse_meaningless(settings: scoring.ModelSettings) -> None:
    problems = {}
    if not any(settings.weights.values()):
        problems["weights"] = ["At least one weight must be above 0: else every score is 0."]
    if not any(settings.kind_weights.values()):
        problems["kind_weights"] = [
            "At least one kind weight must be above 0: else no interaction counts towards "
            "frequency (set the frequency weight to 0 to leave it out)."
        ]
    if problems:
        abort(422, message="Invalid input", errors={"json": problems})
